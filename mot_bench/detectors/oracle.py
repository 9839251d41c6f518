"""Detections made from ground truth with seeded noise, for tracker-only studies.

Boxes are the gt boxes the official kit scores (``mot_bench.data.gt``, by the rule of the benchmark the
sequence was found as: MOT16/17/20, SportsMOT, DanceTrack consider flag non-zero and class 1; MOT15-style
gt: active flag non-zero), then: each box is missed with probability ``miss_rate``; kept boxes
are jittered by Gaussian noise of ``jitter`` x their size; ``fp_per_frame`` false positives
(Poisson mean) of plausible size are added; scores are 1 - ``score_noise`` x U(0,1) for true
boxes and U(0, ``fp_max_score``) for false ones. The same seed gives the same detections.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.data.gt import pedestrian_rows
from mot_bench.options import option
from mot_bench.plugins import Detector
from mot_bench.types import Detections, Frame, SeqInfo


@dataclass
class OracleOptions:
    jitter: float = option(0.0, "Gaussian box noise, as a fraction of the box size", bounds=(0.0, None))
    miss_rate: float = option(0.0, "probability that a gt box is missed", bounds=(0.0, 1.0))
    fp_per_frame: float = option(0.0, "mean number (Poisson) of false positives per frame", bounds=(0.0, None))
    score_noise: float = option(0.0, "true boxes score 1 - score_noise * U(0,1)", bounds=(0.0, None))
    fp_max_score: float = option(0.5, "false positives score U(0, fp_max_score)", bounds=(0.0, 1.0))
    seed: int = option(0, "random seed (the same seed gives the same detections)")
    with_embeddings: bool = option(False, "add embeddings: one random unit vector per gt id, plus noise")
    embedding_dim: int = option(128, "embedding length", bounds=(1, None))
    embedding_noise: float = option(0.1, "embedding noise scale", bounds=(0.0, None))


class OracleDetector(Detector):
    name = "oracle"
    Options = OracleOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.provides_embeddings = self.with_embeddings
        self._frames: dict[int, np.ndarray] = {}
        self._seq: SeqInfo | None = None

    def input_files(self, seq: SeqInfo) -> dict[str, Path]:
        return {"gt": seq.gt_path}

    def reset(self, seq: SeqInfo) -> None:
        if not seq.gt_path.is_file():
            raise FileNotFoundError(f"oracle detector: {seq.gt_path} not found (the oracle needs ground truth)")
        rows = pedestrian_rows(seq)
        self._frames = {}
        for r in rows:
            self._frames.setdefault(int(r[0]), []).append(r)
        self._seq = seq
        self._rng = np.random.default_rng([self.seed, zlib.crc32(seq.name.encode())])
        if self.with_embeddings:
            ids = np.unique(rows[:, 1]).astype(np.int64) if len(rows) else np.zeros(0, np.int64)
            base = self._rng.standard_normal((len(ids), self.embedding_dim))
            self._id_emb = dict(zip(ids.tolist(), base / np.linalg.norm(base, axis=1, keepdims=True), strict=True))

    def __call__(self, frame: Frame) -> Detections:
        rng = self._rng
        rows = np.asarray(self._frames.get(frame.frame_id, []), dtype=np.float64).reshape(-1, 10)
        rows = rows[rng.random(len(rows)) >= self.miss_rate]
        tlwh = rows[:, 2:6].copy()
        if self.jitter > 0 and len(tlwh):
            wh = np.repeat(tlwh[:, 2:], 2, axis=1)
            tlwh += rng.standard_normal(tlwh.shape) * self.jitter * wh
            tlwh[:, 2:] = np.maximum(tlwh[:, 2:], 1.0)
        scores = 1.0 - self.score_noise * rng.random(len(tlwh))
        emb = None
        if self.with_embeddings:
            emb = np.zeros((0, self.embedding_dim))
            if len(rows):
                emb = np.stack([self._id_emb[int(i)] for i in rows[:, 1]])
            emb = emb + self.embedding_noise * rng.standard_normal(emb.shape) / np.sqrt(self.embedding_dim)
        n_fp = rng.poisson(self.fp_per_frame) if self.fp_per_frame > 0 else 0
        if n_fp:
            seq = self._seq
            h = rng.uniform(0.1, 0.4, n_fp) * max(seq.height, 1)
            w = h * rng.uniform(0.3, 0.5, n_fp)
            x = rng.uniform(0, max(seq.width - 1, 1), n_fp)
            y = rng.uniform(0, max(seq.height - 1, 1), n_fp)
            tlwh = np.concatenate([tlwh, np.stack([x, y, w, h], axis=1)])
            scores = np.concatenate([scores, rng.uniform(0, self.fp_max_score, n_fp)])
            if emb is not None:
                fp_emb = rng.standard_normal((n_fp, self.embedding_dim))
                emb = np.concatenate([emb, fp_emb])
        if emb is not None and len(emb):
            emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
        tlbr = tlwh.copy()
        tlbr[:, 2:] += tlbr[:, :2]
        return Detections(tlbr, scores, emb if emb is not None else None)
