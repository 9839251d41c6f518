"""CLEAR MOT (Bernardin & Stiefelhagen 2008) as TrackEval 1.3.0 computes it.

A gt box and a tracker box can match when their IoU is >= 0.5 - eps; per frame the assignment
maximises 1000 x (the pair continues the previous frame's match) + IoU. Frames in which no box has two
candidates need no solver (every candidate is matched whatever the bonus); the others are solved in
frame order with the bonus matrix TrackEval builds, the previous frame being the last one that had
both gt and tracker boxes (TrackEval skips the others without touching its state). IDSW, Frag and
MT/PT/ML then follow from the list of matches with array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from mot_bench.metrics.fast.preprocess import EPS, FrameMatrices, SeqData, ambiguous_frames, frame_totals_in_order

NAME = "CLEAR"
THRESHOLD = 0.5
MAIN_INTEGER_FIELDS = ("CLR_TP", "CLR_FN", "CLR_FP", "IDSW", "MT", "PT", "ML", "Frag")
INTEGER_FIELDS = MAIN_INTEGER_FIELDS + ("CLR_Frames",)
MAIN_FLOAT_FIELDS = ("MOTA", "MOTP", "MODA", "CLR_Re", "CLR_Pr", "MTR", "PTR", "MLR", "sMOTA")
FLOAT_FIELDS = MAIN_FLOAT_FIELDS + ("CLR_F1", "FP_per_frame", "MOTAL", "MOTP_sum")
FLOAT_ARRAY_FIELDS: tuple[str, ...] = ()
INTEGER_ARRAY_FIELDS: tuple[str, ...] = ()
FIELDS = FLOAT_FIELDS + INTEGER_FIELDS
SUMMED_FIELDS = INTEGER_FIELDS + ("MOTP_sum",)


def _matches(data: SeqData) -> np.ndarray:
    candidate = data.sim >= THRESHOLD - EPS
    hard = ambiguous_frames(candidate, data.pair_frame, data.pair_gt, data.pair_trk,
                            data.num_gt_dets, data.num_tracker_dets, data.num_timesteps)
    if not len(hard):
        return np.flatnonzero(candidate)
    hard_mask = np.zeros(data.num_timesteps, dtype=bool)
    hard_mask[hard] = True
    chosen = candidate & ~hard_mask[data.pair_frame]
    active = np.flatnonzero((data.gt_count > 0) & (data.trk_count > 0))
    rank = np.full(data.num_timesteps, -1, dtype=np.int64)
    rank[active] = np.arange(len(active))
    g_of = data.gt_id[data.pair_gt]
    t_of = data.trk_id[data.pair_trk]
    mats = FrameMatrices(hard, data.gt_count, data.trk_count, data.pair_frame, data.pair_row, data.pair_col)
    base = mats.buffer(np.where(candidate, data.sim, 0.0))
    slot_pos = np.full(len(data.sim), -1, dtype=np.int64)
    slot_pos[mats.pairs] = mats.pos

    # The bonus cells of a frame whose previous active frame needs no solver are known in advance:
    # the candidates (gt id, tracker id) that are matches of that previous frame.
    n_trk = data.num_tracker_ids
    span = data.num_gt_ids * n_trk
    cand = np.flatnonzero(candidate)
    c_frame = data.pair_frame[cand]
    c_key = g_of[cand] * n_trk + t_of[cand]
    fixed = ~hard_mask[c_frame]
    in_hard = np.flatnonzero(~fixed)
    known = np.isin(rank[c_frame[in_hard]] * span + c_key[in_hard], (rank[c_frame[fixed]] + 1) * span + c_key[fixed])
    pre_bonus = cand[in_hard[known]]  # pair indices, in frame order
    pre_lo = np.searchsorted(pre_bonus, data.pair_start[hard])
    pre_hi = np.searchsorted(pre_bonus, data.pair_start[hard + 1])
    pred_hard = np.zeros(len(hard), dtype=bool)
    pred_hard[1:] = rank[hard[1:]] - 1 == rank[hard[:-1]]  # the previous active frame was solved just before

    prev = np.full(data.num_gt_ids, -1, dtype=np.int64)  # tracker id matched in the previous active frame
    last_g = last_t = np.zeros(0, dtype=np.int64)
    starts, heights, widths = mats.start.tolist(), mats.heights.tolist(), mats.widths.tolist()
    for i, f in enumerate(hard.tolist()):
        start, h, w = starts[i], heights[i], widths[i]
        score = base[start:start + h * w].copy()
        if pred_hard[i]:
            lo, hi = int(data.pair_start[f]), int(data.pair_start[f + 1])
            prev[last_g] = last_t
            bonus = lo + np.flatnonzero(candidate[lo:hi] & (t_of[lo:hi] == prev[g_of[lo:hi]]))
            prev[last_g] = -1
        else:
            bonus = pre_bonus[pre_lo[i]:pre_hi[i]]
        score[slot_pos[bonus] - start] += 1000
        rows, cols = linear_sum_assignment(-score.reshape(h, w))
        used = rows * w + cols
        cells = mats.lookup[start + used[score[used] > 0 + EPS]]
        chosen[cells] = True
        last_g, last_t = g_of[cells], t_of[cells]
    return np.flatnonzero(chosen)


@dataclass
class Matching:
    """CLEAR's matches of one sequence and what the kit reads from their order.

    ``match`` lists the matched pairs in frame order (the order MOTP is summed in); ``frame``, ``gt`` and
    ``trk`` are theirs (relabelled ids). ``order`` sorts the matches by (gt id, frame); ``switch``,
    ``run_start`` and ``resumed`` are per match in that sorted order: the match gives its gt id another
    tracker id than its previous match (an IDSW), starts a run of matches over consecutive active frames,
    or starts a run that is not the gt id's first (a fragmentation: Frag counts these).
    """

    match: np.ndarray
    frame: np.ndarray
    gt: np.ndarray
    trk: np.ndarray
    order: np.ndarray
    switch: np.ndarray
    run_start: np.ndarray
    resumed: np.ndarray


def matching(data: SeqData) -> Matching:
    """The matches TrackEval's CLEAR makes on ``data`` (which has both gt and tracker boxes)."""
    match = _matches(data)
    m_frame = data.pair_frame[match]
    m_gt = data.gt_id[data.pair_gt[match]]
    m_trk = data.trk_id[data.pair_trk[match]]
    num_matches = len(match)

    # IDSW: a gt id matched to another tracker id than at its previous match (any frame before)
    order = np.lexsort((m_frame, m_gt))
    g_sorted, t_sorted = m_gt[order], m_trk[order]
    same_gt = g_sorted[1:] == g_sorted[:-1]
    switch = np.zeros(num_matches, dtype=bool)
    switch[1:] = same_gt & (t_sorted[1:] != t_sorted[:-1])

    # Frag: starts of runs of matches over the frames that have both gt and tracker boxes
    active = (data.gt_count > 0) & (data.trk_count > 0)
    rank = np.cumsum(active) - 1
    r_sorted = rank[m_frame[order]]
    starts = np.ones(num_matches, dtype=bool)
    starts[1:] = ~(same_gt & (r_sorted[1:] == r_sorted[:-1] + 1))
    resumed = starts.copy()
    resumed[:1] = False
    resumed[1:] &= same_gt
    return Matching(match, m_frame, m_gt, m_trk, order, switch, starts, resumed)


def eval_sequence(data: SeqData) -> dict:
    res: dict = {f: 0 for f in FIELDS}
    if data.num_tracker_dets == 0:
        res["CLR_FN"] = data.num_gt_dets
        res["ML"] = data.num_gt_ids
        res["MLR"] = 1.0
        return res
    if data.num_gt_dets == 0:
        res["CLR_FP"] = data.num_tracker_dets
        res["MLR"] = 1.0
        return res

    m = matching(data)
    match, m_gt = m.match, m.gt
    num_matches = len(match)
    idsw = int(np.sum(m.switch))
    frag_count = np.bincount(m.gt[m.order][m.run_start], minlength=data.num_gt_ids).astype(np.float64)

    gt_id_count = np.bincount(data.gt_id, minlength=data.num_gt_ids).astype(np.float64)
    gt_matched_count = np.bincount(m_gt, minlength=data.num_gt_ids).astype(np.float64)
    seen = gt_id_count > 0
    tracked_ratio = gt_matched_count[seen] / gt_id_count[seen]
    res["MT"] = int(np.sum(np.greater(tracked_ratio, 0.8)))
    res["PT"] = int(np.sum(np.greater_equal(tracked_ratio, 0.2))) - res["MT"]
    res["ML"] = data.num_gt_ids - res["MT"] - res["PT"]
    res["Frag"] = np.sum(np.subtract(frag_count[frag_count > 0], 1))
    res["IDSW"] = idsw
    res["CLR_TP"] = num_matches
    res["CLR_FN"] = data.num_gt_dets - num_matches
    res["CLR_FP"] = data.num_tracker_dets - num_matches
    res["MOTP_sum"] = frame_totals_in_order(m.frame, data.sim[match], data.num_timesteps) if num_matches else 0
    res["CLR_Frames"] = data.num_timesteps
    return final_fields(res)


def final_fields(res: dict) -> dict:
    tp, fn, fp, idsw = res["CLR_TP"], res["CLR_FN"], res["CLR_FP"], res["IDSW"]
    num_gt_ids = res["MT"] + res["ML"] + res["PT"]
    res["MTR"] = res["MT"] / np.maximum(1.0, num_gt_ids)
    res["MLR"] = res["ML"] / np.maximum(1.0, num_gt_ids)
    res["PTR"] = res["PT"] / np.maximum(1.0, num_gt_ids)
    res["CLR_Re"] = tp / np.maximum(1.0, tp + fn)
    res["CLR_Pr"] = tp / np.maximum(1.0, tp + fp)
    res["MODA"] = (tp - fp) / np.maximum(1.0, tp + fn)
    res["MOTA"] = (tp - fp - idsw) / np.maximum(1.0, tp + fn)
    res["MOTP"] = res["MOTP_sum"] / np.maximum(1.0, tp)
    res["sMOTA"] = (res["MOTP_sum"] - fp - idsw) / np.maximum(1.0, tp + fn)
    res["CLR_F1"] = tp / np.maximum(1.0, tp + 0.5 * fn + 0.5 * fp)
    res["FP_per_frame"] = fp / np.maximum(1.0, res["CLR_Frames"])
    if np.ndim(idsw):  # many totals at once (bootstrap replicates)
        safe_log_idsw = np.where(idsw > 0, np.log10(np.maximum(idsw, 1)), idsw)
    else:
        safe_log_idsw = np.log10(idsw) if idsw > 0 else idsw
    res["MOTAL"] = (tp - fp - safe_log_idsw) / np.maximum(1.0, tp + fn)
    return res


def combine_sequences(all_res: list[dict]) -> dict:
    res = {f: sum(r[f] for r in all_res) for f in SUMMED_FIELDS}
    return final_fields(res)
