"""The sequence's public detections (det/det.txt), or ``<det_dir>/<SEQ>.txt`` files; optionally the same
detector's looser-NMS run from ``<loose_det_dir>/<SEQ>.txt`` as each frame's ``Detections.loose``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.data.motfile import read_mot_file
from mot_bench.options import option
from mot_bench.plugins import Detector
from mot_bench.types import Detections, Frame, SeqInfo


def group_by_frame(rows: np.ndarray) -> dict[int, Detections]:
    """(N, 10) MOT rows -> per-frame Detections (tlwh converted to tlbr, column 7 as score)."""
    out: dict[int, Detections] = {}
    if not len(rows):
        return out
    frames = rows[:, 0].astype(np.int64)
    order = np.argsort(frames, kind="stable")
    rows, frames = rows[order], frames[order]
    for chunk in np.split(rows, np.flatnonzero(np.diff(frames)) + 1):
        tlbr = chunk[:, 2:6].copy()
        tlbr[:, 2:] += tlbr[:, :2]
        out[int(chunk[0, 0])] = Detections(tlbr, chunk[:, 6])
    return out


@dataclass
class PublicOptions:
    det_dir: str | None = option(None, "folder of <SEQ>.txt detection files (none: each sequence's det/det.txt)")
    min_score: float | None = option(None, "drop detections scoring below this (none: keep every detection)")
    loose_det_dir: str | None = option(None, "folder of <SEQ>.txt files of the same detector run with a looser NMS, "
                                             "handed to trackers as Detections.loose (TrackTrack's second set)")


class PublicDetector(Detector):
    """Public detections from text files; ``min_score`` drops weaker boxes (none by default,
    as SORT's published runs used every detection)."""

    name = "public"
    Options = PublicOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.det_dir = Path(self.options.det_dir) if self.options.det_dir else None
        self.loose_det_dir = Path(self.options.loose_det_dir) if self.options.loose_det_dir else None
        self._frames: dict[int, Detections] = {}
        self._loose: dict[int, Detections] | None = None

    def det_file(self, seq: SeqInfo) -> Path:
        return self.det_dir / f"{seq.name}.txt" if self.det_dir else seq.det_path

    def input_files(self, seq: SeqInfo) -> dict[str, Path]:
        files = {"det": self.det_file(seq)}
        if self.loose_det_dir is not None:
            files["looser-NMS det"] = self.loose_det_dir / f"{seq.name}.txt"
        return files

    def _read(self, path: Path, seq: SeqInfo) -> dict[int, Detections]:
        rows = read_mot_file(path, "det", seq_length=seq.length)
        if self.min_score is not None:
            rows = rows[rows[:, 6] >= self.min_score]
        return group_by_frame(rows)

    def reset(self, seq: SeqInfo) -> None:
        path = self.det_file(seq)
        if not path.is_file():
            where = f"--det-dir {self.det_dir}" if self.det_dir else f"sequence folder {seq.path}"
            raise FileNotFoundError(f"public detector: no detection file {path} ({where})")
        self._frames = self._read(path, seq)
        self._loose = None
        if self.loose_det_dir is not None:
            loose = self.loose_det_dir / f"{seq.name}.txt"
            if not loose.is_file():
                raise FileNotFoundError(f"public detector: no looser-NMS detection file {loose} (loose_det_dir)")
            self._loose = self._read(loose, seq)

    def __call__(self, frame: Frame) -> Detections:
        dets = self._frames.get(frame.frame_id) or Detections.empty()
        if self._loose is not None:
            dets = Detections(dets.tlbr, dets.scores, loose=self._loose.get(frame.frame_id) or Detections.empty())
        return dets
