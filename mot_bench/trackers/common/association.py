"""The OC-SORT family's similarity functions and its assignment call, dtype for dtype.

Every function takes boxes as (N, >=4) and (M, >=4) arrays of x1, y1, x2, y2 (extra columns such as a
score are ignored) and returns an (N, M) similarity, larger is closer. Unlike
:func:`mot_bench.trackers.common.matching.iou_sort` nothing is cast: the arithmetic runs in whatever dtypes the
caller hands in, with numpy's promotion rules, because that is what the official code does. OC-SORT
feeds float32 detections against float64 predictions, so a detection's own width, height, area and
centre are float32 numbers while everything that mixes it with a track is float64; against the tracks'
last observations (float32 too, unless one track has none) the whole IoU is float32. Each expression
keeps the official operation order (e.g. the union is ``(area_a + area_b) - inter``), and the
transcendental functions see arrays of the official shapes, so the results are bit-identical.

The ``giou``/``diou``/``ciou`` scores are rescaled from (-1, 1) to (0, 1) and ``ct_dist`` is the
centre distance turned into a (0, 1) similarity by the largest distance of the matrix, as in
noahcao/OC_SORT ``trackers/ocsort_tracker/association.py``.
"""

from __future__ import annotations

import lap
import numpy as np

_FOUR_OVER_PI_SQ = 4 / (np.pi**2)


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N, 1, C) and (1, M, C) views for broadcasting."""
    return np.expand_dims(a, 1), np.expand_dims(b, 0)


def _overlap(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Intersection area and union area of every pair (no +1 pixel convention)."""
    iw = np.maximum(0.0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]))
    ih = np.maximum(0.0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]))
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    return inter, area_a + area_b - inter


def _centre_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Squared distance between box centres."""
    dcx = (a[..., 0] + a[..., 2]) / 2.0 - (b[..., 0] + b[..., 2]) / 2.0
    dcy = (a[..., 1] + a[..., 3]) / 2.0 - (b[..., 1] + b[..., 3]) / 2.0
    return dcx**2 + dcy**2


def _hull(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Width and height of the smallest box enclosing both boxes of every pair."""
    hw = np.maximum(a[..., 2], b[..., 2]) - np.minimum(a[..., 0], b[..., 0])
    hh = np.maximum(a[..., 3], b[..., 3]) - np.minimum(a[..., 1], b[..., 1])
    return hw, hh


def iou_batch(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Plain IoU (continuous widths, x2 - x1), as SORT."""
    a, b = _pair(boxes_a, boxes_b)
    inter, union = _overlap(a, b)
    return inter / union


def hmiou_batch(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Hybrid-SORT's height-modulated IoU: the IoU times the ratio of the two boxes' vertical overlap to
    their vertical extent, ``(min y2 - max y1) / (max y2 - min y1)`` (negative when they do not overlap
    vertically, where the IoU is 0), as ymzis69/HybridSORT ``association.py::hmiou``."""
    a, b = _pair(boxes_a, boxes_b)
    height_ratio = (np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1])) / (
        np.maximum(a[..., 3], b[..., 3]) - np.minimum(a[..., 1], b[..., 1])
    )
    inter, union = _overlap(a, b)
    return height_ratio * (inter / union)


def giou_batch(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Generalised IoU rescaled to (0, 1). Degenerate enclosing boxes are refused, as upstream."""
    a, b = _pair(boxes_a, boxes_b)
    inter, union = _overlap(a, b)
    iou = inter / union
    hw, hh = _hull(a, b)
    if not ((hw > 0).all() and (hh > 0).all()):
        raise ValueError("giou: a pair of boxes has an enclosing box of zero width or height")
    hull = hw * hh
    return (iou - (hull - union) / hull + 1.0) / 2.0


def diou_batch(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Distance IoU rescaled to (0, 1)."""
    a, b = _pair(boxes_a, boxes_b)
    inter, union = _overlap(a, b)
    hw, hh = _hull(a, b)
    diou = inter / union - _centre_gap(a, b) / (hw**2 + hh**2)
    return (diou + 1) / 2.0


def ciou_batch(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Complete IoU rescaled to (0, 1); heights get +1 inside the aspect term (upstream's guard)."""
    a, b = _pair(boxes_a, boxes_b)
    inter, union = _overlap(a, b)
    iou = inter / union
    hw, hh = _hull(a, b)
    aspect_b = np.arctan((b[..., 2] - b[..., 0]) / ((b[..., 3] - b[..., 1]) + 1.0))
    aspect_a = np.arctan((a[..., 2] - a[..., 0]) / ((a[..., 3] - a[..., 1]) + 1.0))
    v = _FOUR_OVER_PI_SQ * ((aspect_b - aspect_a) ** 2)
    alpha = v / ((1 - iou) + v)
    ciou = iou - _centre_gap(a, b) / (hw**2 + hh**2) - alpha * v
    return (ciou + 1) / 2.0


def ct_dist(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Centre distance as a similarity: ``max(d') - d'`` with ``d' = d / max(d)`` over the matrix."""
    a, b = _pair(boxes_a, boxes_b)
    d = np.sqrt(_centre_gap(a, b))
    d = d / d.max()
    return d.max() - d


ASSOCIATION_FUNCS = {
    "iou": iou_batch,
    "giou": giou_batch,
    "diou": diou_batch,
    "ciou": ciou_batch,
    "ct_dist": ct_dist,
}


def direction_batch(
    dets: np.ndarray, origins: np.ndarray, corner: tuple[int, int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors from each origin box's centre to each detection's centre: (dy, dx), (T, N) each;
    with ``corner`` (the column indices of an x and a y, e.g. (0, 1) for the top-left corner), from
    that corner of each origin box to the same corner of each detection.

    The detections' points are computed in their own dtype, the origins' in theirs; the norm gets
    +1e-6 (so two equal points give a zero vector).
    """
    org = origins[..., np.newaxis]
    if corner is None:
        det_x = (dets[:, 0] + dets[:, 2]) / 2.0
        det_y = (dets[:, 1] + dets[:, 3]) / 2.0
        org_x = (org[:, 0] + org[:, 2]) / 2.0
        org_y = (org[:, 1] + org[:, 3]) / 2.0
    else:
        ix, iy = corner
        det_x, det_y = dets[:, ix], dets[:, iy]
        org_x, org_y = org[:, ix], org[:, iy]
    dx = det_x - org_x
    dy = det_y - org_y
    norm = np.sqrt(dx**2 + dy**2) + 1e-6
    return dy / norm, dx / norm


def lapjv_pairs(similarity_cost: np.ndarray) -> np.ndarray:
    """Full rectangular assignment of a cost matrix with ``lap.lapjv(extend_cost=True)`` and no cost
    limit: (K, 2) [row, col] pairs in row order, K = min(N, M)."""
    _, x, _ = lap.lapjv(similarity_cost, extend_cost=True)
    rows = np.flatnonzero(x >= 0)
    return np.stack([rows, x[rows]], axis=1)
