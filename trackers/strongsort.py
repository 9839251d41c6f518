"""StrongSORT (Du et al., TMM 2023), decision for decision as dyhBUPT/StrongSORT (``strong_sort.py``).

StrongSORT is a fork of deep_sort (the shared engine is :mod:`trackers.common.appearance`); its
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
* the solver is scikit-learn 0.19's Munkres (``trackers.common.munkres``), whose tie-breaking differs
  from scipy's on clipped costs, so ids match the official ones;
* ECC (``ecc``): before the prediction, each track's corners are moved by the frame's camera warp and
  ``mean[:4]`` rewritten (covariance untouched); a warp farther than 100 (Frobenius) from the identity
  is ignored. It needs the camera motion the runner hands over per frame (``frame.camera_motion``);
  without one the step is skipped. Off by default: it needs images.

Output as DeepSORT (confirmed tracks with ``time_since_update <= 1``, Kalman box, score 1). AFLink is not
provided: it is a trained network whose published weights cannot be fetched here (say so rather than
guess); GSI is ``mot_bench.postprocess`` ``gsi``.
"""

from __future__ import annotations

import numpy as np

from mot_bench.types import Frame
from trackers.common.appearance import CascadeTracker, Switches

EMA_ALPHA = 0.9
MC_LAMBDA = 0.98


class StrongSortTracker(CascadeTracker):
    """DeepSORT with StrongSORT's switches (BoT thresholds, EMA, NSA, MC, woC, ECC)."""

    name = "strongsort"
    SEARCH_SPACE = {
        "min_confidence": (0.1, 0.9),
        "max_cosine_distance": (0.1, 0.6),
        "max_iou_distance": (0.3, 0.95),
        "max_age": (10, 120),
        "n_init": (1, 6),
        "ema_alpha": (0.5, 0.99),
        "mc_lambda": (0.8, 1.0),
    }

    def __init__(
        self,
        bot: bool = True,
        ema: bool = True,
        nsa: bool = True,
        mc: bool = True,
        woc: bool = True,
        ecc: bool = False,
        min_confidence: float = 0.6,
        nms_max_overlap: float = 1.0,
        min_detection_height: float = 0.0,
        max_cosine_distance: float | None = None,
        nn_budget: int | None = None,
        max_iou_distance: float = 0.7,
        max_age: int = 30,
        n_init: int = 3,
        ema_alpha: float = EMA_ALPHA,
        mc_lambda: float = MC_LAMBDA,
    ) -> None:
        self.bot, self.ema, self.nsa, self.mc, self.woc, self.ecc = bot, ema, nsa, mc, woc, ecc
        self.ema_alpha, self.mc_lambda = float(ema_alpha), float(mc_lambda)
        if max_cosine_distance is None:  # as opts.py derives it
            max_cosine_distance = 0.4 if bot else 0.3
            if mc:
                max_cosine_distance += 0.05
        if nn_budget is None:
            nn_budget = 1 if ema else 100
        self.switches = Switches(
            feature_dtype=np.float64, normalize_features=True, ema_alpha=self.ema_alpha if ema else None,
            nsa=nsa, mc_lambda=self.mc_lambda if mc else None, cascade=not woc, solver="munkres",
        )
        super().__init__(min_confidence=min_confidence, nms_max_overlap=nms_max_overlap,
                         min_detection_height=min_detection_height, max_cosine_distance=max_cosine_distance,
                         nn_budget=nn_budget, max_iou_distance=max_iou_distance, max_age=max_age, n_init=n_init)

    def config(self) -> dict:
        return {"name": self.name, "bot": self.bot, "ema": self.ema, "nsa": self.nsa, "mc": self.mc,
                "woc": self.woc, "ecc": self.ecc, "min_confidence": self.min_confidence,
                "nms_max_overlap": self.nms_max_overlap, "min_detection_height": self.min_detection_height,
                "max_cosine_distance": self.max_cosine_distance, "nn_budget": self.nn_budget,
                "max_iou_distance": self.max_iou_distance, "max_age": self.max_age, "n_init": self.n_init,
                "ema_alpha": self.ema_alpha, "mc_lambda": self.mc_lambda}

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
