"""Pieces the OC-SORT family shares (OC-SORT, Deep OC-SORT), in the official arithmetic.

Both official trackers (noahcao/OC_SORT and GerardMaggiolino/Deep-OC-SORT, which forks it) keep the
same bookkeeping around different Kalman filters: the placeholder "no observation" row, the motion
direction between two observations, the observation ``delta_t`` frames back, the first association
round (IoU plus the observation-centric momentum term, with its single-candidate shortcut), the
observation-centric recovery round on last observations, and the output rule. Nothing here casts:
numpy's promotion of the callers' arrays decides the dtypes, as upstream (see :mod:`mot_bench.trackers.ocsort`).
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


def momentum(dets: np.ndarray, velocities: np.ndarray, previous: np.ndarray, inertia: float) -> np.ndarray:
    """OCM: (N, T) bonus ``(pi/2 - angle) / pi * inertia * score`` between each track's motion
    direction and the direction from its ``delta_t``-back observation to each detection (0 for
    tracks without an observation)."""
    dir_y, dir_x = direction_batch(dets, previous)
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

    When no row and no column of ``IoU > iou_threshold`` has more than one entry (and some pair is
    above), the pairs are those above and nothing else counts; otherwise ``lapjv`` on
    ``-(IoU + momentum [+ extra()])``, where ``extra`` (Deep OC-SORT's weighted embedding
    similarity) is only computed in that branch. Pairs with IoU < threshold are dropped; unmatched
    detections keep the official order (never-assigned ones sorted, then the dropped ones in row
    order), which decides new ids.
    """
    n, m = len(dets), len(trks)
    if m == 0:
        return _EMPTY_PAIRS, np.arange(n), np.empty((0,), dtype=int)
    iou = iou_batch(dets, trks)
    if n == 0:
        pairs = _EMPTY_PAIRS
    else:
        above = (iou > iou_threshold).astype(np.int32)
        if above.sum(1).max() == 1 and above.sum(0).max() == 1:
            pairs = np.stack(np.where(above), axis=1)  # the shortcut: IoU alone decides
        else:
            sim = iou + momentum(dets, velocities, previous, inertia)
            more = extra() if extra is not None else None
            if more is not None:
                sim = sim + more
            pairs = lapjv_pairs(-sim)
    if len(pairs) == 0:
        return _EMPTY_PAIRS, np.arange(n), np.arange(m)
    weak = iou[pairs[:, 0], pairs[:, 1]] < iou_threshold
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
