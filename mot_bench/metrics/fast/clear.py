"""CLEAR MOT (Bernardin & Stiefelhagen 2008) as TrackEval 1.3.0 computes it.

A gt box and a tracker box can match when their IoU is >= 0.5 - eps; per frame the assignment
maximises 1000 x (the pair continues the previous frame's match) + IoU. Frames in which no box has two
candidates need no solver (every candidate is matched whatever the bonus); the others are solved in
frame order with the bonus matrix TrackEval builds, the previous frame being the last one that had
both gt and tracker boxes (TrackEval skips the others without touching its state). IDSW, Frag and
MT/PT/ML then follow from the list of matches with array operations.
"""

from __future__ import annotations

import numpy as np

from mot_bench.metrics.fast.lsap import linear_sum_assignment
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
    n = len(data.sim)
    hard_mask = np.zeros(data.num_timesteps, dtype=bool)
    hard_mask[hard] = True
    # chosen[n] stays False (the "no predecessor" pair), chosen[n + 1] absorbs the solver's zero cells
    chosen = np.zeros(n + 2, dtype=bool)
    chosen[:n] = candidate & ~hard_mask[data.pair_frame]
    mats = FrameMatrices(hard, data.gt_count, data.trk_count, data.pair_frame, data.pair_row, data.pair_col)
    # -(score) as TrackEval hands it to the solver, with 0.0 for non-candidates; the bonus is subtracted from
    # it (negation is exact, so -(s + 1000) and -s - 1000 are the same double)
    values = np.where(candidate, data.sim, 0.0)

    # The bonus goes to the candidates of a hard frame that continue a match of the previous active frame
    # (the same gt id and tracker id): find, for each, that pair of the previous active frame, if any.
    active = np.flatnonzero((data.gt_count > 0) & (data.trk_count > 0))
    rank = np.full(data.num_timesteps, -1, dtype=np.int64)
    rank[active] = np.arange(len(active))
    n_trk = data.num_tracker_ids
    span = data.num_gt_ids * n_trk
    cand = np.flatnonzero(candidate)
    c_key = (rank[data.pair_frame[cand]] * span + data.gt_id[data.pair_gt[cand]] * n_trk
             + data.trk_id[data.pair_trk[cand]])  # unique: one id per frame on each side
    order = np.argsort(c_key)
    sorted_key = c_key[order]
    in_hard = hard_mask[data.pair_frame[cand]]
    query = c_key[in_hard] - span
    found = np.minimum(np.searchsorted(sorted_key, query), len(cand) - 1)
    hc_pred = np.where(sorted_key[found] == query, cand[order[found]], n)  # n: no predecessor
    hc = cand[in_hard]  # the candidates of hard frames, in frame order
    slot_pos = np.zeros(n, dtype=np.int64)
    slot_pos[mats.pairs] = mats.pos
    # hard frame i's candidates are hc[bounds[i]:bounds[i + 1]] (hc holds no pair of the frames in between)
    hc_bounds = np.searchsorted(hc, data.pair_start[np.concatenate((hard, hard[-1:] + 1))])
    hc_rel = slot_pos[hc] - np.repeat(mats.start, np.diff(hc_bounds))  # position inside its frame matrix

    starts, heights, widths = mats.start.tolist(), mats.heights.tolist(), mats.widths.tolist()
    bounds = hc_bounds.tolist()
    for i0, i1 in mats.blocks():
        base = starts[i0]
        neg_block = mats.negated(values, i0, i1)
        # a solved cell is a match iff its score is > eps, i.e. iff it is a candidate (bonus or not)
        match_of_cell = np.full(len(neg_block), n + 1, dtype=np.int64)
        listed = mats.block_pairs(i0, i1)
        listed_candidate = candidate[mats.pairs[listed]]
        match_of_cell[mats.pos[listed][listed_candidate] - base] = mats.pairs[listed][listed_candidate]
        for i in range(i0, i1):
            start, h, w = starts[i] - base, heights[i], widths[i]
            lo, hi = bounds[i], bounds[i + 1]
            neg_score = neg_block[start:start + h * w].copy()
            neg_score[hc_rel[lo:hi][chosen[hc_pred[lo:hi]]]] -= 1000
            rows, cols = linear_sum_assignment(neg_score.reshape(h, w))
            chosen[match_of_cell[rows * w + cols + start]] = True
    return np.flatnonzero(chosen[:n])


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

    match = _matches(data)
    m_frame = data.pair_frame[match]
    m_gt = data.gt_id[data.pair_gt[match]]
    m_trk = data.trk_id[data.pair_trk[match]]
    num_matches = len(match)

    # IDSW: a gt id matched to another tracker id than at its previous match (any frame before)
    order = np.lexsort((m_frame, m_gt))
    g_sorted, t_sorted = m_gt[order], m_trk[order]
    same_gt = g_sorted[1:] == g_sorted[:-1]
    idsw = int(np.sum(same_gt & (t_sorted[1:] != t_sorted[:-1])))

    # Frag: starts of runs of matches over the frames that have both gt and tracker boxes
    active = (data.gt_count > 0) & (data.trk_count > 0)
    rank = np.cumsum(active) - 1
    r_sorted = rank[m_frame[order]]
    starts = np.ones(num_matches, dtype=bool)
    starts[1:] = ~(same_gt & (r_sorted[1:] == r_sorted[:-1] + 1))
    frag_count = np.bincount(g_sorted[starts], minlength=data.num_gt_ids).astype(np.float64)

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
    res["MOTP_sum"] = frame_totals_in_order(m_frame, data.sim[match], data.num_timesteps) if num_matches else 0
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
    safe_log_idsw = np.log10(idsw) if idsw > 0 else idsw
    res["MOTAL"] = (tp - fp - safe_log_idsw) / np.maximum(1.0, tp + fn)
    return res


def combine_sequences(all_res: list[dict]) -> dict:
    res = {f: sum(r[f] for r in all_res) for f in SUMMED_FIELDS}
    return final_fields(res)
