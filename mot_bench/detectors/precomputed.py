"""Replay detections (with embeddings) stored in the deep_sort convention.

One ``<SEQ>.npy`` per sequence; each row is the 10 MOTChallenge columns
``frame, -1, x, y, w, h, score, -1, -1, -1`` followed by the embedding. ``loose_det_dir`` adds the same
detector's looser-NMS run (same layout) as each frame's ``Detections.loose``. The FairMOT detection
cache writes the same files, so a cached network run and a deep_sort feature file replay alike.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.atomic import atomic_write
from mot_bench.options import option
from mot_bench.plugins import Detector
from mot_bench.types import Detections, Frame, SeqInfo


class PrecomputedFormatError(ValueError):
    pass


def load_npy(path: str | Path, min_score: float = -np.inf) -> dict[int, Detections]:
    """Read a deep_sort-style array into per-frame Detections (embeddings re-normalised)."""
    path = Path(path)
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise PrecomputedFormatError(f"{path}: cannot read as a .npy array: {exc}") from None
    if arr.ndim != 2 or arr.shape[1] < 10:
        raise PrecomputedFormatError(
            f"{path}: expected a 2-D array with 10 MOTChallenge columns then the embedding, got shape {arr.shape}"
        )
    if not np.isfinite(arr[:, :10]).all():
        row = int(np.flatnonzero(~np.isfinite(arr[:, :10]).all(axis=1))[0])
        raise PrecomputedFormatError(f"{path}: row {row} has a NaN or infinite value in its first 10 columns")
    bad = np.flatnonzero((arr[:, 4] < 0) | (arr[:, 5] < 0) | (arr[:, 0] < 1))
    if len(bad):
        raise PrecomputedFormatError(f"{path}: row {int(bad[0])}: expected frame >= 1 and width, height >= 0")
    arr = arr[arr[:, 6] >= min_score]
    dim = arr.shape[1] - 10
    out: dict[int, Detections] = {}
    frames = arr[:, 0].astype(np.int64)
    order = np.argsort(frames, kind="stable")
    arr, frames = arr[order], frames[order]
    bounds = np.flatnonzero(np.diff(frames)) + 1
    for chunk in np.split(arr, bounds):
        if not len(chunk):
            continue
        tlbr = chunk[:, 2:6].copy()
        tlbr[:, 2:] += tlbr[:, :2]
        emb = None
        if dim:
            emb = chunk[:, 10:]  # the file's precision (deep_sort writes float64, our cache float32)
            norms = np.linalg.norm(emb, axis=1, keepdims=True)
            emb = emb / np.maximum(norms, 1e-12)
        out[int(chunk[0, 0])] = Detections(tlbr, chunk[:, 6], emb)
    return out


def save_npy(path: str | Path, per_frame: dict[int, Detections], dtype: type = np.float32) -> None:
    """Write per-frame Detections in the deep_sort convention, atomically, as ``dtype`` (float32: a
    network's precision; float64 keeps boxes read from text files exact)."""
    rows = []
    dims = {d.embeddings.shape[1] for d in per_frame.values() if d.embeddings is not None}
    if len(dims) > 1:
        raise ValueError(f"embeddings of different sizes {sorted(dims)} cannot share one file")
    dim = dims.pop() if dims else 0
    for fid in sorted(per_frame):
        d = per_frame[fid]
        n = len(d)
        if n == 0:
            continue
        block = np.full((n, 10 + dim), -1.0, dtype)
        block[:, 0] = fid
        tlwh = d.tlwh
        block[:, 2:6] = tlwh
        block[:, 6] = d.scores
        if dim:
            block[:, 10:] = d.embeddings
        rows.append(block)
    arr = np.concatenate(rows) if rows else np.zeros((0, 10 + dim), dtype)
    buf = io.BytesIO()
    np.save(buf, arr)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()), mode="wb")


@dataclass
class PrecomputedOptions:
    det_dir: str | None = option(None, "folder of <SEQ>.npy files: 10 MOT columns then the embedding (required)")
    min_score: float = option(-1e9, "drop detections scoring below this")
    loose_det_dir: str | None = option(None, "folder of <SEQ>.npy files (same layout) of the same detector run with "
                                             "a looser NMS, handed to trackers as Detections.loose (TrackTrack)")


class PrecomputedDetector(Detector):
    """Detections and embeddings from ``<det_dir>/<SEQ>.npy`` (deep_sort convention)."""

    name = "precomputed"
    Options = PrecomputedOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.options.det_dir:
            raise ValueError("the precomputed detector needs --det-dir DIR holding <SEQ>.npy files")
        self.det_dir = Path(self.options.det_dir)
        self.loose_det_dir = Path(self.options.loose_det_dir) if self.options.loose_det_dir else None
        self._frames: dict[int, Detections] = {}
        self._loose: dict[int, Detections] | None = None
        self._dim: int | None = None
        self.provides_embeddings = True

    def reset(self, seq: SeqInfo) -> None:
        path = self.det_dir / f"{seq.name}.npy"
        if not path.is_file():
            raise FileNotFoundError(f"precomputed detector: {path} not found (expected one <SEQ>.npy per sequence)")
        self._frames = load_npy(path, self.min_score)
        width = np.load(path, mmap_mode="r").shape[1]
        self._dim = width - 10 if width > 10 else None
        self.provides_embeddings = self._dim is not None
        self._loose = None
        if self.loose_det_dir is not None:
            loose = self.loose_det_dir / f"{seq.name}.npy"
            if not loose.is_file():
                raise FileNotFoundError(f"precomputed detector: looser-NMS file {loose} not found (loose_det_dir)")
            if np.load(loose, mmap_mode="r").shape[1] != width:
                raise PrecomputedFormatError(f"{loose}: {np.load(loose, mmap_mode='r').shape[1]} columns, but "
                                             f"{path} has {width}; the looser-NMS run needs the same layout")
            self._loose = load_npy(loose, self.min_score)

    def __call__(self, frame: Frame) -> Detections:
        dets = self._frames.get(frame.frame_id) or Detections.empty(self._dim)
        if self._loose is not None:
            dets = Detections(dets.tlbr, dets.scores, dets.embeddings,
                              loose=self._loose.get(frame.frame_id) or Detections.empty(self._dim))
        return dets
