"""Pieces the OC-SORT family shares (OC-SORT, Deep OC-SORT, Hybrid-SORT), in the official arithmetic.

The official trackers (noahcao/OC_SORT and its forks GerardMaggiolino/Deep-OC-SORT and ymzis69/HybridSORT)
keep the same bookkeeping around different Kalman filters: the placeholder "no observation" row, the motion
direction between two observations, the observation ``delta_t`` frames back, the first association
round (a similarity plus the observation-centric momentum term, with its single-candidate shortcut), the
observation-centric recovery round on last observations, and the output rule; OC-SORT and Hybrid-SORT also
share the SORT-style Kalman filter (positions plus velocities, 0/1 transition and measurement matrices) and
its re-update along a virtual path (ORU). Nothing here casts: numpy's promotion of the callers' arrays decides
the dtypes, as upstream (see :mod:`mot_bench.trackers.ocsort`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mot_bench.trackers.common.association import direction_batch, iou_batch, lapjv_pairs

NO_OBS = np.array([-1, -1, -1, -1, -1])  # official placeholder (int64: it changes the array dtype)
NO_VEL = np.array((0, 0))


def direction(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Unit (dy, dx) from box a's centre to box b's centre (+1e-6 in the norm), in their dtype."""
    ddx = (b[0] + b[2]) / 2.0 - (a[0] + a[2]) / 2.0
    ddy = (b[1] + b[3]) / 2.0 - (a[1] + a[3]) / 2.0
    norm = np.sqrt(ddy**2 + ddx**2) + 1e-6
    return np.array([ddy, ddx]) / norm


def previous_obs(observations: dict[int, np.ndarray], age: int, last_obs: np.ndarray, delta_t: int) -> np.ndarray:
    """The observation ``delta_t`` frames back, else the closest later one, else the newest (``last_obs``,
    which is always the newest entry of ``observations``), else the placeholder."""
    if not observations:
        return NO_OBS
    for dt in range(delta_t, 0, -1):
        obs = observations.get(age - dt)
        if obs is not None:
            return obs
    return last_obs


def momentum(
    dets: np.ndarray,
    velocities: np.ndarray,
    previous: np.ndarray,
    inertia: float,
    corner: tuple[int, int] | None = None,
) -> np.ndarray:
    """OCM: (N, T) bonus ``(pi/2 - angle) / pi * inertia * score`` between each track's motion
    direction and the direction from its ``delta_t``-back observation to each detection (0 for
    tracks without an observation). Directions join box centres, or one box corner (``corner``: the
    column indices of its x and y, Hybrid-SORT's four-corner variant)."""
    dir_y, dir_x = direction_batch(dets, previous, corner)
    cos = np.clip(velocities[:, 1][:, None] * dir_x + velocities[:, 0][:, None] * dir_y, -1, 1)
    consistency = (np.pi / 2.0 - np.abs(np.arccos(cos))) / np.pi
    valid = np.ones(len(previous))
    valid[previous[:, 4] < 0] = 0
    return ((valid[:, None] * consistency) * inertia).T * dets[:, 4][:, None]


_EMPTY_PAIRS = np.empty((0, 2), dtype=int)


def first_round(
    dets: np.ndarray,
    trks: np.ndarray,
    velocities: np.ndarray,
    previous: np.ndarray,
    iou_threshold: float,
    inertia: float,
    extra: Callable[[], np.ndarray | None] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Detections vs. predicted boxes: (pairs [det, trk], unmatched dets, unmatched tracks).

    :func:`gated_pairs` on the IoU, the solver maximising IoU + momentum [+ ``extra()``], where ``extra``
    (Deep OC-SORT's weighted embedding similarity) is only computed when the solver runs.
    """
    n, m = len(dets), len(trks)
    if m == 0:
        return _EMPTY_PAIRS, np.arange(n), np.empty((0,), dtype=int)
    iou = iou_batch(dets, trks)

    def similarity() -> np.ndarray:
        sim = iou + momentum(dets, velocities, previous, inertia)
        more = extra() if extra is not None else None
        return sim if more is None else sim + more

    return gated_pairs(iou, similarity, iou_threshold)


def gated_pairs(
    gate: np.ndarray, similarity: Callable[[], np.ndarray], threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The first round's decision on an (N, M > 0) gate matrix (IoU; Hybrid-SORT's height-modulated IoU).

    When no row and no column of ``gate > threshold`` has more than one entry (and some pair is
    above), the pairs are those above and nothing else counts; otherwise ``lapjv`` on
    ``-similarity()``. Pairs whose gate value is below the threshold are dropped (:func:`drop_pairs`).
    """
    n, m = gate.shape
    if n == 0:
        pairs = _EMPTY_PAIRS
    else:
        above = (gate > threshold).astype(np.int32)
        if above.sum(1).max() == 1 and above.sum(0).max() == 1:
            pairs = np.stack(np.where(above), axis=1)  # the shortcut: the gate alone decides
        else:
            pairs = lapjv_pairs(-similarity())
    if len(pairs) == 0:
        return _EMPTY_PAIRS, np.arange(n), np.arange(m)
    return drop_pairs(pairs, gate[pairs[:, 0], pairs[:, 1]] < threshold, n, m)


def drop_pairs(
    pairs: np.ndarray, weak: np.ndarray, n: int, m: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solver pairs minus the ``weak`` ones: (kept pairs, unmatched dets, unmatched tracks) in the
    official order (never-assigned ones sorted, then those of dropped pairs in row order), which
    decides new ids and the columns of later rounds."""
    u_dets = np.concatenate([np.setdiff1d(np.arange(n), pairs[:, 0]), pairs[weak, 0]])
    u_trks = np.concatenate([np.setdiff1d(np.arange(m), pairs[:, 1]), pairs[weak, 1]])
    return pairs[~weak], u_dets.astype(int), u_trks.astype(int)


def recovery_pairs(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """OCR (and BYTE) rounds: solver pairs [row, col] on ``-similarity`` whose similarity is not below
    the threshold, only when the largest similarity exceeds it (otherwise none)."""
    if similarity.size == 0 or not similarity.max() > threshold:
        return []
    return [(i, j) for i, j in lapjv_pairs(-similarity) if not similarity[i, j] < threshold]


def output_filter(tlbr: np.ndarray, min_box_area: float, aspect_ratio_thresh: float | None) -> np.ndarray:
    """The evaluation scripts' filter: keep w*h > ``min_box_area`` and not w/h > ``aspect_ratio_thresh``."""
    w = tlbr[:, 2] - tlbr[:, 0]
    h = tlbr[:, 3] - tlbr[:, 1]
    ok = w * h > min_box_area
    if aspect_ratio_thresh is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            ok &= ~(w / h > aspect_ratio_thresh)
    return ok


def kf_predict(x: np.ndarray, P: np.ndarray, Q: np.ndarray, n_vel: int) -> tuple[np.ndarray, np.ndarray]:
    """Constant-velocity prediction of stacked (T, d, 1) states and (T, d, d) covariances: F x and
    F P F' + Q, where F adds the last ``n_vel`` entries (velocities) to the first ``n_vel``. Products
    with the 0/1 matrix F are exact, so these sums are bit for bit what ``np.dot(F, ...)`` gives."""
    v = x.shape[1] - n_vel
    nx = x.copy()
    nx[:, :n_vel] = x[:, :n_vel] + x[:, v:]
    fp = P.copy()
    fp[:, :n_vel] = P[:, :n_vel] + P[:, v:]
    fpf = fp.copy()
    fpf[:, :, :n_vel] = fp[:, :, :n_vel] + fp[:, :, v:]
    return nx, fpf + Q


def kf_update(x: np.ndarray, P: np.ndarray, z: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """filterpy's Joseph-form update of (K, d, 1) states and (K, d, d) covariances with (K, m, 1)
    measurements of the first m state entries (H = [I 0]) and a diagonal R, in the official order of
    operations. ``np.matmul`` on the stack multiplies each slice with the same BLAS call ``np.dot``
    makes on one matrix (checked bit for bit); K R K' is ``(K * diag R) K'`` (the zeros of R add
    nothing)."""
    m = z.shape[1]
    y = z - x[:, :m]
    pht = np.ascontiguousarray(P[:, :, :m])
    si = np.linalg.inv(pht[:, :m] + R)
    k = np.matmul(pht, si)
    x = x + np.matmul(k, y)
    kh = np.zeros(P.shape)
    kh[:, :, :m] = k
    i_kh = np.eye(P.shape[1]) - kh
    P = np.matmul(np.matmul(i_kh, P), i_kh.transpose(0, 2, 1)) + np.matmul(k * R.diagonal(), k.transpose(0, 2, 1))
    return x, P


def virtual_measurements(start: np.ndarray, end: np.ndarray, steps: int) -> list[np.ndarray]:
    """ORU's virtual path: ``steps`` measurements on the straight line in (x, y, w, h) from measurement
    ``start`` (excluded) to ``end``, each (x, y, w h, w / h) as a column. A 5-entry measurement
    (Hybrid-SORT's x, y, area, confidence, ratio) also interpolates the confidence linearly.

    Upstream's gap is a difference of ``np.where`` indices, a numpy int64: dividing float32
    differences by it makes the steps, and so every virtual box, float64."""
    a, b = start.reshape(-1), end.reshape(-1)
    x1, y1, s1, r1 = a[0], a[1], a[2], a[-1]
    x2, y2, s2, r2 = b[0], b[1], b[2], b[-1]
    w1, h1 = np.sqrt(s1 * r1), np.sqrt(s1 / r1)
    w2, h2 = np.sqrt(s2 * r2), np.sqrt(s2 / r2)
    gap = np.int64(steps)
    dx, dy = (x2 - x1) / gap, (y2 - y1) / gap
    dw, dh = (w2 - w1) / gap, (h2 - h1) / gap
    with_confidence = len(a) == 5
    if with_confidence:
        dc = (b[3] - a[3]) / gap
    boxes = []
    for step in range(1, steps + 1):
        w = w1 + step * dw
        h = h1 + step * dh
        middle = [a[3] + step * dc] if with_confidence else []
        boxes.append(np.array([x1 + step * dx, y1 + step * dy, w * h, *middle, w / h]).reshape(-1, 1))
    return boxes
