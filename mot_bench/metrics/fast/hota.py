"""HOTA (Luiten et al. 2020) with all 19 localisation thresholds at once.

Same fields, arithmetic and summation order as TrackEval 1.3.0's HOTA:
* per frame, the "sim IoU" normaliser uses the frame matrix's row and column sums in numpy's order
  (:func:`row_sums`, :func:`col_sums`), and the potential-match totals are accumulated frame by frame;
* the Hungarian matching per frame maximises global alignment x similarity; frames where no box has two
  positive scores need no solver, nor frames whose maximum is unique by a margin column by column
  (:func:`settled_by_columns`: 94 % of Lif_T's frames); the others call linear_sum_assignment on the very
  same matrix;
* the matched pairs are then thresholded for all alphas in one array operation; LocA sums are taken per
  frame left to right and then added frame after frame, as TrackEval's Python loop does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mot_bench.metrics.fast.preprocess import (
    EPS,
    FrameMatrices,
    SeqData,
    ambiguous_frames,
    col_sums,
    row_sums,
    settled_by_columns,
)

NAME = "HOTA"
ALPHAS = np.arange(0.05, 0.99, 0.05)
INTEGER_ARRAY_FIELDS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
FLOAT_ARRAY_FIELDS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "OWTA")
FLOAT_FIELDS = ("HOTA(0)", "LocA(0)", "HOTALocA(0)")
INTEGER_FIELDS: tuple[str, ...] = ()
FIELDS = FLOAT_ARRAY_FIELDS + INTEGER_ARRAY_FIELDS + FLOAT_FIELDS


def _empty() -> dict:
    res: dict = {f: np.zeros(len(ALPHAS)) for f in FLOAT_ARRAY_FIELDS + INTEGER_ARRAY_FIELDS}
    res.update({f: 0 for f in FLOAT_FIELDS})
    return res


def matched_pairs(data: SeqData, score: np.ndarray) -> np.ndarray:
    """Pair indices of the per-frame assignment maximising ``score``, frames in order, rows ascending.

    Only cells with a positive score are returned (the zero cells an assignment may add carry no match).
    """
    positive = score > 0
    hard = ambiguous_frames(positive, data.pair_frame, data.pair_gt, data.pair_trk,
                            data.num_gt_dets, data.num_tracker_dets, data.num_timesteps)
    if not len(hard):
        return np.flatnonzero(positive)
    hard_mask = np.zeros(data.num_timesteps, dtype=bool)
    hard_mask[hard] = True
    in_hard = hard_mask[data.pair_frame]
    chosen = positive & ~in_hard
    settled, best = settled_by_columns(score, np.flatnonzero(positive & in_hard), data.pair_frame, data.pair_gt,
                                       data.pair_trk, data.num_timesteps)
    chosen[best] = True
    hard = hard[~settled[hard]]
    cells = FrameMatrices(hard, data.gt_count, data.trk_count, data.pair_frame, data.pair_row,
                          data.pair_col).solve_all(score)
    chosen[cells[score[cells] > 0]] = True
    return np.flatnonzero(chosen)


@dataclass
class Association:
    """HOTA's per-frame matches of one sequence and the id-pair counts its association scores read.

    ``match``: matched pair indices (frames in order); ``passes``: how many of the (rising) alphas each
    match passes; ``hit`` (alphas, matches): the match counts as a true positive at that localisation
    threshold; ``counts`` (alphas, gt ids, tracker ids): true
    positives of each id pair; ``gt_id_count`` / ``trk_id_count``: boxes of each id.
    """

    match: np.ndarray
    passes: np.ndarray
    hit: np.ndarray
    counts: np.ndarray
    gt_id_count: np.ndarray
    trk_id_count: np.ndarray


def association(data: SeqData) -> Association:
    """The matching TrackEval's HOTA makes on ``data`` (which has both gt and tracker boxes)."""
    n_gt, n_trk = data.num_gt_ids, data.num_tracker_ids
    sim = data.sim
    g_of = data.gt_id[data.pair_gt]
    t_of = data.trk_id[data.pair_trk]
    cell = g_of * n_trk + t_of

    # sim IoU: similarity over (column sum + row sum - similarity) of its frame matrix
    denom = col_sums(data, sim)[data.pair_trk] + row_sums(data, sim)[data.pair_gt] - sim
    sim_iou = np.zeros_like(sim)
    ok = denom > 0 + EPS
    sim_iou[ok] = sim[ok] / denom[ok]
    potential = np.bincount(cell, weights=sim_iou, minlength=n_gt * n_trk)  # frame by frame, per cell
    gt_id_count = np.bincount(data.gt_id, minlength=n_gt).astype(np.float64)
    trk_id_count = np.bincount(data.trk_id, minlength=n_trk).astype(np.float64)
    pot = potential[cell]
    alignment = pot / (gt_id_count[g_of] + trk_id_count[t_of] - pot)

    match = matched_pairs(data, alignment * sim)
    m_sim = sim[match]
    n_alpha = len(ALPHAS)
    # a match counts for the alphas with sim >= alpha - eps: the first `passes` of them (the thresholds rise)
    passes = np.searchsorted(ALPHAS - EPS, m_sim, side="right")
    hit = np.arange(n_alpha)[:, np.newaxis] < passes[np.newaxis, :]  # (alphas, matches)
    # matches of each (gt id, tracker id) cell per alpha: counted once per match, by how many alphas it passes
    per_cell = np.bincount(cell[match] * (n_alpha + 1) + passes, minlength=n_gt * n_trk * (n_alpha + 1))
    counts = np.ascontiguousarray(_at_least(per_cell.reshape(n_gt * n_trk, n_alpha + 1).T), dtype=np.float64)
    counts = counts.reshape(n_alpha, n_gt, n_trk)  # C order: the sums in eval_sequence run over contiguous rows
    return Association(match, passes, hit, counts, gt_id_count, trk_id_count)


def eval_sequence(data: SeqData) -> dict:
    res = _empty()
    if data.num_tracker_dets == 0:
        res["HOTA_FN"] = data.num_gt_dets * np.ones(len(ALPHAS))
        res["LocA"] = np.ones(len(ALPHAS))
        res["LocA(0)"] = 1.0
        return res
    if data.num_gt_dets == 0:
        res["HOTA_FP"] = data.num_tracker_dets * np.ones(len(ALPHAS))
        res["LocA"] = np.ones(len(ALPHAS))
        res["LocA(0)"] = 1.0
        return res

    assoc = association(data)
    hit = assoc.hit
    m_sim = data.sim[assoc.match]
    m_frame = data.pair_frame[assoc.match]
    n_alpha, n_frames = len(ALPHAS), data.num_timesteps
    tp = _at_least(np.bincount(assoc.passes, minlength=n_alpha + 1)).astype(np.float64)
    res["HOTA_TP"] = tp
    res["HOTA_FN"] = data.num_gt_dets - tp
    res["HOTA_FP"] = data.num_tracker_dets - tp

    offsets = (np.arange(n_alpha) * n_frames)[:, np.newaxis]
    per_frame = np.bincount((offsets + m_frame).ravel(), weights=np.where(hit, m_sim, 0.0).ravel(),
                            minlength=n_alpha * n_frames).reshape(n_alpha, n_frames)
    loca = np.cumsum(per_frame, axis=1)[:, -1] if n_frames else np.zeros(n_alpha)

    counts = assoc.counts
    gt_col = assoc.gt_id_count[:, np.newaxis]
    trk_row = assoc.trk_id_count[np.newaxis, :]
    # TrackEval's per-alpha arithmetic on all alphas at once; each alpha's np.sum over its (gt ids x tracker
    # ids) matrix is one contiguous row of a (alphas, cells) array reduced by .sum(1): numpy's same pairwise sum
    ass_a = counts / np.maximum(1, gt_col + trk_row - counts)
    res["AssA"] = (counts * ass_a).reshape(n_alpha, -1).sum(1) / np.maximum(1, tp)
    ass_re = counts / np.maximum(1, gt_col)
    res["AssRe"] = (counts * ass_re).reshape(n_alpha, -1).sum(1) / np.maximum(1, tp)
    ass_pr = counts / np.maximum(1, trk_row)
    res["AssPr"] = (counts * ass_pr).reshape(n_alpha, -1).sum(1) / np.maximum(1, tp)

    res["LocA"] = np.maximum(1e-10, loca) / np.maximum(1e-10, tp)
    return final_fields(res)


def _at_least(histogram: np.ndarray) -> np.ndarray:
    """Counts of ``passes`` values (axis 0: 0..n_alpha) -> for each alpha a, how many passed it (passes > a)."""
    return np.cumsum(histogram[::-1], axis=0)[::-1][1:]


def final_fields(res: dict) -> dict:
    tp, fn, fp = res["HOTA_TP"], res["HOTA_FN"], res["HOTA_FP"]
    res["DetRe"] = tp / np.maximum(1, tp + fn)
    res["DetPr"] = tp / np.maximum(1, tp + fp)
    res["DetA"] = tp / np.maximum(1, tp + fn + fp)
    res["HOTA"] = np.sqrt(res["DetA"] * res["AssA"])
    res["OWTA"] = np.sqrt(res["DetRe"] * res["AssA"])
    res["HOTA(0)"] = res["HOTA"][0]
    res["LocA(0)"] = res["LocA"][0]
    res["HOTALocA(0)"] = res["HOTA(0)"] * res["LocA(0)"]
    return res


def combine_sequences(all_res: list[dict]) -> dict:
    """Sums of the counts; association scores weighted by HOTA_TP; sequences in the order given."""
    res: dict = {}
    for f in INTEGER_ARRAY_FIELDS:
        res[f] = sum(r[f] for r in all_res)
    for f in ("AssRe", "AssPr", "AssA"):
        res[f] = sum(r[f] * r["HOTA_TP"] for r in all_res) / np.maximum(1.0, res["HOTA_TP"])
    loca_weighted = sum(r["LocA"] * r["HOTA_TP"] for r in all_res)
    res["LocA"] = np.maximum(1e-10, loca_weighted) / np.maximum(1e-10, res["HOTA_TP"])
    return final_fields(res)
