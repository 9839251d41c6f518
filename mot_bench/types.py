"""The contracts every detector, tracker and the runner share (see ../shared/DESIGN.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def _float_array(values) -> np.ndarray:
    """float64 stays float64 (boxes read from text or .npy files, as the official trackers read them);
    anything else becomes float32 (a network's output)."""
    arr = np.asarray(values)
    return arr if arr.dtype == np.float64 else arr.astype(np.float32)


@dataclass
class Detections:
    """Detections of one frame, in original image pixels.

    ``tlbr`` is (N, 4) x1, y1, x2, y2 and ``scores`` (N,): float32 from a network, float64 when the
    detector read them from a file (the precision the official trackers see there); ``embeddings``
    (N, D) L2-normalised, same rule for the precision, or None when the detector has no re-ID branch.
    ``loose``: the same detector's output for the same frame under a looser NMS (more overlapping boxes
    survive), when the detector made that second run (``public``/``precomputed`` with ``loose_det_dir``);
    None otherwise. TrackTrack tracks these boxes and can still match, at a cost, the ones only the looser
    run kept (boxes of people occluded by another).
    """

    tlbr: np.ndarray
    scores: np.ndarray
    embeddings: np.ndarray | None = None
    classes: np.ndarray | None = None
    loose: Detections | None = None

    def __post_init__(self) -> None:
        self.tlbr = _float_array(self.tlbr).reshape(-1, 4)
        self.scores = _float_array(self.scores).reshape(-1)
        if len(self.scores) != len(self.tlbr):
            raise ValueError(f"Detections: {len(self.tlbr)} boxes but {len(self.scores)} scores")
        if self.embeddings is not None:
            self.embeddings = _float_array(self.embeddings)
            if self.embeddings.ndim != 2 or len(self.embeddings) != len(self.tlbr):
                raise ValueError(
                    f"Detections: embeddings must be (N={len(self.tlbr)}, D), got {self.embeddings.shape}"
                )
        if self.classes is not None:
            self.classes = np.asarray(self.classes).reshape(-1)
        if self.loose is not None and self.loose.loose is not None:
            raise ValueError("Detections: the looser-NMS set cannot carry a set of its own")

    @classmethod
    def empty(cls, embedding_dim: int | None = None) -> Detections:
        emb = None if embedding_dim is None else np.zeros((0, embedding_dim), np.float32)
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32), emb)

    def __len__(self) -> int:
        return len(self.tlbr)

    def select(self, keep: np.ndarray) -> Detections:
        """The subset picked by a boolean mask or an index array (the looser-NMS set, another run's
        output, is carried unchanged)."""
        return Detections(
            self.tlbr[keep],
            self.scores[keep],
            None if self.embeddings is None else self.embeddings[keep],
            None if self.classes is None else self.classes[keep],
            self.loose,
        )

    def as_float32(self) -> Detections:
        """Boxes and scores in float32, as a network (YOLOX, FairMOT) hands them to the trackers fed by it
        (the looser-NMS set too)."""
        loose = None if self.loose is None else self.loose.as_float32()
        if self.tlbr.dtype == np.float32 and self.scores.dtype == np.float32 and loose is self.loose:
            return self
        return Detections(self.tlbr.astype(np.float32), self.scores.astype(np.float32), self.embeddings,
                          self.classes, loose)

    @property
    def tlwh(self) -> np.ndarray:
        out = self.tlbr.copy()
        out[:, 2:] -= out[:, :2]
        return out


@dataclass
class Tracks:
    """What a tracker reports for one frame: boxes (tlbr, image pixels), ids (>=1), scores."""

    tlbr: np.ndarray
    ids: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        self.tlbr = np.asarray(self.tlbr, dtype=np.float64).reshape(-1, 4)
        self.ids = np.asarray(self.ids, dtype=np.int64).reshape(-1)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        if not (len(self.tlbr) == len(self.ids) == len(self.scores)):
            raise ValueError("Tracks: tlbr, ids and scores must have the same length")

    @classmethod
    def empty(cls) -> Tracks:
        return cls(np.zeros((0, 4)), np.zeros((0,), np.int64), np.zeros((0,)))

    @classmethod
    def from_list(cls, rows: list[tuple[np.ndarray, int, float]]) -> Tracks:
        """Build from (tlbr, id, score) triples; keeps an empty list cheap."""
        if not rows:
            return cls.empty()
        return cls(np.stack([r[0] for r in rows]), [r[1] for r in rows], [r[2] for r in rows])

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class SeqInfo:
    """One sequence: where it lives and what seqinfo.ini (or inference) says about it.

    ``first_frame``/``last_frame`` delimit the frames of the chosen split (1-based, inclusive);
    for ``train``/``test`` they are 1 and ``length``. ``image_digits``: frame numbers in image names are
    zero-padded to this width (6 in MOTChallenge, 8 in DanceTrack; from the benchmark's declaration).
    ``benchmark``: the declared benchmark the sequence was found as (``mot_bench.data.benchmarks``), whose
    gt rule applies to it; None when it was found without one (the rule is then inferred from its gt).
    """

    name: str
    path: Path
    length: int
    width: int
    height: int
    fps: float
    im_dir: str = "img1"
    im_ext: str = ".jpg"
    first_frame: int = 1
    last_frame: int = 0
    inferred: list[str] = field(default_factory=list)
    image_digits: int = 6
    benchmark: str | None = None

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if self.last_frame == 0:
            self.last_frame = self.length

    @property
    def frame_ids(self) -> range:
        return range(self.first_frame, self.last_frame + 1)

    @property
    def num_frames(self) -> int:
        return self.last_frame - self.first_frame + 1

    def image_path(self, frame_id: int) -> Path:
        return self.path / self.im_dir / f"{frame_id:0{self.image_digits}d}{self.im_ext}"

    @property
    def gt_path(self) -> Path:
        return self.path / "gt" / "gt.txt"

    @property
    def det_path(self) -> Path:
        return self.path / "det" / "det.txt"


@dataclass
class Frame:
    """One frame handed to a detector. ``image`` is BGR uint8 (H, W, 3), or None when the
    detector declared it does not need pixels (so nothing was decoded). ``camera_motion`` is the
    2x3 float64 affine warp from the previous frame's pixels to this one's, for trackers that
    declare ``needs_camera_motion`` (None when not computed)."""

    seq: SeqInfo
    frame_id: int
    image: np.ndarray | None = None
    camera_motion: np.ndarray | None = None
