"""Identity metrics (IDF1, Ristani et al. 2016) as TrackEval 1.3.0 computes them.

Matches per frame are IoU >= 0.5 (no eps here, as in TrackEval); the global id assignment is one
linear_sum_assignment on the same (gt ids + tracker ids) square cost matrix TrackEval builds, so an
optimum with several IDFN/IDFP splits resolves the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mot_bench.metrics.fast.lsap import linear_sum_assignment
from mot_bench.metrics.fast.preprocess import SeqData

NAME = "Identity"
THRESHOLD = 0.5
INTEGER_FIELDS = ("IDTP", "IDFN", "IDFP")
FLOAT_FIELDS = ("IDF1", "IDR", "IDP")
FLOAT_ARRAY_FIELDS: tuple[str, ...] = ()
INTEGER_ARRAY_FIELDS: tuple[str, ...] = ()
FIELDS = FLOAT_FIELDS + INTEGER_FIELDS


@dataclass
class Assignment:
    """The global gt id <-> tracker id assignment of IDF1: ``rows``/``cols`` solve the square cost matrix
    (gt ids, then one dummy per tracker id; tracker ids, then one dummy per gt id); ``potential`` (gt ids,
    tracker ids) counts the frames each pair overlaps with IoU >= 0.5."""

    rows: np.ndarray
    cols: np.ndarray
    potential: np.ndarray
    fn_mat: np.ndarray
    fp_mat: np.ndarray
    gt_id_count: np.ndarray


def assignment(data: SeqData) -> Assignment:
    """The assignment TrackEval's Identity metric makes on ``data`` (which has both gt and tracker boxes)."""
    n_gt, n_trk = data.num_gt_ids, data.num_tracker_ids
    hit = data.sim >= THRESHOLD
    cell = data.gt_id[data.pair_gt[hit]] * n_trk + data.trk_id[data.pair_trk[hit]]
    potential = np.bincount(cell, minlength=n_gt * n_trk).astype(np.float64).reshape(n_gt, n_trk)
    gt_id_count = np.bincount(data.gt_id, minlength=n_gt).astype(np.float64)
    trk_id_count = np.bincount(data.trk_id, minlength=n_trk).astype(np.float64)

    size = n_gt + n_trk
    fp_mat = np.zeros((size, size))
    fn_mat = np.zeros((size, size))
    fp_mat[n_gt:, :n_trk] = 1e10
    fn_mat[:n_gt, n_trk:] = 1e10
    fn_mat[:n_gt, :n_trk] = gt_id_count[:, np.newaxis]
    fn_mat[np.arange(n_gt), n_trk + np.arange(n_gt)] = gt_id_count
    fp_mat[:n_gt, :n_trk] = trk_id_count[np.newaxis, :]
    fp_mat[n_gt + np.arange(n_trk), np.arange(n_trk)] = trk_id_count
    fn_mat[:n_gt, :n_trk] -= potential
    fp_mat[:n_gt, :n_trk] -= potential
    rows, cols = linear_sum_assignment(fn_mat + fp_mat)
    return Assignment(rows, cols, potential, fn_mat, fp_mat, gt_id_count)


def eval_sequence(data: SeqData) -> dict:
    res: dict = {f: 0 for f in FIELDS}
    if data.num_tracker_dets == 0:
        res["IDFN"] = data.num_gt_dets
        return res
    if data.num_gt_dets == 0:
        res["IDFP"] = data.num_tracker_dets
        return res
    a = assignment(data)
    res["IDFN"] = int(a.fn_mat[a.rows, a.cols].sum())
    res["IDFP"] = int(a.fp_mat[a.rows, a.cols].sum())
    res["IDTP"] = int(a.gt_id_count.sum() - res["IDFN"])
    return final_fields(res)


def final_fields(res: dict) -> dict:
    res["IDR"] = res["IDTP"] / np.maximum(1.0, res["IDTP"] + res["IDFN"])
    res["IDP"] = res["IDTP"] / np.maximum(1.0, res["IDTP"] + res["IDFP"])
    res["IDF1"] = res["IDTP"] / np.maximum(1.0, res["IDTP"] + 0.5 * res["IDFP"] + 0.5 * res["IDFN"])
    return res


def combine_sequences(all_res: list[dict]) -> dict:
    res = {f: sum(r[f] for r in all_res) for f in INTEGER_FIELDS}
    return final_fields(res)
