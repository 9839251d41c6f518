"""The two plugin kinds: a detector turns a frame into Detections, a tracker turns Detections into Tracks.

Plugins (``detectors/``, ``trackers/``, third-party entry points) subclass these; they may import only
the harness's ground modules (types, plugins, options, runtime, timing, data, metrics.fields).
"""

from __future__ import annotations

from mot_bench.runtime import Runtime
from mot_bench.timing import NullTimer, StageTimer
from mot_bench.types import Detections, Frame, SeqInfo, Tracks


class Detector:
    """Base class. Subclasses set the class attributes and implement ``__call__``.

    ``needs_images``: the runner decodes frames only for detectors that look at pixels.
    ``provides_embeddings``: trackers that need re-ID features check this before a run.
    ``timer``: the runner attaches its :class:`StageTimer`; split your work into its stages.
    ``runtime``: the run's :class:`~mot_bench.runtime.Runtime` (device, precision, channels_last,
    threads). The runner sets this attribute after construction and before the first ``reset``,
    ``config`` or frame, and does not change it afterwards; read it lazily (e.g. when the network
    is first built) rather than in ``__init__``. Never take a device or precision option of your own:
    the runner refuses ``device``/``fp16``/``precision``/``channels_last``/``threads`` options.
    Default (outside the runner): ``Runtime()``, CPU and float32.
    ``batch_size``: frames the runner hands to :meth:`detect_frames` at once (trackers never feed
    back into detection here, so batching does not change results).
    """

    name = "base"
    needs_images = False
    provides_embeddings = False
    batch_size = 1
    runtime: Runtime = Runtime()  # frozen, so one shared default is safe; the runner sets the run's own

    def __init__(self) -> None:
        self.timer: StageTimer = NullTimer()

    def reset(self, seq: SeqInfo) -> None:
        """Called before the first frame of each sequence."""

    def __call__(self, frame: Frame) -> Detections:
        raise NotImplementedError

    def detect_frames(self, frames: list[Frame]) -> list[Detections]:
        """Detections of several frames; override to batch the work."""
        return [self(f) for f in frames]

    def config(self) -> dict:
        """Everything needed to repeat this detector's output (written to the run's config)."""
        return {"name": self.name}


class Tracker:
    """Base class: reset per sequence (frame rate matters), updated per frame.

    ``needs_embeddings``: refuse detectors without re-ID features up front.
    ``motion_only``: uses boxes and scores only (run by default on the bundled sample).
    """

    name = "base"
    needs_embeddings = False
    motion_only = True

    def reset(self, seq: SeqInfo) -> None:
        raise NotImplementedError

    def update(self, detections: Detections, frame: Frame) -> Tracks:
        raise NotImplementedError

    def config(self) -> dict:
        return {"name": self.name}
