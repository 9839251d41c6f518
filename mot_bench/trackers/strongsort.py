"""StrongSORT (Du et al., TMM 2023), decision for decision as dyhBUPT/StrongSORT (``strong_sort.py``).

StrongSORT is a fork of deep_sort (the shared engine is :mod:`mot_bench.trackers.common.appearance`); its
``opts.py`` switches are this tracker's options, the paper's configuration (``--BoT --EMA --NSA --MC
--woC``) the default, all off its DeepSORT baseline. Rules of the official arithmetic and how we match them:

* thresholds from ``opts.py``: min_confidence 0.6 (``>=``), NMS 1.0, min height 0; max cosine distance
  0.4 with BoT features (0.3 without), + 0.05 with MC; gallery budget 1 with EMA (100 without);
* detection features are float64 (its ``Detection`` keeps them so), so cosine distances are float64;
  a track stores each feature divided by its norm (in place at birth), matching uses the raw feature;
* EMA: ``0.9 * last + 0.1 * new``, renormalised, the one feature a track keeps; the smoothed feature is
  handed to the gallery at the end of every frame while the track is confirmed (not cleared);
* NSA: the update's measurement std scaled by ``1 - confidence`` (gating keeps the plain noise);
* MC: after gating, ``0.98 * appearance + 0.02 * squared Mahalanobis`` (gated entries included), then
  the clip to threshold + 1e-5;
* woC: one assignment over every confirmed track instead of the cascade;
* the solver is scikit-learn 0.19's Munkres (``mot_bench.trackers.common.munkres``), whose tie-breaking differs
  from scipy's on clipped costs, so ids match the official ones;
* ECC (``ecc``): before the prediction, each track's corners are moved by the frame's camera warp and
  ``mean[:4]`` rewritten (covariance untouched); a warp farther than 100 (Frobenius) from the identity
  is replaced by the identity. With ``ecc`` on the tracker declares ``needs_camera_motion`` with
  ``cmc_method = "ecc_strongsort"`` (:mod:`mot_bench.trackers.common.cmc`: the official ``others/ecc.py`` ECC
  between consecutive frames at its fixed 0.1 scale; there is no ``cmc_downscale`` option), so the
  runner computes the warps from the decoded frames, caches them per sequence and hands each frame's
  as ``frame.camera_motion``; without one (no runner) the step is skipped. The split's first frame
  (and a pair ECC fails on) gets the identity, where the official ``camera_update`` skips frames
  missing from its json: the same boxes, as there are no tracks yet on the first frame (an identity
  only rounds ``mean[:4]`` through the corners). The official json pairs the files in
  ``os.listdir`` order (sorted on the Windows machine it was made on); here frame ``k - 1`` -> ``k``.
  Off by default: it needs images.

Output as DeepSORT (confirmed tracks with ``time_since_update <= 1``, Kalman box, score 1). AFLink is not
provided: it is a trained network whose published weights cannot be fetched here (say so rather than
guess); GSI is ``mot_bench.postprocess`` ``gsi``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mot_bench.options import option
from mot_bench.trackers.common.appearance import CascadeTracker, Switches
from mot_bench.types import Frame


@dataclass
class StrongSortOptions:
    bot: bool = option(True, "BoT features' thresholds: max cosine distance 0.4 (0.3 without)")
    ema: bool = option(True, "EMA feature bank: one smoothed feature per track (gallery budget 1, else 100)")
    nsa: bool = option(True, "NSA Kalman: update noise scaled by 1 - detection confidence")
    mc: bool = option(True, "motion cost: lambda * appearance + (1 - lambda) * Mahalanobis, max cosine + 0.05")
    woc: bool = option(True, "without cascade: one assignment over every confirmed track")
    ecc: bool = option(False, "camera-motion compensation: StrongSORT's ECC warps between consecutive frames "
                              "(computed by the runner from the images)")
    min_confidence: float = option(0.6, "drop detections scoring below this (a score equal to it is kept)",
                                   range=(0.1, 0.9), bounds=(0.0, 1.0))
    nms_max_overlap: float = option(1.0, "NMS overlap (1: none removed, detections reordered by score)",
                                    bounds=(0.0, 1.0))
    min_detection_height: float = option(0.0, "drop detections lower than this (pixels)", bounds=(0.0, None))
    max_cosine_distance: float | None = option(None, "appearance gate (none: as opts.py, 0.4 with bot else 0.3, "
                                                     "+ 0.05 with mc)", range=(0.1, 0.6), bounds=(0.0, 2.0))
    nn_budget: int | None = option(None, "features per gallery (none: 1 with ema, else 100)", bounds=(1, None))
    max_iou_distance: float = option(0.7, "IoU stage: largest 1 - IoU of a match", range=(0.3, 0.95),
                                     bounds=(0.0, 1.0))
    max_age: int = option(30, "frames a confirmed track survives without a match", range=(10, 120), bounds=(1, None))
    n_init: int = option(3, "hits before a track is confirmed", range=(1, 6), bounds=(1, None))
    ema_alpha: float = option(0.9, "EMA weight of the track's feature", range=(0.5, 0.99), bounds=(0.0, 1.0))
    mc_lambda: float = option(0.98, "MC weight of the appearance cost", range=(0.8, 1.0), bounds=(0.0, 1.0))


class StrongSortTracker(CascadeTracker):
    """DeepSORT with StrongSORT's switches (BoT thresholds, EMA, NSA, MC, woC, ECC)."""

    name = "strongsort"
    Options = StrongSortOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if o.max_cosine_distance is None:  # as opts.py derives it
            self.max_cosine_distance = (0.4 if o.bot else 0.3) + (0.05 if o.mc else 0.0)
        if o.nn_budget is None:
            self.nn_budget = 1 if o.ema else 100
        self.switches = Switches(
            feature_dtype=np.float64, normalize_features=True, ema_alpha=o.ema_alpha if o.ema else None,
            nsa=o.nsa, mc_lambda=o.mc_lambda if o.mc else None, cascade=not o.woc, solver="munkres",
        )

    cmc_method = "ecc_strongsort"  # StrongSORT's own ECC, at its fixed 0.1 scale

    @property
    def needs_camera_motion(self) -> bool:  # the runner reads it per instance: warps only with ecc on
        return bool(self.ecc)

    def config(self) -> dict:
        return {**super().config(), "max_cosine_distance": self.max_cosine_distance, "nn_budget": self.nn_budget}

    def before_predict(self, frame: Frame | None) -> None:
        warp = None if frame is None or not self.ecc else getattr(frame, "camera_motion", None)
        if warp is None:
            return
        matrix = np.eye(3)
        matrix[: np.shape(warp)[0], :] = warp
        if np.linalg.norm(np.eye(3) - matrix) >= 100:
            matrix = np.eye(3)
        for t in self.tracks:
            x1, y1, w, h = t.tlwh()
            x2, y2 = x1 + w, y1 + h
            x1_, y1_, _ = matrix @ np.array([x1, y1, 1]).T
            x2_, y2_, _ = matrix @ np.array([x2, y2, 1]).T
            w_, h_ = x2_ - x1_, y2_ - y1_
            t.mean[:4] = [x1_ + w_ / 2, y1_ + h_ / 2, w_ / h_, h_]
