"""CLEAR MOT (Bernardin & Stiefelhagen 2008) as TrackEval 1.3.0 computes it.

A gt box and a tracker box can match when their IoU is >= 0.5 - eps; per frame the assignment
maximises 1000 x (the pair continues the previous frame's match) + IoU. Frames in which no box has two
candidates need no solver (every candidate is matched whatever the bonus), nor frames settled column by
column on their IoUs (each tracker box's best candidate clearly best, no two sharing one) where the bonus
can only land on those best cells; the others are solved in frame order with the bonus matrix TrackEval
builds, the previous frame being the last one that had both gt and tracker boxes (TrackEval skips the
others without touching its state). IDSW, Frag and MT/PT/ML then follow from the list of matches with
array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mot_bench.metrics.fast.lsap import linear_sum_assignment
from mot_bench.metrics.fast.preprocess import (
    EPS,
    SeqData,
    ambiguous_frames,
    frame_totals_in_order,
    settled_by_columns,
)

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
    # chosen[n] stays False: the "no predecessor" pair
    chosen = np.zeros(n + 1, dtype=bool)
    chosen[:n] = candidate & ~hard_mask[data.pair_frame]
    values = np.where(candidate, data.sim, 0.0)  # TrackEval's score without the bonus: 0.0 for non-candidates

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
    # hard frame i's candidates are hc[bounds[i]:bounds[i + 1]] (hc holds no pair of the frames in between)
    hc_bounds = np.searchsorted(hc, data.pair_start[np.concatenate((hard, hard[-1:] + 1))])

    # Frames settled column by column on the similarities alone (settled_by_columns) keep that result
    # whatever the previous frame matched, as long as no bonus lands off a column's best cell: a bonus on
    # the best only widens its margin. So only the frames left unsettled, and those where a continued
    # match is not a column's best ("swing" cells), are solved, in frame order, on TrackEval's own matrix.
    settled, best = settled_by_columns(values, hc, data.pair_frame, data.pair_gt, data.pair_trk, data.num_timesteps)
    chosen[best] = True
    is_best = np.zeros(n, dtype=bool)
    is_best[best] = True
    swing_bonus = np.zeros(len(hard) + 1, dtype=np.int64)
    np.add.at(swing_bonus, np.repeat(np.arange(len(hard)), np.diff(hc_bounds)), ~is_best[hc] & chosen[hc_pred])
    visit = (~settled[hard] | (swing_bonus[:-1] > 0)).tolist()
    follows = np.zeros(len(hard), dtype=bool)  # hard frame i's previous active frame is hard frame i - 1
    follows[1:] = rank[hard[1:]] - 1 == rank[hard[:-1]]
    follows_list = follows.tolist()

    # a pair's cell in its frame matrix, and -(score): -0.0 where the score is 0.0, as -score_mat
    pair_cell = data.pair_row * data.trk_count[data.pair_frame] + data.pair_col
    neg_values = -values
    heights, widths = data.gt_count.tolist(), data.trk_count.tolist()
    pair_start, bounds = data.pair_start.tolist(), hc_bounds.tolist()
    for i, f in enumerate(hard.tolist()):
        if not visit[i]:
            continue
        lo_p, hi_p, h, w = pair_start[f], pair_start[f + 1], heights[f], widths[f]
        cells = pair_cell[lo_p:hi_p]  # ascending: pairs are listed row by row
        neg_score = np.full(h * w, -0.0)
        neg_score[cells] = neg_values[lo_p:hi_p]
        lo, hi = bounds[i], bounds[i + 1]
        # the bonus subtracted (negation is exact: -(s + 1000) and -s - 1000 are the same double)
        neg_score[pair_cell[hc[lo:hi][chosen[hc_pred[lo:hi]]]]] -= 1000
        rows, cols = linear_sum_assignment(neg_score.reshape(h, w))
        used = rows * w + cols
        used = used[neg_score[used] < -EPS]  # score > 0 + eps, as TrackEval: the candidates (bonus or not)
        before = chosen[lo_p:hi_p].copy()
        chosen[lo_p:hi_p] = False
        chosen[lo_p + np.searchsorted(cells, used)] = True
        if i + 1 < len(hard) and follows_list[i + 1] and not np.array_equal(before, chosen[lo_p:hi_p]):
            visit[i + 1] = True  # its bonus cells were judged on this frame's provisional matches
    return np.flatnonzero(chosen[:n])


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
