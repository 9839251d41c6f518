"""The DeepSORT family's engine: appearance galleries, the matching cascade, gating, the IoU stage.

nwojke/deep_sort and dyhBUPT/StrongSORT (a fork of it) share this loop; StrongSORT's switches are the
:class:`Switches` fields. Every list order, dtype and solver call follows the official code, because the
order of unmatched detections decides new ids and the solver's tie-breaking decides matches:

* detections: height < ``min_detection_height`` dropped, then score < ``min_confidence`` (``>=`` keeps);
  NMS with +1-pixel overlap over the other box's area, ``np.argsort`` of the scores (reorders by score);
* Kalman: the deep_sort 8-d x, y, a, h filter (``mot_bench.trackers.common.kalman.KalmanFilterXYAH``);
* cascade: confirmed tracks level by level of ``time_since_update`` (or all at once without cascade),
  cost = smallest cosine distance to the gallery (features renormalised inside the metric, in the
  features' dtype), Mahalanobis gate 9.4877 -> 1e5, optional motion blend after gating, costs above the
  threshold clipped to threshold + 1e-5, pairs above it rejected;
* IoU stage: unconfirmed tracks + confirmed tracks missed exactly once (the latter in the order of the
  official ``set`` difference), plain IoU, ``max_iou_distance``;
* galleries: confirmed tracks hand over their features at the end of each frame; budget keeps the last.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from mot_bench.plugins import Tracker
from mot_bench.trackers.common.kalman import CHI2INV95, KalmanFilterXYAH
from mot_bench.trackers.common.munkres import munkres
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

GATED_COST = 1e5  # the official INFTY_COST
TENTATIVE, CONFIRMED, DELETED = 1, 2, 3


@dataclass(frozen=True)
class Switches:
    """How one member of the family computes: DeepSORT's values by default."""

    feature_dtype: type = np.float32  # deep_sort keeps float32 features; StrongSORT float64
    normalize_features: bool = False  # StrongSORT stores each detection feature divided by its norm
    ema_alpha: float | None = None  # StrongSORT EMA: one smoothed feature per track (gallery budget 1)
    nsa: bool = False  # StrongSORT NSA: measurement noise scaled by 1 - confidence in the update
    mc_lambda: float | None = None  # StrongSORT MC: lambda * appearance + (1 - lambda) * Mahalanobis
    cascade: bool = True  # False: StrongSORT woC, one assignment over every confirmed track
    solver: str = "scipy"  # "munkres": scikit-learn 0.19's Hungarian, as StrongSORT pinned


def nms_order(tlwh: np.ndarray, scores: np.ndarray, max_overlap: float) -> list[int]:
    """Indices kept by deep_sort's NMS, in its order (highest score first).

    Overlap is the +1-pixel intersection over the area of each remaining box (not the union).
    """
    if len(tlwh) == 0:
        return []
    boxes = tlwh.astype(np.float64)
    x1, y1 = boxes[:, 0], boxes[:, 1]
    x2, y2 = boxes[:, 2] + boxes[:, 0], boxes[:, 3] + boxes[:, 1]
    area = (x2 - x1 + 1) * (y2 - y1 + 1)
    idxs = np.argsort(scores)
    pick: list[int] = []
    while len(idxs) > 0:
        last = len(idxs) - 1
        i = idxs[last]
        pick.append(int(i))
        rest = idxs[:last]
        w = np.maximum(0, np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]) + 1)
        h = np.maximum(0, np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]) + 1)
        overlap = w * h / area[rest]
        idxs = np.delete(idxs, np.concatenate(([last], np.where(overlap > max_overlap)[0])))
    return pick


def iou_tlwh(box: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Plain IoU (no +1) of one tlwh box with (N, 4) tlwh candidates, as ``iou_matching.iou``."""
    tl = np.maximum(box[:2], candidates[:, :2])
    br = np.minimum(box[:2] + box[2:], candidates[:, :2] + candidates[:, 2:])
    inter = np.maximum(0.0, br - tl).prod(axis=1)
    return inter / (box[2:].prod() + candidates[:, 2:].prod(axis=1) - inter)


def nn_cosine_distance(gallery: list[np.ndarray], features: np.ndarray) -> np.ndarray:
    """Smallest cosine distance from each feature to a gallery, renormalising both as the official metric."""
    a = np.asarray(gallery)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = features / np.linalg.norm(features, axis=1, keepdims=True)
    return (1.0 - np.dot(a, b.T)).min(axis=0)


def xyah(tlwh: np.ndarray) -> np.ndarray:
    ret = tlwh.copy()
    ret[:2] += ret[2:] / 2
    ret[2] /= ret[3]
    return ret


class AppearanceTrack:
    """One target: Kalman state, hit bookkeeping, features not yet handed to the gallery."""

    __slots__ = ("mean", "covariance", "track_id", "hits", "age", "time_since_update", "state", "features")

    def __init__(self, mean: np.ndarray, covariance: np.ndarray, track_id: int, feature: np.ndarray) -> None:
        self.mean, self.covariance = mean, covariance
        self.track_id = track_id
        self.hits = 1
        self.age = 1
        self.time_since_update = 0
        self.state = TENTATIVE
        self.features = [feature]

    def tlwh(self) -> np.ndarray:
        ret = self.mean[:4].copy()
        ret[2] *= ret[3]
        ret[:2] -= ret[2:] / 2
        return ret


class CascadeTracker(Tracker):
    """DeepSORT-family tracker; subclasses set :attr:`switches` and declare ``Options`` with at least
    min_confidence, nms_max_overlap, min_detection_height, max_cosine_distance, nn_budget,
    max_iou_distance, max_age and n_init."""

    needs_embeddings = True
    motion_only = False
    switches = Switches()

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.kf = KalmanFilterXYAH()
        self.reset(None)

    def reset(self, seq: SeqInfo | None) -> None:
        self.tracks: list[AppearanceTrack] = []
        self.samples: dict[int, list[np.ndarray]] = {}
        self._next_id = 1

    # ------------------------------------------------------------------ per frame
    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        if detections.embeddings is None:
            raise ValueError(f"{self.name} needs re-ID embeddings; use a detector that provides them")
        tlwh = detections.tlwh.astype(np.float64)
        scores = detections.scores.astype(np.float64)
        feats = detections.embeddings.astype(self.switches.feature_dtype)
        keep = ~(tlwh[:, 3] < self.min_detection_height) & (scores >= self.min_confidence)
        tlwh, scores, feats = tlwh[keep], scores[keep], feats[keep]
        order = nms_order(tlwh, scores, self.nms_max_overlap)
        tlwh, scores, feats = tlwh[order], scores[order], feats[order]
        meas = np.array([xyah(b) for b in tlwh]).reshape(-1, 4)

        self.before_predict(frame)
        for t in self.tracks:
            t.mean, t.covariance = self.kf.predict(t.mean, t.covariance)
            t.age += 1
            t.time_since_update += 1
        matches, unmatched_tracks, unmatched_dets = self._match(tlwh, meas, feats)
        for ti, di in matches:
            self._update_track(self.tracks[ti], meas[di], feats[di], float(scores[di]))
        for ti in unmatched_tracks:
            t = self.tracks[ti]
            if t.state == TENTATIVE or t.time_since_update > self.max_age:
                t.state = DELETED
        for di in unmatched_dets:
            mean, cov = self.kf.initiate(meas[di])
            self.tracks.append(AppearanceTrack(mean, cov, self._next_id, self._stored(feats[di])))
            self._next_id += 1
        self.tracks = [t for t in self.tracks if t.state != DELETED]
        self._fit_galleries()
        return self._report()

    def before_predict(self, frame: Frame | None) -> None:
        """Hook for camera-motion compensation (StrongSORT's ECC), applied before the Kalman prediction."""

    def _update_track(self, t: AppearanceTrack, measurement: np.ndarray, feature: np.ndarray,
                      confidence: float) -> None:
        sw = self.switches
        t.mean, t.covariance = self.kf.update(t.mean, t.covariance, measurement, confidence if sw.nsa else None)
        feature = self._stored(feature)
        if sw.ema_alpha is not None:
            smooth = sw.ema_alpha * t.features[-1] + (1 - sw.ema_alpha) * feature
            smooth /= np.linalg.norm(smooth)
            t.features = [smooth]
        else:
            t.features.append(feature)
        t.hits += 1
        t.time_since_update = 0
        if t.state == TENTATIVE and t.hits >= self.n_init:
            t.state = CONFIRMED

    def _stored(self, feature: np.ndarray) -> np.ndarray:
        """The feature a track keeps: StrongSORT divides by the norm first (matching uses the raw one)."""
        return feature / np.linalg.norm(feature) if self.switches.normalize_features else feature

    def _fit_galleries(self) -> None:
        active = [t.track_id for t in self.tracks if t.state == CONFIRMED]
        for t in self.tracks:
            if t.state != CONFIRMED:
                continue
            gallery = self.samples.setdefault(t.track_id, [])
            gallery.extend(t.features)
            if self.nn_budget is not None:
                self.samples[t.track_id] = gallery[-self.nn_budget:]
            if self.switches.ema_alpha is None:  # with EMA the smoothed feature stays with the track
                t.features = []
        self.samples = {k: self.samples[k] for k in active}

    def _report(self) -> Tracks:
        rows = []
        for t in self.tracks:
            if t.state != CONFIRMED or t.time_since_update > 1:
                continue
            box = t.tlwh()
            rows.append((np.r_[box[:2], box[:2] + box[2:]], t.track_id, 1.0))
        return Tracks.from_list(rows)

    # ------------------------------------------------------------------ association
    def _match(self, tlwh: np.ndarray, meas: np.ndarray, feats: np.ndarray):
        confirmed = [i for i, t in enumerate(self.tracks) if t.state == CONFIRMED]
        unconfirmed = [i for i, t in enumerate(self.tracks) if t.state != CONFIRMED]
        unmatched_dets: list[int] = list(range(len(tlwh)))
        matches_a: list[tuple[int, int]] = []
        if self.switches.cascade:
            groups = ([k for k in confirmed if self.tracks[k].time_since_update == 1 + level]
                      for level in range(self.max_age))
        else:
            groups = iter([list(confirmed)])
        for group in groups:
            if self.switches.cascade and not unmatched_dets:
                break
            if self.switches.cascade and not group:
                continue
            cost = self._appearance_cost(group, unmatched_dets, meas, feats)
            found, _, unmatched_dets = self._min_cost_matching(cost, self.max_cosine_distance, group, unmatched_dets)
            matches_a += found
        unmatched_a = list(set(confirmed) - {k for k, _ in matches_a})  # the official set order
        candidates = unconfirmed + [k for k in unmatched_a if self.tracks[k].time_since_update == 1]
        unmatched_a = [k for k in unmatched_a if self.tracks[k].time_since_update != 1]
        cost = self._iou_cost(candidates, unmatched_dets, tlwh)
        matches_b, unmatched_b, unmatched_dets = self._min_cost_matching(cost, self.max_iou_distance, candidates,
                                                                         unmatched_dets)
        return matches_a + matches_b, list(set(unmatched_a + unmatched_b)), unmatched_dets

    def _appearance_cost(self, track_idx: list[int], det_idx: list[int], meas: np.ndarray,
                         feats: np.ndarray) -> np.ndarray:
        if not det_idx or not track_idx:
            return np.zeros((len(track_idx), len(det_idx)))
        features = np.array([feats[i] for i in det_idx])
        cost = np.zeros((len(track_idx), len(det_idx)))
        for row, k in enumerate(track_idx):
            cost[row, :] = nn_cosine_distance(self.samples[self.tracks[k].track_id], features)
        measurements = np.asarray([meas[i] for i in det_idx])
        lam = self.switches.mc_lambda
        for row, k in enumerate(track_idx):
            t = self.tracks[k]
            gd = self.kf.gating_distance(t.mean, t.covariance, measurements)
            cost[row, gd > CHI2INV95[4]] = GATED_COST
            if lam is not None:
                cost[row] = lam * cost[row] + (1 - lam) * gd
        return cost

    def _iou_cost(self, track_idx: list[int], det_idx: list[int], tlwh: np.ndarray) -> np.ndarray:
        cost = np.zeros((len(track_idx), len(det_idx)))
        if not det_idx:
            return cost
        candidates = np.asarray([tlwh[i] for i in det_idx])
        for row, k in enumerate(track_idx):
            t = self.tracks[k]
            if t.time_since_update > 1:
                cost[row, :] = GATED_COST
                continue
            cost[row, :] = 1.0 - iou_tlwh(t.tlwh(), candidates)
        return cost

    def _min_cost_matching(self, cost: np.ndarray, max_distance: float, track_idx: list[int], det_idx: list[int]):
        """``linear_assignment.min_cost_matching`` on a ready cost matrix: same solver, same list orders."""
        if not det_idx or not track_idx:
            return [], list(track_idx), list(det_idx)
        cost[cost > max_distance] = max_distance + 1e-5
        if self.switches.solver == "munkres":
            pairs = munkres(cost)
            rows, cols = pairs[:, 0], pairs[:, 1]
        else:
            rows, cols = linear_sum_assignment(cost)
        matched_rows, matched_cols = set(rows.tolist()), set(cols.tolist())
        unmatched_dets = [d for c, d in enumerate(det_idx) if c not in matched_cols]
        unmatched_tracks = [t for r, t in enumerate(track_idx) if r not in matched_rows]
        matches = []
        for r, c in zip(rows, cols, strict=True):
            if cost[r, c] > max_distance:
                unmatched_tracks.append(track_idx[r])
                unmatched_dets.append(det_idx[c])
            else:
                matches.append((track_idx[r], det_idx[c]))
        return matches, unmatched_tracks, unmatched_dets
