"""What every tracker is: reset per sequence (frame rate matters), updated per frame."""

from __future__ import annotations

from mot_bench.types import Detections, Frame, SeqInfo, Tracks


class Tracker:
    """Base class. ``needs_embeddings``: refuse detectors without re-ID features up front.
    ``motion_only``: uses boxes and scores only (run by default on the bundled sample)."""

    name = "base"
    needs_embeddings = False
    motion_only = True

    def reset(self, seq: SeqInfo) -> None:
        raise NotImplementedError

    def update(self, detections: Detections, frame: Frame) -> Tracks:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": self.name}
