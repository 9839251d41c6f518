"""MotChallenge2DBox's preprocessing, on whole sequences at once.

A sequence is held as flat arrays: gt rows and tracker rows sorted by frame (file order within a
frame, as TrackEval's per-frame lists), and one entry per (gt row, tracker row) pair of the same frame,
in each frame's row-major order -- exactly the cells of TrackEval's per-frame similarity matrices.

What TrackEval does per frame, and how it is reproduced here:

* box IoU in float64, with the same operations on each cell (so the same bits);
* tracker boxes matched (IoU >= 0.5 - eps, Hungarian on the whole frame) to a gt box of a distractor
  class are removed (MOT20 adds ``non_mot_vehicle``); where every box of a frame has at most one
  candidate the matching is fixed whatever the solver's tie-breaking, otherwise scipy's
  linear_sum_assignment is called on the very same frame matrix;
* gt rows are kept when their column 7 is not 0 (after truncation to int) and, except for MOT15, their
  class is pedestrian;
* ids are relabelled 0..n-1 in sorted order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

EPS = np.finfo("float").eps
CLASS_IDS = {"pedestrian": 1, "person_on_vehicle": 2, "car": 3, "bicycle": 4, "motorbike": 5, "non_mot_vehicle": 6,
             "static_person": 7, "distractor": 8, "occluder": 9, "occluder_on_ground": 10, "occluder_full": 11,
             "reflection": 12, "crowd": 13}
DISTRACTORS = ("person_on_vehicle", "static_person", "distractor", "reflection")
DISTRACTORS_MOT20 = DISTRACTORS + ("non_mot_vehicle",)
PEDESTRIAN = CLASS_IDS["pedestrian"]


class PreprocessError(ValueError):
    """Input TrackEval would refuse; ``row`` is the offending gt row (index into the gt arrays) if any."""

    def __init__(self, message: str, row: int | None = None) -> None:
        self.row = row
        super().__init__(message)


@dataclass
class Boxes:
    """Rows of one file (gt or results) restricted to the frame range, sorted by frame (stable).

    ``frame`` is 0-based; ``source`` the row index in the parsed file (for error messages)."""

    frame: np.ndarray
    ids: np.ndarray
    boxes: np.ndarray  # (n, 4) x, y, w, h
    classes: np.ndarray
    zero_marked: np.ndarray
    source: np.ndarray

    @classmethod
    def from_rows(cls, rows: np.ndarray, first_frame: int, last_frame: int) -> Boxes:
        frame = rows[:, 0]
        keep = np.flatnonzero((frame >= first_frame) & (frame <= last_frame))
        order = keep[np.argsort(frame[keep], kind="stable")]
        sel = rows[order]
        return cls(
            frame=sel[:, 0].astype(np.int64) - first_frame,
            ids=sel[:, 1].astype(np.int64),
            boxes=np.ascontiguousarray(sel[:, 2:6]),
            classes=sel[:, 7].astype(np.int64),
            zero_marked=sel[:, 6].astype(np.int64),
            source=order,
        )

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class SeqData:
    """One preprocessed sequence (what TrackEval's metrics see), as flat arrays.

    gt_* / trk_*: kept rows in frame order; *_id relabelled 0..n-1. pair_*: the cells of every frame's
    similarity matrix (kept rows and columns), row-major per frame, frames in order; ``pair_gt`` and
    ``pair_trk`` index the kept gt / tracker rows.
    """

    num_timesteps: int
    gt_frame: np.ndarray
    gt_id: np.ndarray
    trk_frame: np.ndarray
    trk_id: np.ndarray
    num_gt_ids: int
    num_tracker_ids: int
    gt_count: np.ndarray  # per frame
    trk_count: np.ndarray
    pair_start: np.ndarray  # per frame: first pair of the frame
    pair_frame: np.ndarray
    pair_gt: np.ndarray
    pair_trk: np.ndarray
    sim: np.ndarray

    @property
    def num_gt_dets(self) -> int:
        return len(self.gt_frame)

    @property
    def num_tracker_dets(self) -> int:
        return len(self.trk_frame)

    @property
    def gt_start(self) -> np.ndarray:
        return _exclusive_cumsum(self.gt_count)

    @property
    def trk_start(self) -> np.ndarray:
        return _exclusive_cumsum(self.trk_count)


def _exclusive_cumsum(counts: np.ndarray) -> np.ndarray:
    out = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def concat_ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - _exclusive_cumsum(lengths), lengths)
    return shift + np.arange(total, dtype=np.int64)


def frame_pairs(gt_count: np.ndarray, trk_count: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every (gt row, tracker row) of the same frame, row-major per frame.

    Returns pair_start (per frame), pair_frame, pair_gt, pair_trk (row indices into the frame-sorted rows).
    """
    npair = gt_count * trk_count
    pair_start = _exclusive_cumsum(npair)
    frames = np.arange(len(npair), dtype=np.int64)
    pair_frame = np.repeat(frames, npair)
    within = np.arange(int(npair.sum()), dtype=np.int64) - pair_start[pair_frame]
    width = trk_count[pair_frame]
    pair_gt = _exclusive_cumsum(gt_count)[pair_frame] + within // np.maximum(width, 1)
    pair_trk = _exclusive_cumsum(trk_count)[pair_frame] + within % np.maximum(width, 1)
    return pair_start, pair_frame, pair_gt, pair_trk


def box_iou_pairs(gt_boxes: np.ndarray, trk_boxes: np.ndarray, pair_gt: np.ndarray,
                  pair_trk: np.ndarray) -> np.ndarray:
    """IoU of xywh boxes for the listed pairs, cell by cell the float64 operations of TrackEval's box IoU."""
    g = gt_boxes.copy()
    t = trk_boxes.copy()
    g[:, 2] = g[:, 0] + g[:, 2]
    g[:, 3] = g[:, 1] + g[:, 3]
    t[:, 2] = t[:, 0] + t[:, 2]
    t[:, 3] = t[:, 1] + t[:, 3]
    area_g = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    a = g[pair_gt]
    b = t[pair_trk]
    width = np.maximum(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0)
    height = np.maximum(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0)
    inter = width * height
    ag = area_g[pair_gt]
    at = area_t[pair_trk]
    union = ag + at - inter
    inter[(ag <= 0 + EPS) | (at <= 0 + EPS) | (union <= 0 + EPS)] = 0
    union[union <= 0 + EPS] = 1
    return inter / union


def ambiguous_frames(candidate: np.ndarray, pair_frame: np.ndarray, pair_gt: np.ndarray, pair_trk: np.ndarray,
                     num_gt_rows: int, num_trk_rows: int, num_frames: int) -> np.ndarray:
    """Frames in which some gt or tracker row has two or more candidate pairs.

    Elsewhere the candidates are disjoint edges, which every optimal assignment contains (any assignment
    leaving one out can swap it in and gain its positive score), so those frames need no solver call.
    """
    per_gt = np.bincount(pair_gt[candidate], minlength=num_gt_rows)
    per_trk = np.bincount(pair_trk[candidate], minlength=num_trk_rows)
    busy = (per_gt[pair_gt] > 1) | (per_trk[pair_trk] > 1)
    flag = np.zeros(num_frames, dtype=bool)
    flag[pair_frame[busy & candidate]] = True
    return np.flatnonzero(flag)


def solve_frame(score: np.ndarray, start: int, rows: int, cols: int) -> np.ndarray:
    """linear_sum_assignment(-score) of one frame; returns the matched cells as pair indices."""
    r, c = linear_sum_assignment(-score[start:start + rows * cols].reshape(rows, cols))
    return start + r * cols + c


def preprocess(gt: Boxes, trk: Boxes, num_timesteps: int, benchmark: str) -> SeqData:
    """TrackEval's ``get_raw_seq_data`` (similarities) and ``get_preprocessed_seq_data`` for one sequence."""
    gcount = np.bincount(gt.frame, minlength=num_timesteps)
    tcount = np.bincount(trk.frame, minlength=num_timesteps)
    pair_start, pair_frame, pair_gt, pair_trk = frame_pairs(gcount, tcount)
    sim = box_iou_pairs(gt.boxes, trk.boxes, pair_gt, pair_trk)

    remove_trk = np.zeros(len(trk), dtype=bool)
    if benchmark != "MOT15" and len(pair_frame):
        both = (tcount > 0)[gt.frame]
        invalid = np.flatnonzero(both & ((gt.classes < 1) | (gt.classes > max(CLASS_IDS.values()))))
        if len(invalid):
            raise PreprocessError(f"invalid gt class {int(gt.classes[invalid[0]])} (valid: 1..13)",
                                  int(gt.source[invalid[0]]))
        names = DISTRACTORS_MOT20 if benchmark == "MOT20" else DISTRACTORS
        distractor = np.isin(gt.classes, [CLASS_IDS[n] for n in names])
        candidate = sim >= 0.5 - EPS  # the cells TrackEval keeps in its matching scores (all > eps)
        hard = ambiguous_frames(candidate, pair_frame, pair_gt, pair_trk, len(gt), len(trk), num_timesteps)
        matched = candidate.copy()
        if len(hard):
            hard_mask = np.zeros(num_timesteps, dtype=bool)
            hard_mask[hard] = True
            matched &= ~hard_mask[pair_frame]
            scores = np.where(candidate, sim, 0.0)
            for f in hard.tolist():
                cells = solve_frame(scores, int(pair_start[f]), int(gcount[f]), int(tcount[f]))
                matched[cells[scores[cells] > 0 + EPS]] = True
        remove_trk[pair_trk[matched & distractor[pair_gt]]] = True

    if benchmark != "MOT15":
        keep_gt = (gt.zero_marked != 0) & (gt.classes == PEDESTRIAN)
    else:
        keep_gt = gt.zero_marked != 0
    keep_trk = ~remove_trk
    keep_pair = keep_gt[pair_gt] & keep_trk[pair_trk]
    gt_index = np.cumsum(keep_gt) - 1
    trk_index = np.cumsum(keep_trk) - 1

    gt_ids = gt.ids[keep_gt]
    trk_ids = trk.ids[keep_trk]
    gt_frame = gt.frame[keep_gt]
    trk_frame = trk.frame[keep_trk]
    dup = _first_duplicate_in_frame(gt_frame, gt_ids)
    if dup is not None:
        row = int(gt.source[np.flatnonzero(keep_gt)[dup]])
        raise PreprocessError(f"gt id {int(gt_ids[dup])} appears twice in frame {int(gt_frame[dup]) + 1}", row)
    uniq_gt = np.unique(gt_ids)
    uniq_trk = np.unique(trk_ids)
    gcount_kept = np.bincount(gt_frame, minlength=num_timesteps)
    tcount_kept = np.bincount(trk_frame, minlength=num_timesteps)
    return SeqData(
        num_timesteps=num_timesteps,
        gt_frame=gt_frame,
        gt_id=np.searchsorted(uniq_gt, gt_ids),
        trk_frame=trk_frame,
        trk_id=np.searchsorted(uniq_trk, trk_ids),
        num_gt_ids=len(uniq_gt),
        num_tracker_ids=len(uniq_trk),
        gt_count=gcount_kept,
        trk_count=tcount_kept,
        pair_start=_exclusive_cumsum(gcount_kept * tcount_kept),
        pair_frame=pair_frame[keep_pair],
        pair_gt=gt_index[pair_gt[keep_pair]],
        pair_trk=trk_index[pair_trk[keep_pair]],
        sim=sim[keep_pair],
    )


def _first_duplicate_in_frame(frame: np.ndarray, ids: np.ndarray) -> int | None:
    if len(frame) < 2:
        return None
    order = np.lexsort((ids, frame))
    same = (frame[order[1:]] == frame[order[:-1]]) & (ids[order[1:]] == ids[order[:-1]])
    hits = np.flatnonzero(same)
    return None if not len(hits) else int(order[hits[0] + 1])


# --------------------------------------------------------------------------------------------------
# sums in numpy's own order (so totals match TrackEval's per-frame ``.sum(0)`` / ``.sum(1)`` bit for bit)


def row_sums(data: SeqData, values: np.ndarray) -> np.ndarray:
    """Per kept gt row: its frame-matrix row summed as ``matrix.sum(1)`` does (numpy's pairwise sum).

    Rows of frames with the same width are stacked and reduced together: numpy reduces each row of a
    C-contiguous matrix on its own, so stacking does not change any row's result.
    """
    out = np.zeros(data.num_gt_dets)
    width = data.trk_count
    frames = np.flatnonzero((width > 0) & (data.gt_count > 0))
    frames = frames[np.argsort(width[frames], kind="stable")]
    cells = concat_ranges(data.pair_start[frames], data.gt_count[frames] * width[frames])
    rows = concat_ranges(data.gt_start[frames], data.gt_count[frames])
    stacked = values[cells]
    w_rows = np.repeat(width[frames], data.gt_count[frames])
    bounds = np.flatnonzero(np.diff(w_rows)) + 1
    row_lo = np.concatenate(([0], bounds))
    row_hi = np.concatenate((bounds, [len(rows)]))
    cell_lo = 0
    for lo, hi in zip(row_lo.tolist(), row_hi.tolist(), strict=True):
        w = int(w_rows[lo])
        n = (hi - lo) * w
        out[rows[lo:hi]] = stacked[cell_lo:cell_lo + n].reshape(hi - lo, w).sum(1)
        cell_lo += n
    return out


def col_sums(data: SeqData, values: np.ndarray) -> np.ndarray:
    """Per kept tracker row: its frame-matrix column summed as ``matrix.sum(0)`` does.

    numpy adds the rows of a (G, T>=2) matrix one after the other; a (G, 1) matrix is one contiguous
    vector and gets the pairwise sum, like a row.
    """
    out = np.zeros(data.num_tracker_dets)
    width = data.trk_count[data.pair_frame]
    wide = width >= 2
    within = np.arange(len(values)) - data.pair_start[data.pair_frame]
    row_in_frame = within // np.maximum(width, 1)
    sel = np.flatnonzero(wide)
    sel = sel[np.argsort(row_in_frame[sel], kind="stable")]
    if len(sel):
        out += np.bincount(data.pair_trk[sel], weights=values[sel], minlength=data.num_tracker_dets)
    # single-column frames: the column is contiguous, numpy sums it pairwise
    frames = np.flatnonzero((data.trk_count == 1) & (data.gt_count > 0))
    if len(frames):
        heights = data.gt_count[frames]
        frames = frames[np.argsort(heights, kind="stable")]
        heights = data.gt_count[frames]
        cells = concat_ranges(data.pair_start[frames], heights)
        stacked = values[cells]
        cols = data.trk_start[frames]
        bounds = np.flatnonzero(np.diff(heights)) + 1
        lo_f = np.concatenate(([0], bounds))
        hi_f = np.concatenate((bounds, [len(frames)]))
        cell_lo = 0
        for lo, hi in zip(lo_f.tolist(), hi_f.tolist(), strict=True):
            h = int(heights[lo])
            n = (hi - lo) * h
            out[cols[lo:hi]] = stacked[cell_lo:cell_lo + n].reshape(hi - lo, h).sum(1)
            cell_lo += n
    return out


def frame_totals_in_order(frame: np.ndarray, values: np.ndarray, num_frames: int) -> float:
    """``total = 0; for each frame: total += sum(values of the frame)`` with Python's left-to-right sums."""
    if not len(values):
        return 0.0
    per_frame = np.bincount(frame, weights=values, minlength=num_frames)
    return float(np.cumsum(per_frame)[-1])
