"""DeepSORT (Wojke et al., ICIP 2017), decision for decision as nwojke/deep_sort (``deep_sort_app.py``).

Per frame, as the application drives its tracker:

1. detections with height < ``min_detection_height`` are dropped, then those with score below
   ``min_confidence`` (non-strict: a score equal to the threshold is kept);
2. non-maximum suppression with the official +1-pixel overlap over the *other* box's area and
   ``np.argsort`` of the scores (its default sort, so ties fall where the official code puts them).
   At the default ``nms_max_overlap`` 1.0 nothing is removed but the detections are reordered by
   descending score, and that order decides which new track gets which id;
3. every track is Kalman-predicted (the deep_sort 8-d x, y, a, h filter);
4. matching cascade over the confirmed tracks, one level per ``time_since_update`` 1..``max_age``,
   each level solving only the detections left by the previous one: cost = smallest cosine distance
   between the detection's feature and the track's gallery, computed in float32 (features are kept as
   float32 and renormalised, as the official metric does), gated by the squared Mahalanobis distance
   (chi-square 95 %, 4 dof: 9.4877) to 1e5, costs above ``max_cosine_distance`` set to it + 1e-5,
   scipy's ``linear_sum_assignment``, pairs above the threshold rejected;
5. IoU matching (plain IoU, no +1, threshold ``max_iou_distance``) of the unconfirmed tracks and the
   confirmed ones missed exactly once, against the detections left; the candidate order reproduces the
   official list built from a Python ``set`` difference, which feeds the solver's tie-breaking;
6. matched tracks are updated, the others marked missed (a tentative track is deleted at its first
   miss, a confirmed one after more than ``max_age``), unmatched detections start tentative tracks in
   the order the matcher left them (not sorted), confirmed after ``n_init`` hits;
7. the galleries of confirmed tracks take the features of their updates (a tentative track's features
   wait until it is confirmed), cut to the last ``nn_budget`` when set; galleries of tracks that are no
   longer confirmed are dropped.

Output: confirmed tracks with ``time_since_update <= 1`` (a track missed this frame is written with its
predicted box), box from the Kalman mean, score 1, ids from 1. Defaults are those of
``deep_sort_app.py``; ``preset="motchallenge"`` gives ``evaluate_motchallenge.py``'s (min_confidence 0.3,
nn_budget 100).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from mot_bench.plugins import Tracker
from mot_bench.types import Detections, Frame, SeqInfo, Tracks
from trackers.common.kalman import CHI2INV95, KalmanFilterXYAH

GATED_COST = 1e5  # the official INFTY_COST
PRESETS = {
    "app": {"min_confidence": 0.8, "nn_budget": None},
    "motchallenge": {"min_confidence": 0.3, "nn_budget": 100},
}

TENTATIVE, CONFIRMED, DELETED = 1, 2, 3


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
    """Smallest cosine distance from each feature to a gallery, in float32 as the official metric."""
    a = np.asarray(gallery)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = features / np.linalg.norm(features, axis=1, keepdims=True)
    return (1.0 - np.dot(a, b.T)).min(axis=0)


class _Track:
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


def _xyah(tlwh: np.ndarray) -> np.ndarray:
    ret = tlwh.copy()
    ret[:2] += ret[2:] / 2
    ret[2] /= ret[3]
    return ret


class DeepSortTracker(Tracker):
    """DeepSORT: appearance cascade gated by motion, then IoU for new and just-missed tracks."""

    name = "deepsort"
    needs_embeddings = True
    motion_only = False
    SEARCH_SPACE = {
        "min_confidence": (0.1, 0.9),
        "max_cosine_distance": (0.05, 0.5),
        "max_iou_distance": (0.3, 0.95),
        "max_age": (10, 120),
        "n_init": (1, 6),
        "nn_budget": (10, 300),
    }

    def __init__(
        self,
        min_confidence: float | None = None,
        nms_max_overlap: float = 1.0,
        min_detection_height: float = 0.0,
        max_cosine_distance: float = 0.2,
        nn_budget: int | None = None,
        max_iou_distance: float = 0.7,
        max_age: int = 30,
        n_init: int = 3,
        preset: str = "app",
    ) -> None:
        if preset not in PRESETS:
            raise ValueError(f"deepsort preset must be one of {', '.join(PRESETS)}, got {preset!r}")
        base = PRESETS[preset]
        self.preset = preset
        self.min_confidence = float(base["min_confidence"] if min_confidence is None else min_confidence)
        self.nn_budget = base["nn_budget"] if nn_budget is None and preset != "app" else nn_budget
        self.nms_max_overlap = float(nms_max_overlap)
        self.min_detection_height = float(min_detection_height)
        self.max_cosine_distance = float(max_cosine_distance)
        self.max_iou_distance = float(max_iou_distance)
        self.max_age = int(max_age)
        self.n_init = int(n_init)
        self.kf = KalmanFilterXYAH()
        self.reset(None)

    def config(self) -> dict:
        return {"name": self.name, "preset": self.preset, "min_confidence": self.min_confidence,
                "nms_max_overlap": self.nms_max_overlap, "min_detection_height": self.min_detection_height,
                "max_cosine_distance": self.max_cosine_distance, "nn_budget": self.nn_budget,
                "max_iou_distance": self.max_iou_distance, "max_age": self.max_age, "n_init": self.n_init}

    def reset(self, seq: SeqInfo | None) -> None:
        self.tracks: list[_Track] = []
        self.samples: dict[int, list[np.ndarray]] = {}
        self._next_id = 1

    # ------------------------------------------------------------------ per frame
    def update(self, detections: Detections, frame: Frame | None = None) -> Tracks:
        if detections.embeddings is None:
            raise ValueError("deepsort needs re-ID embeddings; use a detector that provides them")
        tlwh = detections.tlwh.astype(np.float64)
        scores = detections.scores.astype(np.float64)
        feats = detections.embeddings.astype(np.float32)
        keep = ~(tlwh[:, 3] < self.min_detection_height) & (scores >= self.min_confidence)
        tlwh, scores, feats = tlwh[keep], scores[keep], feats[keep]
        order = nms_order(tlwh, scores, self.nms_max_overlap)
        tlwh, feats = tlwh[order], feats[order]
        xyah = np.array([_xyah(b) for b in tlwh]).reshape(-1, 4)

        for t in self.tracks:
            t.mean, t.covariance = self.kf.predict(t.mean, t.covariance)
            t.age += 1
            t.time_since_update += 1
        matches, unmatched_tracks, unmatched_dets = self._match(tlwh, xyah, feats)
        for ti, di in matches:
            t = self.tracks[ti]
            t.mean, t.covariance = self.kf.update(t.mean, t.covariance, xyah[di])
            t.features.append(feats[di])
            t.hits += 1
            t.time_since_update = 0
            if t.state == TENTATIVE and t.hits >= self.n_init:
                t.state = CONFIRMED
        for ti in unmatched_tracks:
            t = self.tracks[ti]
            if t.state == TENTATIVE or t.time_since_update > self.max_age:
                t.state = DELETED
        for di in unmatched_dets:
            mean, cov = self.kf.initiate(xyah[di])
            self.tracks.append(_Track(mean, cov, self._next_id, feats[di]))
            self._next_id += 1
        self.tracks = [t for t in self.tracks if t.state != DELETED]
        self._fit_galleries()
        return self._report()

    def _fit_galleries(self) -> None:
        active = [t.track_id for t in self.tracks if t.state == CONFIRMED]
        for t in self.tracks:
            if t.state != CONFIRMED:
                continue
            gallery = self.samples.setdefault(t.track_id, [])
            gallery.extend(t.features)
            if self.nn_budget is not None:
                self.samples[t.track_id] = gallery[-self.nn_budget:]
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
    def _match(self, tlwh: np.ndarray, xyah: np.ndarray, feats: np.ndarray):
        confirmed = [i for i, t in enumerate(self.tracks) if t.state == CONFIRMED]
        unconfirmed = [i for i, t in enumerate(self.tracks) if t.state != CONFIRMED]
        # matching cascade
        unmatched_dets: list[int] = list(range(len(tlwh)))
        matches_a: list[tuple[int, int]] = []
        for level in range(self.max_age):
            if not unmatched_dets:
                break
            level_tracks = [k for k in confirmed if self.tracks[k].time_since_update == 1 + level]
            if not level_tracks:
                continue
            cost = self._appearance_cost(level_tracks, unmatched_dets, xyah, feats)
            found, _, unmatched_dets = _min_cost_matching(cost, self.max_cosine_distance, level_tracks,
                                                          unmatched_dets)
            matches_a += found
        unmatched_a = list(set(confirmed) - {k for k, _ in matches_a})  # the official set order
        candidates = unconfirmed + [k for k in unmatched_a if self.tracks[k].time_since_update == 1]
        unmatched_a = [k for k in unmatched_a if self.tracks[k].time_since_update != 1]
        cost = self._iou_cost(candidates, unmatched_dets, tlwh)
        matches_b, unmatched_b, unmatched_dets = _min_cost_matching(cost, self.max_iou_distance, candidates,
                                                                    unmatched_dets)
        return matches_a + matches_b, list(set(unmatched_a + unmatched_b)), unmatched_dets

    def _appearance_cost(self, track_idx: list[int], det_idx: list[int], xyah: np.ndarray,
                         feats: np.ndarray) -> np.ndarray:
        if not det_idx:
            return np.zeros((len(track_idx), 0))
        features = np.array([feats[i] for i in det_idx])
        cost = np.zeros((len(track_idx), len(det_idx)))
        for row, k in enumerate(track_idx):
            cost[row, :] = nn_cosine_distance(self.samples[self.tracks[k].track_id], features)
        measurements = np.asarray([xyah[i] for i in det_idx])
        for row, k in enumerate(track_idx):
            t = self.tracks[k]
            gd = self.kf.gating_distance(t.mean, t.covariance, measurements)
            cost[row, gd > CHI2INV95[4]] = GATED_COST
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


def _min_cost_matching(cost: np.ndarray, max_distance: float, track_idx: list[int], det_idx: list[int]):
    """``linear_assignment.min_cost_matching`` on a ready cost matrix: same solver, same list orders."""
    if not det_idx or not track_idx:
        return [], list(track_idx), list(det_idx)
    cost[cost > max_distance] = max_distance + 1e-5
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
