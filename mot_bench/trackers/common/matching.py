"""Association helpers with each official tracker's own arithmetic.

Two IoU flavours exist on purpose: SORT's ``iou_batch`` (continuous box widths, x2 - x1) and the
``cython_bbox.bbox_overlaps`` used by FairMOT and ByteTrack (pixel-inclusive widths, x2 - x1 + 1).
Mixing them up changes which pairs pass a 0.3/0.5/0.8 threshold, so each tracker calls its own.
Assignment is ``lap.lapjv`` as in all three official codes.
"""

from __future__ import annotations

import lap
import numpy as np
from scipy.spatial.distance import cdist

from mot_bench.trackers.common.kalman import CHI2INV95, KalmanFilterXYAH


def _as_boxes(boxes: np.ndarray | list) -> np.ndarray:
    if isinstance(boxes, np.ndarray) and boxes.dtype == np.float64 and boxes.ndim == 2 and boxes.shape[1] == 4:
        return boxes
    return np.ascontiguousarray(np.asarray(boxes, dtype=np.float64).reshape(-1, 4))


def iou_sort(bb_test: np.ndarray, bb_gt: np.ndarray) -> np.ndarray:
    """SORT's ``iou_batch``: (N, M) IoU of [x1, y1, x2, y2] boxes without the +1 pixel convention."""
    a = _as_boxes(bb_test)[:, None, :]
    b = _as_boxes(bb_gt)[None, :, :]
    w = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    h = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    wh = w * h
    with np.errstate(invalid="ignore", divide="ignore"):
        return wh / (
            (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]) + (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]) - wh
        )


def bbox_ious(boxes: np.ndarray, query_boxes: np.ndarray) -> np.ndarray:
    """``cython_bbox.bbox_overlaps``, vectorised with the same operation order: widths and heights
    are x2 - x1 + 1, and pairs whose +1 intersection width or height is <= 0 get 0."""
    a = _as_boxes(boxes)
    q = _as_boxes(query_boxes)
    out = np.zeros((len(a), len(q)), dtype=np.float64)
    if out.size == 0:
        return out
    wh = a[:, 2:] - a[:, :2] + 1
    a_area = wh[:, 0] * wh[:, 1]
    wh = q[:, 2:] - q[:, :2] + 1
    q_area = wh[:, 0] * wh[:, 1]
    iwh = np.minimum(a[:, None, 2:], q[None, :, 2:]) - np.maximum(a[:, None, :2], q[None, :, :2]) + 1
    iw, ih = iwh[..., 0], iwh[..., 1]
    inter = iw * ih
    ua = a_area[:, None] + q_area[None, :] - inter
    np.divide(inter, ua, out=out, where=(iw > 0) & (ih > 0))
    return out


def iou_distance(atlbrs: np.ndarray, btlbrs: np.ndarray) -> np.ndarray:
    """FairMOT/ByteTrack cost: 1 - bbox_ious (an empty side gives an empty (N, M) matrix)."""
    if len(atlbrs) == 0 or len(btlbrs) == 0:
        return np.zeros((len(atlbrs), len(btlbrs)), dtype=np.float64)
    return 1 - bbox_ious(atlbrs, btlbrs)


def linear_assignment(cost_matrix: np.ndarray, thresh: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """FairMOT/ByteTrack assignment: ``lap.lapjv(extend_cost=True, cost_limit=thresh)``.

    Returns (matches (K, 2) [row, col], unmatched rows, unmatched cols).
    """
    cost_matrix = np.asarray(cost_matrix, dtype=np.float64)
    if cost_matrix.size == 0:
        return (
            np.empty((0, 2), dtype=int),
            np.arange(cost_matrix.shape[0]),
            np.arange(cost_matrix.shape[1]),
        )
    _, x, y = lap.lapjv(cost_matrix, extend_cost=True, cost_limit=thresh)
    rows = (x >= 0).nonzero()[0]
    matches = np.empty((len(rows), 2), dtype=int)
    matches[:, 0] = rows
    matches[:, 1] = x[rows]
    return matches, (x < 0).nonzero()[0], (y < 0).nonzero()[0]


def sort_linear_assignment(cost_matrix: np.ndarray) -> np.ndarray:
    """SORT's ``linear_assignment``: lapjv on the full (rectangular, zero-extended) cost, no limit.
    Returns (K, 2) [row, col] pairs in row order."""
    _, x, y = lap.lapjv(np.asarray(cost_matrix, dtype=np.float64), extend_cost=True)
    cols = x[x >= 0]
    return np.stack([y[cols], cols], axis=1).astype(int)


def sort_associate(
    dets: np.ndarray, trks: np.ndarray, iou_threshold: float = 0.3
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SORT's ``associate_detections_to_trackers``.

    If every detection and every tracker has at most one IoU above the threshold, those pairs are
    taken directly; otherwise a full assignment maximises total IoU and pairs below the threshold
    are then dropped. Returns (matches [det, trk], unmatched dets, unmatched trks), with unmatched
    indices in the original's order (unassigned first, then dropped pairs).
    """
    if len(trks) == 0:
        return np.empty((0, 2), dtype=int), np.arange(len(dets)), np.empty((0,), dtype=int)
    iou_matrix = iou_sort(dets, trks)
    if min(iou_matrix.shape) > 0:
        a = iou_matrix > iou_threshold
        if a.sum(1).max() == 1 and a.sum(0).max() == 1:
            matched = np.stack(np.nonzero(a), axis=1)
        else:
            matched = sort_linear_assignment(-iou_matrix)
    else:
        matched = np.empty((0, 2), dtype=int)
    det_free = np.ones(len(dets), dtype=bool)
    det_free[matched[:, 0]] = False
    trk_free = np.ones(len(trks), dtype=bool)
    trk_free[matched[:, 1]] = False
    low = iou_matrix[matched[:, 0], matched[:, 1]] < iou_threshold
    unmatched_dets = np.concatenate([np.flatnonzero(det_free), matched[low, 0]]).astype(int)
    unmatched_trks = np.concatenate([np.flatnonzero(trk_free), matched[low, 1]]).astype(int)
    return matched[~low].astype(int).reshape(-1, 2), unmatched_dets, unmatched_trks


def embedding_distance(
    track_feats: np.ndarray | list[np.ndarray],
    det_feats: np.ndarray | list[np.ndarray],
    metric: str = "cosine",
) -> np.ndarray:
    """FairMOT's appearance cost: cdist (cosine) between tracks' smoothed and detections' current
    features, in float64, clipped at 0."""
    if len(track_feats) == 0 or len(det_feats) == 0:
        return np.zeros((len(track_feats), len(det_feats)), dtype=np.float64)
    t = np.asarray(track_feats, dtype=np.float64)
    d = np.asarray(det_feats, dtype=np.float64)
    return np.maximum(0.0, cdist(t, d, metric))


def gate_cost_matrix(
    kf: KalmanFilterXYAH,
    cost_matrix: np.ndarray,
    means: list[np.ndarray],
    covariances: list[np.ndarray],
    measurements: np.ndarray,
    only_position: bool = False,
) -> np.ndarray:
    """Set cost to inf where the Mahalanobis distance exceeds the chi2 0.95 gate (modifies in place)."""
    if cost_matrix.size == 0:
        return cost_matrix
    gating_threshold = CHI2INV95[2 if only_position else 4]
    for row, (mean, cov) in enumerate(zip(means, covariances, strict=True)):
        gd = kf.gating_distance(mean, cov, measurements, only_position)
        cost_matrix[row, gd > gating_threshold] = np.inf
    return cost_matrix


def fuse_motion(
    kf: KalmanFilterXYAH,
    cost_matrix: np.ndarray,
    means: list[np.ndarray],
    covariances: list[np.ndarray],
    measurements: np.ndarray,
    only_position: bool = False,
    lambda_: float = 0.98,
) -> np.ndarray:
    """FairMOT's fused cost: gate by chi2 0.95, then lambda * cost + (1 - lambda) * Mahalanobis
    distance, row by row (modifies in place). ``measurements`` are the detections' (x, y, a, h)."""
    if cost_matrix.size == 0:
        return cost_matrix
    gating_threshold = CHI2INV95[2 if only_position else 4]
    for row, (mean, cov) in enumerate(zip(means, covariances, strict=True)):
        gd = kf.gating_distance(mean, cov, measurements, only_position, metric="maha")
        cost_matrix[row, gd > gating_threshold] = np.inf
        cost_matrix[row] = lambda_ * cost_matrix[row] + (1 - lambda_) * gd
    return cost_matrix


def fuse_score(cost_matrix: np.ndarray, det_scores: np.ndarray) -> np.ndarray:
    """ByteTrack's score fusion (used when not ``mot20``): 1 - IoU_similarity * detection score."""
    if cost_matrix.size == 0:
        return cost_matrix
    return 1 - (1 - cost_matrix) * np.asarray(det_scores)[None, :]
