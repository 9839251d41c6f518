"""OC-SORT (Cao et al., CVPR 2023), decision for decision as noahcao/OC_SORT @ 8462e7e
(``trackers/ocsort_tracker/{ocsort,association,kalmanfilter}.py`` driven by
``yolox/evaluators/mot_evaluator.py::evaluate_ocsort``).

Per frame: Kalman-predict every track; split the detections into high (score > ``det_thresh``) and
low (0.1 < score < ``det_thresh``; only used with ``use_byte``); then three rounds of association:

1. high detections vs. predicted boxes: IoU plus the *observation-centric momentum* term (OCM): for
   each track, the direction from an observation ``delta_t`` frames back (the oldest one within
   ``delta_t`` frames, else its newest) to each detection is compared with the track's own direction
   of motion; ``(pi/2 - angle) / pi * inertia * det score`` is added to the IoU. Assignment by
   ``lap.lapjv`` on the negated sum; pairs with IoU < ``iou_threshold`` are dropped.
2. (``use_byte``) low detections vs. the still unmatched tracks' predictions (``asso_func``).
3. *Observation-centric recovery* (OCR): remaining high detections vs. the remaining tracks' *last
   observations* (``asso_func``), not their predictions.

Unmatched tracks get an empty update; unmatched high detections start tracks. A track re-found after
a gap gets *observation-centric re-update* (ORU): its filter is rewound to the frame it was lost and
re-run along a straight virtual trajectory of boxes from its last observation to the new one, then
updated with the new box as usual.

Rules of the official arithmetic that are easy to miss, and how this file keeps them:

* Detections are float32 (the evaluator hands YOLOX's float32 tensor over) and the filter is float64;
  numpy's promotion decides which sums are float32. Box-to-measurement conversion, direction
  vectors and the last-observation IoU of round 3 are float32 arithmetic;
  rounds 1 and 2 mix float32 detection areas with float64 predictions. Which dtype a per-frame array
  has depends on *all* tracks: the last observations (round 3) and the ``delta_t`` observations
  (OCM) are float32 only while every track has one (a new track's ``[-1]*5`` placeholder turns the
  array float64), the velocities only while every track has one. We build those arrays from the same
  kinds of objects, so numpy makes the same choices (:mod:`mot_bench.trackers.common.association` never casts).
* Thresholds are Python floats compared with float32 scores (numpy 2 converts the float to float32):
  a score of exactly 0.6 is neither high (> 0.6) nor low (< 0.6), and 0.1 is not low.
* ``asso_func`` is used by rounds 2 and 3 only; round 1 is always plain IoU (as at 8462e7e).
* Round 1 skips the solver when no row and no column of ``IoU > iou_threshold`` has more than one
  entry (and some pair is above): it then matches on IoU alone, and the OCM term plays no part.
  After any solver call a pair is dropped only when its similarity is strictly below the threshold.
  Rounds 2 and 3 run only when the largest similarity exceeds the threshold. Unmatched detections
  keep the official order (never-assigned ones sorted, then the dropped pairs in solver row order),
  which decides new ids.
* Assignment is ``lap.lapjv(extend_cost=True)`` on the negated similarity, as upstream calls it when
  ``lap`` is installed (its scipy fallback gave the same rows on all seven MOT17 half-val sequences).
* The Kalman filter is the official filterpy-derived one (x, y, area, aspect ratio and three
  velocities; R = diag(1, 1, 10, 10), P0 = diag(10 x4, 1e4 x3), Q = diag(1 x4, .01, .01, 1e-4)).
  Products with the 0/1 matrices F and H are exact, so they are slices here (bit-identical); the
  other products make the same BLAS calls on the same layouts, so the state stays bit-identical.
  Before predicting, a negative area velocity that would make the area non-positive is zeroed.
* ORU follows the official freeze/unfreeze: the first empty update after an observation saves
  (x, P) as they were *after that frame's prediction*; the next observation restores them and
  alternates update/predict along boxes interpolated linearly in (x, y, w, h) from the last
  non-empty history entry (which may itself be a virtual box of an earlier ORU) to the new box, the
  last of which stands in for it in the history; the real box is then applied once more. The start
  and end sizes are float32, the steps float64 (upstream divides by a numpy int64 gap), so the
  virtual boxes are float64. A track missed before its first observation gets no ORU.
* A track's direction (velocity) is only updated when its previous ``last_observation.sum()`` (all five
  numbers, score included, in float32) is >= 0; the output uses the Kalman state instead of the last
  observation when that sum is < 0. A new track's placeholder sums to -5, so a track is written from
  its Kalman state in its birth frame (only possible in the first ``min_hits`` frames), with the
  1e-6 that ``h + 1e-6`` in the aspect ratio leaves in the height.
* Output: tracks with ``time_since_update < 1`` and (``hit_streak >= min_hits`` or
  ``frame_count <= min_hits``), newest track first, id + 1 (ids of tracks that never get confirmed
  are used up too); then the evaluator's filter: w*h > ``min_box_area`` and not w/h >
  ``aspect_ratio_thresh`` (100 and 1.6 in the MOT17 evaluator). Tracks missed for more than
  ``max_age`` frames are dropped after the output.
* The evaluator calls the tracker only when the detector returned something: a frame without
  detections does not advance the tracker (frame count, ages, predictions) unless
  ``skip_empty_frames`` is False. (YOLOX's postprocess drops scores < 0.1 before that test.)

The score column of a written row is the score of the track's latest detection.
Speed: predictions and predicted boxes of all tracks are computed at once, and the filter updates of
one association round as one stack (``np.matmul``/``np.linalg.inv`` on a stack run the same BLAS and
LAPACK calls per matrix as ``np.dot``/``inv`` on one: states stay bit-identical, checked per frame);
everything that decides a match stays in the official arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np

from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.trackers.common.association import ASSOCIATION_FUNCS
from mot_bench.trackers.common.ocsort_core import NO_OBS as _NO_OBS
from mot_bench.trackers.common.ocsort_core import NO_VEL as _NO_VEL
from mot_bench.trackers.common.ocsort_core import direction as _direction
from mot_bench.trackers.common.ocsort_core import (
    first_round,
    kf_predict,
    kf_update,
    momentum,
    output_filter,
    previous_obs,
    recovery_pairs,
    virtual_measurements,
)
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

_LOW_SCORE = 0.1  # fixed in the official tracker

_R = np.eye(4)
_R[2:, 2:] *= 10.0
_P0 = np.eye(7)
_P0[4:, 4:] *= 1000.0
_P0 *= 10.0
_Q = np.eye(7)
_Q[-1, -1] *= 0.01
_Q[4:, 4:] *= 0.01


def _tlbr_to_z(tlbr: np.ndarray) -> np.ndarray:
    """(N, 4) boxes -> (N, 4, 1) measurements centre x, y, area, w / (h + 1e-6), in the boxes' dtype."""
    w = tlbr[:, 2] - tlbr[:, 0]
    h = tlbr[:, 3] - tlbr[:, 1]
    z = np.stack([tlbr[:, 0] + w / 2.0, tlbr[:, 1] + h / 2.0, w * h, w / (h + 1e-6)], axis=1)
    return z[:, :, None]


def _state_to_tlbr(x: np.ndarray) -> np.ndarray:
    """(T, 7, 1) states -> (T, 4) float64 boxes (w = sqrt(s r), h = s / w)."""
    cx, cy, s, r = x[:, 0, 0], x[:, 1, 0], x[:, 2, 0], x[:, 3, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.sqrt(s * r)
        h = s / w
    return np.stack([cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0], axis=1)


def _kf_predict(x: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Constant-velocity prediction of (T, 7, 1) states and (T, 7, 7) covariances: F x, F P F' + Q
    with F adding each velocity to its position (x, y, area) — the same sums ``np.dot`` makes."""
    return kf_predict(x, P, _Q, 3)


def _kf_update(x: np.ndarray, P: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Measurement update of (K, 7, 1) states and (K, 7, 7) covariances with (K, 4, 1) measurements,
    Joseph form, in the official order of operations (:func:`~mot_bench.trackers.common.ocsort_core.kf_update`)."""
    return kf_update(x, P, z, _R)


def _virtual_trajectory_update(
    x: np.ndarray, P: np.ndarray, start: np.ndarray, end: np.ndarray, steps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ORU: from the frozen (1, 7, 1) x and (1, 7, 7) P, update with ``steps`` boxes on the straight
    line in (x, y, w, h) from measurement ``start`` (excluded) to ``end``, predicting between them.
    Returns the new (x, P) and the last virtual measurement."""
    boxes = virtual_measurements(start, end, steps)
    for step, box in enumerate(boxes, start=1):
        x, P = _kf_update(x, P, box[None])
        if step < steps:
            x, P = _kf_predict(x, P)
    return x, P, boxes[-1]


class _OCTrack:
    """One object's bookkeeping; its filter state lives in the tracker's stacked arrays."""

    __slots__ = (
        "id", "time_since_update", "hits", "hit_streak", "age", "last_obs", "last_obs_sum",
        "observations", "velocity", "score", "observed", "frozen", "n_updates", "anchor",
    )

    def __init__(self, track_id: int, score: float) -> None:
        self.id = track_id
        self.time_since_update = 0
        self.hits = 0
        self.hit_streak = 0
        self.age = 0
        self.last_obs = _NO_OBS
        self.last_obs_sum = -5
        self.observations: dict[int, np.ndarray] = {}
        self.velocity: np.ndarray | None = None
        self.score = score
        # Filter history, as far as ORU needs it: whether the last update had a box, the (x, P)
        # saved at the first empty update after one, the number of updates so far, and the last
        # update that had a box (its index and measurement).
        self.observed = False
        self.frozen: tuple[np.ndarray, np.ndarray] | None = None
        self.n_updates = 0
        self.anchor: tuple[int, np.ndarray] | None = None

    def previous_obs(self, delta_t: int) -> np.ndarray:
        """The observation ``delta_t`` frames back, else the closest later one, else the newest."""
        return previous_obs(self.observations, self.age, self.last_obs, delta_t)


@dataclass
class OCSortOptions:
    preset: Literal["mot17", "mot20"] = option(
        "mot17", "named defaults: mot17 = the MOT17 evaluation (utils/args.py), mot20 = docs/GET_STARTED.md's MOT20 "
        "command (run_ocsort.py --track_thresh 0.4 --mot20: det_thresh 0.4); options given explicitly override it")
    det_thresh: float = option(0.6, "first round: detections scoring above this; new tracks too",
                               range=(0.3, 0.8), bounds=(0.0, 1.0))
    iou_threshold: float = option(0.3, "association threshold (pairs below it are dropped)", range=(0.1, 0.5),
                                  bounds=(0.0, 1.0))
    asso_func: Literal["iou", "giou", "diou", "ciou", "ct_dist"] = option(
        "iou", "similarity of the BYTE and recovery rounds (the first round is always IoU)")
    delta_t: int = option(3, "frames back for the observation-centric momentum", range=(1, 5), bounds=(0, None))
    inertia: float = option(0.2, "weight of the velocity-direction consistency", range=(0.0, 0.5),
                            bounds=(0.0, None))
    max_age: int = option(30, "frames a track survives without a match", range=(10, 60), bounds=(0, None))
    min_hits: int = option(3, "hits before a track is reported (after the first min_hits frames)",
                           range=(1, 5), bounds=(0, None))
    use_byte: bool = option(False, "BYTE round on low-score detections (0.1 < score < det_thresh)")
    min_box_area: float = option(100.0, "output filter of the evaluation script: w*h > this", bounds=(0.0, None))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               bounds=(0.0, None))
    skip_empty_frames: bool = option(True, "frames without detections do not advance the tracker (as the "
                                           "official evaluator, which skips them)")

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {"mot17": {}, "mot20": {"det_thresh": 0.4}}


class OCSortTracker(Tracker):
    """OC-SORT with the defaults of its MOT17 evaluation (``tools/run_ocsort.py`` / ``utils/args.py``)."""

    name = "ocsort"
    needs_embeddings = False
    motion_only = True

    Options = OCSortOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._similarity = ASSOCIATION_FUNCS[self.asso_func]
        self.reset(None)

    def reset(self, seq: SeqInfo | None = None) -> None:
        self.tracks: list[_OCTrack] = []
        self._x = np.zeros((0, 7, 1))
        self._P = np.zeros((0, 7, 7))
        self.frame_count = 0
        self._next_id = 0

    # -- per-track updates -------------------------------------------------------------------

    def _observe(self, matches: list[tuple[int, np.ndarray, np.ndarray]]) -> None:
        """Update tracks with their detections: (track index, row x1, y1, x2, y2, score, (4, 1)
        measurement) triples. Tracks re-found after a gap get ORU one by one, the rest one stacked
        filter update."""
        plain: list[int] = []
        plain_z: list[np.ndarray] = []
        for t, det, z in matches:
            trk = self.tracks[t]
            if trk.last_obs_sum >= 0:
                prev = None
                for dt in range(self.delta_t, 0, -1):
                    prev = trk.observations.get(trk.age - dt)
                    if prev is not None:
                        break
                trk.velocity = _direction(trk.last_obs if prev is None else prev, det)
            trk.last_obs = det
            trk.last_obs_sum = det.sum()
            trk.observations[trk.age] = det
            if len(trk.observations) > 2 * self.delta_t + 8:  # only the last delta_t frames are read
                trk.observations = {a: o for a, o in trk.observations.items() if a >= trk.age - self.delta_t}
            trk.score = float(det[4])
            trk.time_since_update = 0
            trk.hits += 1
            trk.hit_streak += 1

            index = trk.n_updates
            trk.n_updates += 1
            if not trk.observed and trk.frozen is not None:
                start_index, start_z = trk.anchor
                x, P, virtual_z = _virtual_trajectory_update(*trk.frozen, start_z, z, index - start_index)
                x, P = _kf_update(x, P, z[None])
                self._x[t], self._P[t] = x[0], P[0]
                trk.frozen = None
                trk.anchor = (index, virtual_z)
            else:
                plain.append(t)
                plain_z.append(z)
                trk.anchor = (index, z)
            trk.observed = True
        if plain:
            x, P = _kf_update(self._x[plain], self._P[plain], np.stack(plain_z))
            self._x[plain] = x
            self._P[plain] = P

    def _miss(self, t: int) -> None:
        trk = self.tracks[t]
        trk.n_updates += 1
        if trk.observed:
            trk.frozen = (self._x[t : t + 1].copy(), self._P[t : t + 1].copy())
        trk.observed = False

    def _add_tracks(self, dets: np.ndarray, z: np.ndarray) -> None:
        """Start one track per row, ids in row order; the state is the measurement, velocities 0."""
        for det in dets:
            self.tracks.append(_OCTrack(self._next_id, float(det[4])))
            self._next_id += 1
        x = np.zeros((len(dets), 7, 1))
        x[:, :4] = z
        self._x = np.concatenate([self._x, x])
        self._P = np.concatenate([self._P, np.broadcast_to(_P0, (len(dets), 7, 7))])

    def _drop(self, keep: np.ndarray) -> None:
        self.tracks = [trk for trk, k in zip(self.tracks, keep, strict=True) if k]
        self._x = self._x[keep]
        self._P = self._P[keep]

    # -- association (mot_bench.trackers.common.ocsort_core) ----------------------------------------------

    def _momentum(self, dets: np.ndarray, velocities: np.ndarray, previous: np.ndarray) -> np.ndarray:
        return momentum(dets, velocities, previous, self.inertia)

    def _first_round(
        self, dets: np.ndarray, trks: np.ndarray, velocities: np.ndarray, previous: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return first_round(dets, trks, velocities, previous, self.iou_threshold, self.inertia)

    # -- the frame -----------------------------------------------------------------------------

    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        if len(detections) == 0 and self.skip_empty_frames:
            return Tracks.empty()
        self.frame_count += 1
        detections = detections.as_float32()  # the evaluator feeds YOLOX's float32 output; file boxes are float64
        all_dets = np.concatenate([detections.tlbr, detections.scores[:, None]], axis=1)  # float32
        scores = all_dets[:, 4]
        low = all_dets[(scores > _LOW_SCORE) & (scores < self.det_thresh)]
        dets = all_dets[scores > self.det_thresh]
        z = _tlbr_to_z(dets)

        # Predict every track; drop those whose predicted box is NaN.
        trks = np.zeros((0, 4))
        if self.tracks:
            x = self._x
            shrink = (x[:, 6, 0] + x[:, 2, 0]) <= 0
            if shrink.any():
                x[shrink, 6, 0] *= 0.0
            self._x, self._P = _kf_predict(x, self._P)
            for trk in self.tracks:
                trk.age += 1
                if trk.time_since_update > 0:
                    trk.hit_streak = 0
                trk.time_since_update += 1
            trks = _state_to_tlbr(self._x)
            bad = np.isnan(trks).any(axis=1)
            if bad.any():
                self._drop(~bad)
                trks = trks[~bad]
        velocities = np.array([_NO_VEL if t.velocity is None else t.velocity for t in self.tracks])
        last_boxes = np.array([t.last_obs for t in self.tracks])
        previous = np.array([t.previous_obs(self.delta_t) for t in self.tracks])

        matched, u_dets, u_trks = self._first_round(dets, trks, velocities, previous)
        self._observe([(t, dets[d], z[d]) for d, t in matched])

        thr = self.iou_threshold
        if self.use_byte and len(low) and len(u_trks):
            sim = np.asarray(self._similarity(low, trks[u_trks]))
            if sim.max() > thr:
                z_low = _tlbr_to_z(low)
                taken = [(u_trks[j], low[d], z_low[d]) for d, j in recovery_pairs(sim, thr)]
                self._observe(taken)
                u_trks = np.setdiff1d(u_trks, np.array([t for t, _, _ in taken]))

        if len(u_dets) and len(u_trks):
            sim = np.asarray(self._similarity(dets[u_dets], last_boxes[u_trks]))
            if sim.max() > thr:
                pairs = [(u_dets[i], u_trks[j]) for i, j in recovery_pairs(sim, thr)]
                self._observe([(t, dets[d], z[d]) for d, t in pairs])
                u_dets = np.setdiff1d(u_dets, np.array([d for d, _ in pairs]))
                u_trks = np.setdiff1d(u_trks, np.array([t for _, t in pairs]))

        for t in u_trks:
            self._miss(t)
        if len(u_dets):
            self._add_tracks(dets[u_dets], z[u_dets])
        return self._report()

    def _report(self) -> Tracks:
        boxes, ids, scores = [], [], []
        keep = np.ones(len(self.tracks), dtype=bool)
        early = self.frame_count <= self.min_hits
        for t in range(len(self.tracks) - 1, -1, -1):
            trk = self.tracks[t]
            if trk.time_since_update < 1 and (trk.hit_streak >= self.min_hits or early):
                if trk.last_obs_sum < 0:
                    boxes.append(_state_to_tlbr(self._x[t : t + 1])[0])
                else:
                    boxes.append(trk.last_obs[:4].astype(np.float64))
                ids.append(trk.id + 1)
                scores.append(trk.score)
            if trk.time_since_update > self.max_age:
                keep[t] = False
        if not keep.all():
            self._drop(keep)
        if not boxes:
            return Tracks.empty()
        tlbr = np.stack(boxes)
        ok = output_filter(tlbr, self.min_box_area, self.aspect_ratio_thresh)
        return Tracks(tlbr[ok], np.asarray(ids)[ok], np.asarray(scores)[ok])
