"""Hybrid-SORT (Yang et al., AAAI 2024) and Hybrid-SORT-ReID, decision for decision as ymzis69/HybridSORT @
396f8d30 (``trackers/hybrid_sort_tracker/{hybrid_sort,hybrid_sort_reid,association,kalmanfilter_score_new}.py``
driven by ``yolox/evaluators/mot_evaluator_dance.py::evaluate_hybrid_sort{,_reid}`` with the README's MOT17-val
exp files ``exps/example/mot/yolox_x_ablation_hybrid_sort{,_reid}.py``).

Two registered names, because the official code has two trackers and two exp files: ``hybridsort`` (boxes and
scores) and ``hybridsort_reid`` (also the detector's embeddings, with its own appearance options and defaults).

Hybrid-SORT forks OC-SORT (:mod:`mot_bench.trackers.ocsort`; shared pieces in
:mod:`mot_bench.trackers.common.ocsort_core`): three association rounds (high-score boxes vs. predictions with
the velocity-direction term; BYTE on low-score boxes; recovery (OCR) on last observations), re-update along a
virtual path after a gap (ORU), the same output rule. It adds the "weak cues":

* **Confidence state**: the Kalman filter has 9 states, (x, y, area, confidence, ratio) and the velocities of
  the first four; the measurement is the detection's (x, y, area, score, ratio). R = diag(1, 1, 10, 10, 10),
  P0 = diag(10 x5, 1e4 x4), Q = diag(1 x5, .01, .01, 1e-4, 1e-4). Before predicting, a negative area velocity
  that would make the area non-positive is zeroed. ORU interpolates the confidence linearly with the box.
* **Track-confidence modulation (TCM)**: round 1 subtracts ``|c - score| * tcm_first_step_weight`` from the
  similarity, c the filter's predicted confidence clipped to [det_thresh, 1]; the BYTE round subtracts
  ``|c' - score| * tcm_byte_step_weight``, c' a linear extrapolation of the last two scores,
  ``2 s_t - s_{t-1}`` (the last score alone right after a miss or at birth), clipped to [0.1, det_thresh].
  In the BYTE round the "largest similarity exceeds the threshold" test is made *before* TCM, the per-pair
  "not below the threshold" test after it.
* **Height-modulated IoU** (``asso_func`` "hmiou", the default): IoU times the ratio of the vertical overlap to
  the vertical extent of the two boxes; used in all three rounds (also as the round-1 gate).
* **Four-corner velocity direction**: the direction term is the sum over the four corners (x1, y1), (x1, y2),
  (x2, y1), (x2, y2) of OC-SORT's term computed corner to corner, each with weight ``inertia``. A track's
  corner velocity, updated at each observation, is the *sum* (not the mean, not renormalised) of the unit
  vectors from each of its observations 1, 2, ..., ``delta_t`` frames back to the new box (those it has), or
  from its last observation when it has none of them.

Rules of the official arithmetic that are easy to miss, and how this file keeps them:

* The official code ran under numpy < 1.24 (``np.float``) on the float32 arrays YOLOX hands over; numpy 1
  computes an operation whose operands are all *scalars* in float64 (numpy 2 keeps float32). Three places
  do scalar arithmetic: the box-to-measurement conversion (x + w/2 and w / (h + 1e-6) in float64 from
  float32 w, h; the area w h in float32), the corner velocities (the norm sqrt(dy^2 + dx^2) + 1e-6 in
  float64, then the float32 vector divided by it in float32) and the extrapolated score (float32
  difference, clipped in float64 against the Python-float bounds). They are written out here with explicit
  casts so numpy 2 gives numpy 1's numbers; everything else is array arithmetic, where both agree
  (a float32 array against a Python float stays float32: a score of exactly 0.6 is neither high nor low).
* Which dtype a per-frame array has depends on all tracks, as in OC-SORT: the last observations and the
  ``delta_t``-back observations are float32 only while every track has one, the velocities only while every
  track has one (placeholders are int64, so the arrays become float64).
* Round 1 skips the solver when no row and no column of ``sim > iou_threshold`` (the gate: hmiou) has more
  than one entry; otherwise ``lapjv`` on ``-(sim + direction - TCM)``; pairs below the threshold are dropped.
  When the BYTE round ran (its largest similarity above the threshold) the unmatched tracks come out sorted
  (``np.setdiff1d``), which orders the recovery round's columns and so breaks its ties; unmatched detections
  keep OC-SORT's order.
* The evaluator's per-sequence table (track_buffer 14 for MOT17-05, 25 for MOT17-13; track_thresh 0.65/0.7/0.67
  for MOT17-01/06/12/14) has no effect: the tracker never reads track_buffer (max_age stays 30) and the
  threshold is reset to the original value a few lines later by the MOT20-06/08 test. ``min_box_area`` is 100
  (two parser options share the name; argparse keeps the first); the output filter is w*h > 100 and not
  w/h > 1.6 (MOT17 and MOT20; DanceTrack has no aspect test).
* Output rule and id numbering as OC-SORT. The evaluator calls the tracker only when YOLOX returned a box
  scoring >= 0.1 (its ``test_conf``): frames without one do not advance the tracker (``skip_empty_frames``).

Hybrid-SORT-ReID (``evaluate_hybrid_sort_reid``; BYTE always on, from the arguments), with the detector's
embeddings in place of its FastReID model (whose output the evaluator stacks onto a float64 array, so the
embeddings are used in float64):

* Each track keeps one feature: at birth the detection's embedding normalised *twice* (upstream normalises
  it, then normalises the same array again as the smoothed feature); at a round-1 match
  ``f = 0.8 f + 0.2 e / |e|``, renormalised. Matches of the BYTE and recovery rounds do not touch it.
  Norms are ``np.linalg.norm`` (a dot product), cosine distances scipy's ``cdist``, floored at 0.
* Round 1 never takes the shortcut: ``lapjv`` on ``-(sim + direction - TCM) + appearance_weight * d_cos``.
  A pair is dropped when ``d_cos > appearance_gate_thresh`` *and* ``sim - |c - score| < iou_threshold``
  (``appearance_gate``; upstream's "long-term re-ID correction", which uses the smoothed feature, not its
  long-term bank): a pair with no overlap but a close appearance is kept. Without the gate: dropped when
  ``sim - |c - score| < iou_threshold`` (the TCM term unweighted).
* BYTE round: ``lapjv`` on ``-(sim - TCM') + appearance_weight_low * d_cos``; a pair is dropped when
  ``sim - TCM' < iou_threshold`` *or* (with the gate) ``d_cos > appearance_gate_thresh_low``.
* With ``appearance_weight`` 0 round 1 is Hybrid-SORT's; with ``appearance_weight_low`` 0 the BYTE round is.
  Upstream has no round 1 without TCM and no BYTE round without TCM in this tracker (it fails), so those
  switches are refused here. Its ECC camera update, adaptive feature smoothing and long-term feature weight
  are off in every official configuration and are not implemented.

Speed: predictions, predicted boxes, measurements and corner velocities of all tracks are computed at once
and the filter updates of one round as one stack (:func:`~mot_bench.trackers.common.ocsort_core.kf_update`);
everything that decides a match stays in the official arithmetic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
from scipy.spatial.distance import cdist

from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.trackers.common.association import hmiou_batch, iou_batch, lapjv_pairs
from mot_bench.trackers.common.ocsort_core import (
    NO_OBS,
    drop_pairs,
    gated_pairs,
    kf_predict,
    kf_update,
    momentum,
    output_filter,
    previous_obs,
    recovery_pairs,
    virtual_measurements,
)
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

_SIMILARITY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {"hmiou": hmiou_batch, "iou": iou_batch}
_CORNERS = ((0, 1), (0, 3), (2, 1), (2, 3))  # (x, y) columns of the corners, in upstream's order (lt, rt, lb, rb)
_TEST_CONF = np.float32(0.1)  # YOLOX's postprocess keeps boxes scoring >= the exp's test_conf (float32 tensor)
_SIMPLE_SCORE_FLOOR = 0.1  # lower clip of the extrapolated score (fixed upstream)

_R = np.diag([1.0, 1.0, 10.0, 10.0, 10.0])
_P0 = np.diag([10.0] * 5 + [1e4] * 4)
_Q = np.diag([1.0] * 5 + [0.01, 0.01, 1e-4, 1e-4])
_NO_VEL = np.zeros((4, 2), dtype=np.int64)  # upstream's np.array((0, 0)) per corner: int64, it changes the dtype
_EMPTY_PAIRS = np.empty((0, 2), dtype=int)


def _tlbr_to_z(dets: np.ndarray) -> np.ndarray:
    """(N, 5) float32 rows x1, y1, x2, y2, score -> (N, 5, 1) float64 measurements x, y, area, score, ratio,
    with numpy 1's scalar promotion: w, h and the area in float32, x + w/2 and w / (h + 1e-6) in float64."""
    w = dets[:, 2] - dets[:, 0]
    h = dets[:, 3] - dets[:, 1]
    w64, h64 = w.astype(np.float64), h.astype(np.float64)
    z = np.stack([
        dets[:, 0].astype(np.float64) + w64 / 2.0,
        dets[:, 1].astype(np.float64) + h64 / 2.0,
        (w * h).astype(np.float64),
        dets[:, 4].astype(np.float64),
        w64 / (h64 + 1e-6),
    ], axis=1)
    return z[:, :, None]


def _state_to_tlbr(x: np.ndarray) -> np.ndarray:
    """(T, 9, 1) states -> (T, 4) float64 boxes (w = sqrt(area ratio), h = area / w)."""
    cx, cy, s, r = x[:, 0, 0], x[:, 1, 0], x[:, 2, 0], x[:, 4, 0]
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.sqrt(s * r)
        h = s / w
    return np.stack([cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0], axis=1)


def _corner_velocities(boxes: np.ndarray, previous: np.ndarray, present: np.ndarray) -> np.ndarray:
    """(K, 4, 2) float32 corner velocities (dy, dx) of K tracks: for each, the sum in slot order of the unit
    vectors from its ``present`` previous boxes (K, S, 5) to its new box (K, 5), corner by corner.

    Upstream computes each vector from numpy scalars: float32 differences, the norm in float64 (numpy 1),
    the float32 vector divided by that norm cast to float32, and the sum in float32."""
    out = np.empty((len(boxes), 4, 2), dtype=np.float32)
    for c, (ix, iy) in enumerate(_CORNERS):
        dy = boxes[:, None, iy] - previous[:, :, iy]
        dx = boxes[:, None, ix] - previous[:, :, ix]
        norm = (np.sqrt(dy.astype(np.float64) ** 2 + dx.astype(np.float64) ** 2) + 1e-6).astype(np.float32)
        unit = np.stack([dy, dx], axis=-1) / norm[..., None]
        unit = np.where(present[..., None], unit, np.float32(0.0))
        acc = unit[:, 0]
        for s in range(1, unit.shape[1]):
            acc = acc + unit[:, s]
        out[:, c] = acc
    return out


def _score_gap(dets: np.ndarray, track_scores: np.ndarray) -> np.ndarray:
    """(N, T) ``|track score - detection score|`` (upstream's ``cal_score_dif_batch``)."""
    return np.abs(track_scores[None, :] - dets[:, 4][:, None])


def _unit(v: np.ndarray) -> np.ndarray:
    """v / |v| with ``np.linalg.norm``'s dot product (upstream's ``feat /= np.linalg.norm(feat)``)."""
    return v / np.sqrt(v.dot(v))


def _cosine_distance(track_features: np.ndarray, det_features: np.ndarray) -> np.ndarray:
    """(N, T) cosine distances, floored at 0 (upstream's ``embedding_distance(...).T``)."""
    if len(track_features) == 0 or len(det_features) == 0:
        return np.zeros((len(det_features), len(track_features)))
    return np.maximum(0.0, cdist(track_features, det_features, "cosine")).T


class _HybridTrack:
    """One object's bookkeeping; its filter state lives in the tracker's stacked arrays."""

    __slots__ = (
        "id", "time_since_update", "hits", "hit_streak", "age", "last_obs", "last_obs_sum", "observations",
        "velocity", "confidence", "confidence_pre", "observed", "frozen", "n_updates", "anchor", "feature",
    )

    def __init__(self, track_id: int, confidence: np.float32, feature: np.ndarray | None) -> None:
        self.id = track_id
        self.time_since_update = 0
        self.hits = 0
        self.hit_streak = 0
        self.age = 0
        self.last_obs: np.ndarray = NO_OBS
        self.last_obs_sum = -5
        self.observations: dict[int, np.ndarray] = {}
        self.velocity: np.ndarray | None = None  # (4, 2) float32 (dy, dx) per corner
        self.confidence = confidence  # float32 score of the latest detection
        self.confidence_pre: np.float32 | None = None  # the one before, None after a miss
        # ORU bookkeeping, as in OC-SORT: whether the last update had a box, the (x, P) saved at the first
        # empty update after one, the number of updates so far, the last update that had a box.
        self.observed = False
        self.frozen: tuple[np.ndarray, np.ndarray] | None = None
        self.n_updates = 0
        self.anchor: tuple[int, np.ndarray] | None = None
        self.feature = feature  # re-ID: the smoothed embedding (float64)


@dataclass
class HybridSORTOptions:
    preset: Literal["mot17", "mot20", "dancetrack_val", "dancetrack_test"] = option(
        "mot17", "official settings of an exp file: mot17 (yolox_x_ablation/mix_det), mot20 (det_thresh 0.4; "
                 "the evaluator's 0.3 for MOT20-06/08 is not applied), dancetrack_val/test (IoU 0.15, no aspect "
                 "filter)")
    det_thresh: float = option(0.6, "first round and new tracks: score above this (track_thresh); also the "
                                    "clip of the confidence terms", range=(0.3, 0.8), bounds=(0.0, 1.0))
    low_thresh: float = option(0.1, "BYTE round: scores above this and below det_thresh (fixed 0.1 upstream)",
                               range=(0.05, 0.3), bounds=(0.0, 1.0))
    iou_threshold: float = option(0.25, "association threshold on the similarity (iou_thresh)", range=(0.1, 0.5),
                                  bounds=(0.0, 1.0))
    asso_func: Literal["hmiou", "iou"] = option("hmiou", "similarity of all rounds: height-modulated IoU or IoU")
    delta_t: int = option(3, "frames back for the direction term and the velocity", range=(1, 5), bounds=(0, None))
    inertia: float = option(0.05, "weight of each corner's velocity-direction term", range=(0.0, 0.3),
                            bounds=(0.0, None))
    max_age: int = option(30, "frames a track survives without a match", range=(10, 60), bounds=(0, None))
    min_hits: int = option(3, "hits before a track is reported (after the first min_hits frames)",
                           range=(1, 5), bounds=(0, None))
    use_byte: bool = option(True, "BYTE round on low-score detections")
    tcm_first_step: bool = option(True, "track-confidence modulation in the first round (TCM_first_step)")
    tcm_first_step_weight: float = option(1.0, "weight of the first round's confidence gap", range=(0.0, 2.0),
                                          bounds=(0.0, None))
    tcm_byte_step: bool = option(True, "track-confidence modulation in the BYTE round (TCM_byte_step)")
    tcm_byte_step_weight: float = option(1.0, "weight of the BYTE round's confidence gap", range=(0.0, 2.0),
                                         bounds=(0.0, None))
    min_box_area: float = option(100.0, "output filter of the evaluator: w*h > this", bounds=(0.0, None))
    aspect_ratio_thresh: float | None = option(1.6, "output filter: drop boxes with w/h > this (none: keep all)",
                                               bounds=(0.0, None))
    skip_empty_frames: bool = option(True, "frames without a box scoring >= 0.1 do not advance the tracker (the "
                                           "evaluator only calls it when YOLOX returned one)")

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "mot17": {},
        "mot20": {"det_thresh": 0.4},
        "dancetrack_val": {"iou_threshold": 0.15, "aspect_ratio_thresh": None},
        "dancetrack_test": {"iou_threshold": 0.15, "aspect_ratio_thresh": None, "tcm_first_step_weight": 1.5},
    }


@dataclass
class HybridSORTReIDOptions(HybridSORTOptions):
    appearance_weight: float = option(1.3, "first round: weight of the cosine distance (EG_weight_high_score; "
                                           "0: no appearance)", range=(0.0, 5.0), bounds=(0.0, None))
    appearance_weight_low: float = option(1.2, "BYTE round: weight of the cosine distance (EG_weight_low_score)",
                                          range=(0.0, 5.0), bounds=(0.0, None))
    appearance_gate: bool = option(True, "drop matches by appearance (with_longterm_reid_correction)")
    appearance_gate_thresh: float = option(0.4, "first round: drop a low-overlap pair whose cosine distance "
                                                "exceeds this", range=(0.1, 1.0), bounds=(0.0, 2.0))
    appearance_gate_thresh_low: float = option(0.4, "BYTE round: drop a pair whose cosine distance exceeds this",
                                               range=(0.1, 1.0), bounds=(0.0, 2.0))
    ema_alpha: float = option(0.8, "weight of the old feature in the feature EMA (alpha)", range=(0.5, 0.99),
                              bounds=(0.0, 1.0))

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {
        "mot17": {},
        "mot20": {"det_thresh": 0.4, "appearance_weight": 4.6, "appearance_weight_low": 2.4,
                  "appearance_gate": False, "appearance_gate_thresh": 1.0, "appearance_gate_thresh_low": 1.0},
        "dancetrack_val": {"iou_threshold": 0.15, "aspect_ratio_thresh": None, "appearance_weight": 4.0,
                           "appearance_weight_low": 4.4, "appearance_gate": False, "appearance_gate_thresh": 1.0,
                           "appearance_gate_thresh_low": 1.0},
        "dancetrack_test": {"iou_threshold": 0.15, "aspect_ratio_thresh": None, "tcm_first_step_weight": 1.5,
                            "appearance_weight": 2.8, "appearance_weight_low": 1.4, "appearance_gate": True,
                            "appearance_gate_thresh": 0.2, "appearance_gate_thresh_low": 1.0},
    }


class HybridSORT(Tracker):
    """Hybrid-SORT with the settings of its MOT17-val exp file (``yolox_x_ablation_hybrid_sort.py``)."""

    name = "hybridsort"
    needs_embeddings = False
    motion_only = True

    Options = HybridSORTOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._similarity = _SIMILARITY[self.asso_func]
        self.reset(None)

    def reset(self, seq: SeqInfo | None = None) -> None:
        self.tracks: list[_HybridTrack] = []
        self._x = np.zeros((0, 9, 1))
        self._P = np.zeros((0, 9, 9))
        self.frame_count = 0
        self._next_id = 0

    # -- per-track updates -------------------------------------------------------------------

    def _observe(self, track_ids: list[int], rows: np.ndarray, z: np.ndarray) -> None:
        """Update tracks ``track_ids`` with their detections: float32 ``rows`` (K, 5) x1, y1, x2, y2, score and
        their measurements ``z`` (K, 5, 1). Velocities first (from the observations before this one), then the
        bookkeeping; tracks re-found after a gap get ORU one by one, the rest one stacked filter update."""
        if not track_ids:
            return
        tracks, delta_t = self.tracks, self.delta_t  # options read once (attribute look-ups are not free)
        moving = [k for k, t in enumerate(track_ids) if tracks[t].last_obs_sum >= 0]
        if moving:
            slots = max(delta_t, 1)
            previous = np.zeros((len(moving), slots, 5), dtype=np.float32)
            present = np.zeros((len(moving), slots), dtype=bool)
            for m, k in enumerate(moving):
                trk = tracks[track_ids[k]]
                found = False
                for s in range(delta_t):
                    obs = trk.observations.get(trk.age - s - 1)
                    if obs is not None:
                        previous[m, s] = obs
                        present[m, s] = found = True
                if not found:
                    previous[m, 0] = trk.last_obs
                    present[m, 0] = True
            velocities = _corner_velocities(rows[moving], previous, present)
            for m, k in enumerate(moving):
                tracks[track_ids[k]].velocity = velocities[m]

        sums = rows.sum(axis=1)  # float32, as upstream's per-row ``last_observation.sum()``
        plain: list[int] = []
        plain_k: list[int] = []
        keep_obs = 2 * delta_t + 8
        for k, t in enumerate(track_ids):
            trk = tracks[t]
            det = rows[k]
            trk.last_obs = det
            trk.last_obs_sum = sums[k]
            trk.observations[trk.age] = det
            if len(trk.observations) > keep_obs:  # only the last delta_t ages (and the newest) are read
                trk.observations = {a: o for a, o in trk.observations.items() if a >= trk.age - delta_t}
            trk.time_since_update = 0
            trk.hits += 1
            trk.hit_streak += 1

            index = trk.n_updates
            trk.n_updates += 1
            if not trk.observed and trk.frozen is not None:
                start_index, start_z = trk.anchor
                x, P = trk.frozen
                virtual = virtual_measurements(start_z, z[k], index - start_index)
                for step, box in enumerate(virtual, start=1):
                    x, P = kf_update(x, P, box[None], _R)
                    if step < len(virtual):
                        x, P = kf_predict(x, P, _Q, 4)
                x, P = kf_update(x, P, z[k : k + 1], _R)
                self._x[t], self._P[t] = x[0], P[0]
                trk.frozen = None
                trk.anchor = (index, virtual[-1])
            else:
                plain.append(t)
                plain_k.append(k)
                trk.anchor = (index, z[k])
            trk.observed = True
            trk.confidence_pre = trk.confidence
            trk.confidence = det[4]
        if plain:
            x, P = kf_update(self._x[plain], self._P[plain], z[plain_k], _R)
            self._x[plain] = x
            self._P[plain] = P

    def _miss(self, t: int) -> None:
        trk = self.tracks[t]
        trk.n_updates += 1
        if trk.observed:
            trk.frozen = (self._x[t : t + 1].copy(), self._P[t : t + 1].copy())
        trk.observed = False
        trk.confidence_pre = None

    def _add_tracks(self, dets: np.ndarray, z: np.ndarray, features: np.ndarray | None) -> None:
        """Start one track per row, ids in row order; the state is the measurement, velocities 0."""
        for k, det in enumerate(dets):
            feature = None
            if features is not None:
                feature = _unit(_unit(features[k]))  # upstream normalises the embedding, then the same array again
            self.tracks.append(_HybridTrack(self._next_id, det[4], feature))
            self._next_id += 1
        x = np.zeros((len(dets), 9, 1))
        x[:, :5] = z
        self._x = np.concatenate([self._x, x])
        self._P = np.concatenate([self._P, np.broadcast_to(_P0, (len(dets), 9, 9))])

    def _drop(self, keep: np.ndarray) -> None:
        self.tracks = [trk for trk, k in zip(self.tracks, keep, strict=True) if k]
        self._x = self._x[keep]
        self._P = self._P[keep]

    def _predict(self) -> np.ndarray:
        """Predict every track; (T, 6) float64 rows x1, y1, x2, y2, Kalman confidence clipped to
        [det_thresh, 1], extrapolated score clipped to [0.1, det_thresh]. Tracks whose box is NaN are dropped."""
        if not self.tracks:
            return np.zeros((0, 6))
        x = self._x
        shrink = (x[:, 7, 0] + x[:, 2, 0]) <= 0
        if shrink.any():
            x[shrink, 7, 0] *= 0.0
        self._x, self._P = kf_predict(x, self._P, _Q, 4)
        for trk in self.tracks:
            trk.age += 1
            if trk.time_since_update > 0:
                trk.hit_streak = 0
            trk.time_since_update += 1
        boxes = _state_to_tlbr(self._x)
        confidence = self._x[:, 3, 0]
        bad = np.isnan(boxes).any(axis=1) | np.isnan(confidence)
        if bad.any():
            self._drop(~bad)
            boxes, confidence = boxes[~bad], confidence[~bad]
        last = np.array([t.confidence for t in self.tracks], dtype=np.float32)
        before = np.array([np.nan if t.confidence_pre is None else t.confidence_pre for t in self.tracks],
                          dtype=np.float32)
        # float32 scalar arithmetic, then np.clip against Python floats: float64 under numpy 1
        simple = np.where(np.isnan(before), last, last - (before - last)).astype(np.float64)
        return np.column_stack([
            boxes,
            np.clip(confidence, self.det_thresh, 1.0),
            np.clip(simple, _SIMPLE_SCORE_FLOOR, self.det_thresh),
        ])

    # -- association -------------------------------------------------------------------------

    def _direction_term(self, dets: np.ndarray, velocities: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """Sum over the four corners of OC-SORT's velocity-direction term (upstream's cost_lt + rt + lb + rb)."""
        total = momentum(dets, velocities[:, 0], previous, self.inertia, _CORNERS[0])
        for c in range(1, 4):
            total = total + momentum(dets, velocities[:, c], previous, self.inertia, _CORNERS[c])
        return total

    def _first_round(self, dets: np.ndarray, trks: np.ndarray, velocities: np.ndarray, previous: np.ndarray,
                     det_features: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n, m = len(dets), len(trks)
        if m == 0:
            return _EMPTY_PAIRS, np.arange(n), np.empty((0,), dtype=int)
        sim = self._similarity(dets, trks)

        def modulated() -> np.ndarray:
            direction = self._direction_term(dets, velocities, previous)
            if self.tcm_first_step:
                direction = direction - _score_gap(dets, trks[:, 4]) * self.tcm_first_step_weight
            return sim + direction

        return gated_pairs(sim, modulated, self.iou_threshold)

    def _byte_round(self, low: np.ndarray, trks: np.ndarray, u_trks: np.ndarray,
                    low_features: np.ndarray | None) -> list[tuple[int, int]] | None:
        """Low-score detections vs. the unmatched tracks' predictions: (detection, track) pairs, or None when
        no similarity exceeds the threshold (then upstream leaves the unmatched tracks' order alone)."""
        rows = trks[u_trks]
        sim = np.asarray(self._similarity(low, rows))
        if not sim.max() > self.iou_threshold:
            return None
        if self.tcm_byte_step:
            sim = sim - _score_gap(low, rows[:, 5]) * self.tcm_byte_step_weight
        return [(d, int(u_trks[j])) for d, j in lapjv_pairs(-sim) if not sim[d, j] < self.iou_threshold]

    # -- the frame -----------------------------------------------------------------------------

    def _embeddings(self, detections: Detections) -> np.ndarray | None:
        return None

    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        detections = detections.as_float32()  # the evaluator feeds YOLOX's float32 output; file boxes are float64
        if self.skip_empty_frames and not (detections.scores >= _TEST_CONF).any():
            return Tracks.empty()
        self.frame_count += 1
        features = self._embeddings(detections)
        all_dets = np.concatenate([detections.tlbr, detections.scores[:, None]], axis=1)  # float32
        scores = all_dets[:, 4]
        second = (scores > self.low_thresh) & (scores < self.det_thresh)
        high = scores > self.det_thresh
        dets, low = all_dets[high], all_dets[second]
        high_features = None if features is None else features[high]
        low_features = None if features is None else features[second]
        z = _tlbr_to_z(dets)

        trks = self._predict()
        velocities = np.array([_NO_VEL if t.velocity is None else t.velocity for t in self.tracks])
        last_boxes = np.array([t.last_obs for t in self.tracks])
        previous = np.array([previous_obs(t.observations, t.age, t.last_obs, self.delta_t) for t in self.tracks])

        matched, u_dets, u_trks = self._first_round(dets, trks, velocities, previous, high_features)
        self._observe(matched[:, 1].tolist(), dets[matched[:, 0]], z[matched[:, 0]])
        if high_features is not None:
            for d, t in matched:
                self._update_feature(self.tracks[t], high_features[d])

        if self.use_byte and len(low) and len(u_trks):
            byte_pairs = self._byte_round(low, trks, u_trks, low_features)
            if byte_pairs is not None:
                rows = low[[d for d, _ in byte_pairs]]
                self._observe([t for _, t in byte_pairs], rows, _tlbr_to_z(rows))
                u_trks = np.setdiff1d(u_trks, np.array([t for _, t in byte_pairs]))

        thr = self.iou_threshold
        if len(u_dets) and len(u_trks):
            sim = np.asarray(self._similarity(dets[u_dets], last_boxes[u_trks]))
            if sim.max() > thr:
                pairs = [(u_dets[i], u_trks[j]) for i, j in recovery_pairs(sim, thr)]
                self._observe([int(t) for _, t in pairs], dets[[d for d, _ in pairs]], z[[d for d, _ in pairs]])
                u_dets = np.setdiff1d(u_dets, np.array([d for d, _ in pairs]))
                u_trks = np.setdiff1d(u_trks, np.array([t for _, t in pairs]))

        for t in u_trks:
            self._miss(int(t))
        if len(u_dets):
            self._add_tracks(dets[u_dets], z[u_dets], None if high_features is None else high_features[u_dets])
        return self._report()

    def _update_feature(self, trk: _HybridTrack, embedding: np.ndarray) -> None:
        """Re-ID only (round-1 matches)."""

    def _report(self) -> Tracks:
        """Upstream's output rule, newest track first; then the evaluator's filter. Dead tracks are dropped
        afterwards."""
        tracks, min_hits, max_age = self.tracks, self.min_hits, self.max_age
        early = self.frame_count <= min_hits
        picked: list[int] = []
        keep = np.ones(len(tracks), dtype=bool)
        for t in range(len(tracks) - 1, -1, -1):
            trk = tracks[t]
            if trk.time_since_update < 1 and (trk.hit_streak >= min_hits or early):
                picked.append(t)
            if trk.time_since_update > max_age:
                keep[t] = False
        if picked:
            tlbr = np.empty((len(picked), 4))
            observed = [k for k, t in enumerate(picked) if tracks[t].last_obs_sum >= 0]
            if observed:
                tlbr[observed] = np.stack([tracks[picked[k]].last_obs[:4] for k in observed])
            if len(observed) < len(picked):  # never observed (born in the first min_hits frames): the state
                born = [k for k, t in enumerate(picked) if tracks[t].last_obs_sum < 0]
                tlbr[born] = _state_to_tlbr(self._x[[picked[k] for k in born]])
            ids = np.array([tracks[t].id + 1 for t in picked])
            scores = np.array([tracks[t].confidence for t in picked], dtype=np.float64)
        if not keep.all():
            self._drop(keep)
        if not picked:
            return Tracks.empty()
        ok = output_filter(tlbr, self.min_box_area, self.aspect_ratio_thresh)
        return Tracks(tlbr[ok], ids[ok], scores[ok])


class HybridSORTReID(HybridSORT):
    """Hybrid-SORT-ReID with the settings of its MOT17-val exp file (``yolox_x_ablation_hybrid_sort_reid.py``),
    the detector's embeddings in place of its FastReID model."""

    name = "hybridsort_reid"
    needs_embeddings = True
    motion_only = False

    Options = HybridSORTReIDOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not self.tcm_first_step:
            raise ValueError("hybridsort_reid: tcm_first_step=false has no first round upstream (its code fails); "
                             "use hybridsort, or keep it on")
        if self.use_byte and not self.tcm_byte_step:
            raise ValueError("hybridsort_reid: tcm_byte_step=false with use_byte fails upstream (no threshold "
                             "matrix); keep it on or set use_byte=false")

    def _embeddings(self, detections: Detections) -> np.ndarray:
        if detections.embeddings is None:
            raise ValueError("hybridsort_reid needs embeddings from the detector (use hybridsort without them)")
        return detections.embeddings.astype(np.float64)  # the evaluator stacks them onto a float64 array

    def _update_feature(self, trk: _HybridTrack, embedding: np.ndarray) -> None:
        smooth = self.ema_alpha * trk.feature + (1 - self.ema_alpha) * _unit(embedding)
        trk.feature = _unit(smooth)

    def _first_round(self, dets: np.ndarray, trks: np.ndarray, velocities: np.ndarray, previous: np.ndarray,
                     det_features: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self.appearance_weight > 0:
            return super()._first_round(dets, trks, velocities, previous, det_features)
        n, m = len(dets), len(trks)
        if m == 0:
            return _EMPTY_PAIRS, np.arange(n), np.empty((0,), dtype=int)
        sim = self._similarity(dets, trks)
        gap = _score_gap(dets, trks[:, 4])
        if n == 0:
            return _EMPTY_PAIRS, np.arange(n), np.arange(m)
        direction = self._direction_term(dets, velocities, previous) - gap * self.tcm_first_step_weight
        distance = _cosine_distance(np.stack([t.feature for t in self.tracks]), det_features)
        pairs = lapjv_pairs(-(sim + direction) + self.appearance_weight * distance)
        if len(pairs) == 0:
            return _EMPTY_PAIRS, np.arange(n), np.arange(m)
        below = (sim - gap)[pairs[:, 0], pairs[:, 1]] < self.iou_threshold
        if self.appearance_gate:
            weak = (distance[pairs[:, 0], pairs[:, 1]] > self.appearance_gate_thresh) & below
        else:
            weak = below
        return drop_pairs(pairs, weak, n, m)

    def _byte_round(self, low: np.ndarray, trks: np.ndarray, u_trks: np.ndarray,
                    low_features: np.ndarray | None) -> list[tuple[int, int]] | None:
        rows = trks[u_trks]
        sim = np.asarray(self._similarity(low, rows))
        if not sim.max() > self.iou_threshold:
            return None
        sim = sim - _score_gap(low, rows[:, 5]) * self.tcm_byte_step_weight
        if not self.appearance_weight_low > 0:
            return [(d, int(u_trks[j])) for d, j in lapjv_pairs(-sim) if not sim[d, j] < self.iou_threshold]
        distance = _cosine_distance(np.stack([self.tracks[t].feature for t in u_trks]), low_features)
        pairs = lapjv_pairs(-sim + self.appearance_weight_low * distance)
        gate = self.appearance_gate_thresh_low if self.appearance_gate else np.inf
        return [(d, int(u_trks[j])) for d, j in pairs
                if not (sim[d, j] < self.iou_threshold or distance[d, j] > gate)]
