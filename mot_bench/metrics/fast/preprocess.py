"""MotChallenge2DBox's preprocessing, on whole sequences at once.

A sequence is held as flat arrays: gt rows and tracker rows sorted by frame (file order within a
frame, as TrackEval's per-frame lists), and one entry per (gt row, tracker row) pair of the same frame
whose boxes overlap, in each frame's row-major order: the non-zero cells of TrackEval's per-frame
similarity matrices (all other cells are exactly 0.0 there).

What TrackEval does per frame, and how it is reproduced here:

* box IoU in float64, with the same operations on each cell (so the same bits);
* with the benchmark's class rule (its declaration, :mod:`mot_bench.data.benchmarks`: every benchmark but
  MOT15), tracker boxes matched (IoU >= 0.5 - eps, Hungarian on the whole frame) to a gt box of one of its
  distractor classes are removed (MOT20 adds ``non_mot_vehicle``); where every box of a frame has at most one
  candidate the matching is fixed whatever the solver's tie-breaking, where no distractor box has a
  candidate nothing can be removed, otherwise scipy's linear_sum_assignment is called on the very same
  frame matrix;
* gt rows are kept when their column 7 is not 0 (after truncation to int) and, with the class rule, their
  class is pedestrian (:func:`mot_bench.data.gt.scored_mask`);
* ids are relabelled 0..n-1 in sorted order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mot_bench.data.benchmarks import CLASS_IDS, Benchmark, get_benchmark
from mot_bench.data.gt import scored_mask
from mot_bench.metrics.fast.lsap import linear_sum_assignment

EPS = np.finfo("float").eps


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
    # what preprocessing derives from these rows alone, per benchmark: a gt shared by several result sets
    # (MOT17's three detector folders of a sequence) is worked out once
    derived: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_rows(cls, rows: np.ndarray, first_frame: int, last_frame: int) -> Boxes:
        frame = rows[:, 0]
        keep = np.flatnonzero((frame >= first_frame) & (frame <= last_frame))
        order = keep[np.argsort(frame[keep], kind="stable")]
        # np.take: the same values as fancy indexing, a several times faster gather of rows
        return cls(  # column by column: no copy of the whole table
            frame=np.take(rows[:, 0], order).astype(np.int64) - first_frame,
            ids=np.take(rows[:, 1], order).astype(np.int64),
            boxes=np.take(rows[:, 2:6], order, axis=0),
            classes=np.take(rows[:, 7], order).astype(np.int64),
            zero_marked=np.take(rows[:, 6], order).astype(np.int64),
            source=order,
        )

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class SeqData:
    """One preprocessed sequence (what TrackEval's metrics see), as flat arrays.

    gt_* / trk_*: kept rows in frame order; *_id relabelled 0..n-1. pair_*: the non-zero cells of every
    frame's similarity matrix (kept rows and columns), row-major per frame, frames in order (every other
    cell is exactly 0.0 in TrackEval too); ``pair_gt`` and ``pair_trk`` index the kept gt / tracker rows.
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
    pair_start: np.ndarray  # per frame, and one more: the frame's pairs are pair_start[f]:pair_start[f + 1]
    pair_frame: np.ndarray
    pair_gt: np.ndarray
    pair_trk: np.ndarray
    pair_row: np.ndarray  # row / column of the cell in its frame matrix
    pair_col: np.ndarray
    sim: np.ndarray
    gt_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # file id of relabelled id i
    trk_labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def num_gt_dets(self) -> int:
        return len(self.gt_frame)

    @property
    def num_tracker_dets(self) -> int:
        return len(self.trk_frame)



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


def overlap_pairs(gt_frame: np.ndarray, gt_box: np.ndarray, trk_frame: np.ndarray,
                  trk_box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(gt row, tracker row) of every same-frame pair of corner boxes that overlap, row-major.

    A pair has a non-zero IoU only if max(x0) < min(x1): either the tracker box starts inside the gt
    box (x0_g <= x0_t < x1_g) or the gt box starts inside the tracker box (x0_t < x0_g < x1_t). Each
    case is a range of a list sorted by the key frame * stride + (x - min x): float rounding is monotone,
    so the ranges (bounds taken inclusively) hold every such pair, and the exact conditions then keep
    each pair once; pairs whose y-intervals do not overlap are dropped (their IoU is 0 too).
    """
    gt_x0, gt_x1, trk_x0, trk_x1 = gt_box[:, 0], gt_box[:, 2], trk_box[:, 0], trk_box[:, 2]
    if not len(gt_frame) or not len(trk_frame):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo_x = min(gt_x0.min(), trk_x0.min())
    span = max(gt_x1.max(), trk_x1.max(), gt_x0.max(), trk_x0.max()) - lo_x
    stride = 2.0 ** np.ceil(np.log2(2 * span + 2))

    def key(frame: np.ndarray, x: np.ndarray) -> np.ndarray:
        return frame * stride + (x - lo_x)

    nt = len(trk_frame)
    # both sides sorted by key; queries go in sorted order too (numpy's binary search then narrows fast)
    t_order = np.argsort(key(trk_frame, trk_x0))
    g_order = np.argsort(key(gt_frame, gt_x0))
    t_keys = key(trk_frame[t_order], trk_x0[t_order])
    g_keys = key(gt_frame[g_order], gt_x0[g_order])
    lo = np.searchsorted(t_keys, g_keys, "left")
    n_a = np.maximum(np.searchsorted(t_keys, key(gt_frame[g_order], gt_x1[g_order]), "right") - lo, 0)
    g_a = np.repeat(g_order, n_a)
    t_a = t_order[concat_ranges(lo, n_a)]
    ok = (gt_x0[g_a] <= trk_x0[t_a]) & (trk_x0[t_a] < gt_x1[g_a])
    lo = np.searchsorted(g_keys, t_keys, "left")
    n_b = np.maximum(np.searchsorted(g_keys, key(trk_frame[t_order], trk_x1[t_order]), "right") - lo, 0)
    t_b = np.repeat(t_order, n_b)
    g_b = g_order[concat_ranges(lo, n_b)]
    ok_b = (trk_x0[t_b] < gt_x0[g_b]) & (gt_x0[g_b] < trk_x1[t_b])
    g = np.concatenate((g_a[ok], g_b[ok_b]))
    t = np.concatenate((t_a[ok], t_b[ok_b]))
    both = ((np.take(gt_box[:, 1], g) < np.take(trk_box[:, 3], t))
            & (np.take(trk_box[:, 1], t) < np.take(gt_box[:, 3], g)))
    cells = np.sort(g[both] * nt + t[both])
    return cells // nt, cells % nt


def corners(boxes: np.ndarray) -> np.ndarray:
    """xywh -> x0, y0, x1, y1 (x1 = x0 + w in float64, as TrackEval)."""
    out = boxes.copy()
    out[:, 2] = out[:, 0] + out[:, 2]
    out[:, 3] = out[:, 1] + out[:, 3]
    return out


def box_iou_pairs(g: np.ndarray, t: np.ndarray, pair_gt: np.ndarray, pair_trk: np.ndarray) -> np.ndarray:
    """IoU of corner boxes for the listed pairs, cell by cell the float64 operations of TrackEval's box IoU."""
    area_g = (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1])
    area_t = (t[:, 2] - t[:, 0]) * (t[:, 3] - t[:, 1])
    a = np.take(g, pair_gt, axis=0)  # np.take: fancy indexing's values, gathered much faster
    b = np.take(t, pair_trk, axis=0)
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


# How much a tracker box's best score must beat its second for the column rule below to settle a frame:
# far above the rounding of linear_sum_assignment's dual updates (scores up to 1001 with CLEAR's bonus: a
# few 1e-11 on the largest MOT frames), so the solver cannot prefer the second; exact ties never settle.
SETTLED_MARGIN = 1e-6


def settled_by_columns(score: np.ndarray, cells: np.ndarray, pair_frame: np.ndarray, pair_gt: np.ndarray,
                       pair_trk: np.ndarray, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Frames whose maximum assignment is known without a solver, and its positive cells.

    ``cells`` are the positive cells (pair indices) of the frames in question. Where, in a frame, every
    tracker box's best cell beats its second by more than ``SETTLED_MARGIN`` and no two tracker boxes
    have the same best gt box, the best cells are the positive cells of every maximum assignment: no
    assignment scores more than the sum of the column maxima, these cells reach it, and any other choice
    in a column loses more than the margin. linear_sum_assignment, exact to far less than the margin,
    returns them too, whatever its tie-breaking (there is no tie). Returns a mask over frames and the
    best cells of the settled ones.
    """
    trk, value = pair_trk[cells], score[cells]
    size = int(trk.max()) + 1 if len(trk) else 0
    top = np.zeros(size)
    np.maximum.at(top, trk, value)  # each tracker box's best score
    is_top = value == top[trk]
    best = cells[is_top]
    runner_up = np.zeros(size)
    np.maximum.at(runner_up, trk[~is_top], value[~is_top])  # its best among the other cells (0: none)
    tied = np.bincount(trk[is_top], minlength=size) > 1  # two cells share the best score
    bad_column = tied | (top - runner_up <= SETTLED_MARGIN)
    shared = np.bincount(pair_gt[best])[pair_gt[best]] > 1  # a gt box that is two tracker boxes' best
    unsettled = np.zeros(num_frames, dtype=bool)
    unsettled[pair_frame[best[bad_column[pair_trk[best]] | shared]]] = True
    settled = ~unsettled
    return settled, best[settled[pair_frame[best]]]


class FrameMatrices:
    """The full matrices of some frames laid out one after the other, built a block of frames at a time.

    Frame ``frames[i]``'s (rows x cols) matrix starts at flat position ``start[i]``: the listed cells'
    values, 0.0 elsewhere, as TrackEval holds it. ``pos`` (increasing) is where each listed pair ``pairs``
    sits, so :meth:`pairs_at` maps cells of assignments back to pairs. Buffers hold one block of frames
    (about ``BLOCK_CELLS`` cells): a small buffer the allocator hands out again, rather than one as large as
    every frame together (tens of MB, each page of it faulted in afresh).
    """

    BLOCK_CELLS = 1 << 18

    def __init__(self, frames: np.ndarray, heights: np.ndarray, widths: np.ndarray, pair_frame: np.ndarray,
                 pair_row: np.ndarray, pair_col: np.ndarray) -> None:
        self.frames = frames
        self.heights = heights[frames]
        self.widths = widths[frames]
        self.start = _exclusive_cumsum(self.heights * self.widths)
        self.end = self.start + self.heights * self.widths
        slot = np.full(len(heights), -1, dtype=np.int64)
        slot[frames] = np.arange(len(frames))
        pair_slot = slot[pair_frame]
        self.pairs = np.flatnonzero(pair_slot >= 0)
        s = pair_slot[self.pairs]
        self.pos = self.start[s] + pair_row[self.pairs] * self.widths[s] + pair_col[self.pairs]

    def blocks(self) -> list[tuple[int, int]]:
        """Frame ranges ``[i0, i1)`` of at most ``BLOCK_CELLS`` cells (or one larger frame), in order."""
        out, i0, ends = [], 0, self.end
        while i0 < len(self.frames):
            i1 = max(int(np.searchsorted(ends, self.start[i0] + self.BLOCK_CELLS, "right")), i0 + 1)
            out.append((i0, i1))
            i0 = i1
        return out

    def block_pairs(self, i0: int, i1: int) -> slice:
        """The listed pairs (indices into ``pos`` and ``pairs``) inside frames ``i0..i1-1``."""
        lo, hi = np.searchsorted(self.pos, [self.start[i0], self.end[i1 - 1]])
        return slice(int(lo), int(hi))

    def negated(self, values: np.ndarray, i0: int, i1: int) -> np.ndarray:
        """``-M`` of frames ``i0..i1-1`` from flat position ``start[i0]`` on, M holding ``values`` in the
        listed cells: the matrices TrackEval hands to ``linear_sum_assignment`` (-0.0 where M is 0.0)."""
        base = int(self.start[i0])
        buf = np.full(int(self.end[i1 - 1]) - base, -0.0)
        listed = self.block_pairs(i0, i1)
        buf[self.pos[listed] - base] = -values[self.pairs[listed]]
        return buf

    def pairs_at(self, cells: np.ndarray) -> np.ndarray:
        """The listed pairs at flat positions ``cells`` (positions of unlisted cells are dropped)."""
        if not len(self.pos):
            return np.zeros(0, dtype=np.int64)
        index = np.minimum(np.searchsorted(self.pos, cells), len(self.pos) - 1)
        return self.pairs[index[self.pos[index] == cells]]

    def solve_all(self, values: np.ndarray) -> np.ndarray:
        """linear_sum_assignment(-M) of every frame matrix; the listed cells used, as pair indices."""
        solved = []
        starts, heights, widths = self.start.tolist(), self.heights.tolist(), self.widths.tolist()
        for i0, i1 in self.blocks():
            neg, base = self.negated(values, i0, i1), starts[i0]
            solved += [linear_sum_assignment(neg[lo - base:lo - base + h * w].reshape(h, w))
                       for lo, h, w in zip(starts[i0:i1], heights[i0:i1], widths[i0:i1], strict=True)]
        if not solved:
            return np.zeros(0, dtype=np.int64)
        # cells of every assignment at once (a per-frame `lo + r * w + c` costs more than the solve itself)
        size = np.minimum(self.heights, self.widths)  # an assignment of an h x w matrix has min(h, w) cells
        rows = np.concatenate([r for r, _ in solved])
        cols = np.concatenate([c for _, c in solved])
        return self.pairs_at(np.repeat(self.start, size) + rows * np.repeat(self.widths, size) + cols)


def preprocess(gt: Boxes, trk: Boxes, num_timesteps: int, benchmark: str) -> SeqData:
    """TrackEval's ``get_raw_seq_data`` (similarities) and ``get_preprocessed_seq_data`` for one sequence.

    Box pairs are formed only where a result can depend on them: the kept gt rows (pedestrians, consider
    flag set) with every tracker row, and, in the frames where a tracker box has a distractor candidate
    (the only frames where preprocessing can remove one), every gt row. On MOT17 that skips 4 in 10 gt
    rows (occluders, vehicles, static persons ...) for the similarity, as they change no score elsewhere.
    """
    rules = get_benchmark(benchmark)
    parts = _gt_parts(gt, num_timesteps, rules)
    dup = parts["duplicate"]
    if dup is not None:
        raise PreprocessError(f"gt id {int(gt.ids[dup])} appears twice in frame {int(gt.frame[dup]) + 1}",
                              int(gt.source[dup]))
    g_box, t_box = parts["corners"], corners(trk.boxes)
    remove_trk = np.zeros(len(trk), dtype=bool)
    if rules.class_rule:
        tcount = np.bincount(trk.frame, minlength=num_timesteps)
        invalid = parts["invalid_class"]  # TrackEval checks the classes of frames with gt and tracker boxes
        invalid = invalid[tcount[gt.frame[invalid]] > 0]
        if len(invalid):
            raise PreprocessError(f"invalid gt class {int(gt.classes[invalid[0]])} (valid: 1..13)",
                                  int(gt.source[invalid[0]]))
        remove_trk = _matched_to_distractors(gt, parts, trk, t_box, num_timesteps)
    keep_trk = ~remove_trk
    pair_gt, pair_trk, sim = _overlaps(g_box, gt.frame, parts["kept_rows"], t_box, trk.frame)
    keep_pair = keep_trk[pair_trk]
    gt_index = parts["kept_index"]
    trk_index = np.cumsum(keep_trk) - 1

    gt_frame, gcount_kept = parts["kept_frame"], parts["kept_count"]
    gt_id, num_gt_ids, gt_labels = parts["kept_ids"]
    trk_frame = trk.frame[keep_trk]
    trk_id, num_tracker_ids, trk_labels = _relabel(trk.ids[keep_trk])
    tcount_kept = np.bincount(trk_frame, minlength=num_timesteps)
    pair_frame = gt.frame[pair_gt[keep_pair]]
    kept_gt = gt_index[pair_gt[keep_pair]]
    kept_trk = trk_index[pair_trk[keep_pair]]
    return SeqData(
        num_timesteps=num_timesteps,
        gt_frame=gt_frame,
        gt_id=gt_id,
        trk_frame=trk_frame,
        trk_id=trk_id,
        num_gt_ids=num_gt_ids,
        num_tracker_ids=num_tracker_ids,
        gt_count=gcount_kept,
        trk_count=tcount_kept,
        pair_start=_bounds(pair_frame, num_timesteps),
        pair_frame=pair_frame,
        pair_gt=kept_gt,
        pair_trk=kept_trk,
        pair_row=kept_gt - _exclusive_cumsum(gcount_kept)[pair_frame],
        pair_col=kept_trk - _exclusive_cumsum(tcount_kept)[pair_frame],
        sim=sim[keep_pair],
        gt_labels=gt_labels,
        trk_labels=trk_labels,
    )


def _gt_parts(gt: Boxes, num_timesteps: int, rules: Benchmark) -> dict:
    """What preprocessing needs from the gt alone (memoised on ``gt``): its first repeated id in a frame,
    corner boxes, rows of invalid or distractor classes, and the kept rows (pedestrians with the consider
    flag set; without the class rule (MOT15): the flag alone) with their frames, relabelled ids and
    per-frame counts."""
    key = (num_timesteps, rules.class_rule, rules.distractor_ids)
    parts = gt.derived.get(key)
    if parts is not None:
        return parts
    keep = scored_mask(gt.zero_marked, gt.classes, rules)
    if rules.class_rule:
        distractor = np.isin(gt.classes, rules.distractor_ids)
        invalid = np.flatnonzero((gt.classes < 1) | (gt.classes > max(CLASS_IDS.values())))
    else:
        distractor, invalid = np.zeros(len(gt), dtype=bool), np.zeros(0, np.int64)
    kept_frame = gt.frame[keep]
    parts = {
        "duplicate": _first_duplicate_in_frame(gt.frame, gt.ids),  # TrackEval checks the raw rows of the range
        "corners": corners(gt.boxes),
        "invalid_class": invalid,
        "distractor": distractor,
        "kept_rows": np.flatnonzero(keep),
        "kept_index": np.cumsum(keep) - 1,
        "kept_frame": kept_frame,
        "kept_ids": _relabel(gt.ids[keep]),
        "kept_count": np.bincount(kept_frame, minlength=num_timesteps),
    }
    gt.derived[key] = parts
    return parts


def _overlaps(g_box: np.ndarray, g_frame: np.ndarray, g_rows: np.ndarray, t_box: np.ndarray,
              t_frame: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(gt row, tracker row, IoU) of the same-frame pairs with a non-zero IoU between gt rows ``g_rows``
    (ascending) and every tracker row, row-major per frame (the order of TrackEval's frame matrices)."""
    pair_gt, pair_trk = overlap_pairs(g_frame[g_rows], np.take(g_box, g_rows, axis=0), t_frame, t_box)
    pair_gt = g_rows[pair_gt]  # ascending, so the order is kept
    sim = box_iou_pairs(g_box, t_box, pair_gt, pair_trk)
    nonzero = sim != 0
    return pair_gt[nonzero], pair_trk[nonzero], sim[nonzero]


def _matched_to_distractors(gt: Boxes, parts: dict, trk: Boxes, t_box: np.ndarray, num_timesteps: int) -> np.ndarray:
    """Tracker rows TrackEval removes: matched (IoU >= 0.5 - eps, Hungarian on the whole frame matrix) to
    a gt box of a distractor class. Where every box of a frame has at most one candidate the matching is
    fixed whatever the solver's tie-breaking; elsewhere the frame's full matrix is solved as TrackEval does."""
    remove = np.zeros(len(trk), dtype=bool)
    distractor, g_box = parts["distractor"], parts["corners"]
    d_gt, _, d_sim = _overlaps(g_box, gt.frame, np.flatnonzero(distractor), t_box, trk.frame)
    frames = np.zeros(num_timesteps, dtype=bool)
    frames[gt.frame[d_gt[d_sim >= 0.5 - EPS]]] = True  # a distractor candidate: something may be removed
    if not frames.any():
        return remove
    pair_gt, pair_trk, sim = _overlaps(g_box, gt.frame, np.flatnonzero(frames[gt.frame]), t_box, trk.frame)
    pair_frame = gt.frame[pair_gt]
    candidate = sim >= 0.5 - EPS  # the cells TrackEval keeps in its matching scores (all > eps)
    matched = candidate.copy()
    hard = ambiguous_frames(candidate, pair_frame, pair_gt, pair_trk, len(gt), len(trk), num_timesteps)
    if len(hard):
        gcount = np.bincount(gt.frame, minlength=num_timesteps)
        tcount = np.bincount(trk.frame, minlength=num_timesteps)
        pair_row = pair_gt - _exclusive_cumsum(gcount)[pair_frame]
        pair_col = pair_trk - _exclusive_cumsum(tcount)[pair_frame]
        hard_mask = np.zeros(num_timesteps, dtype=bool)
        hard_mask[hard] = True
        matched &= ~hard_mask[pair_frame]
        scores = np.where(candidate, sim, 0.0)
        cells = FrameMatrices(hard, gcount, tcount, pair_frame, pair_row, pair_col).solve_all(scores)
        matched[cells[scores[cells] > 0 + EPS]] = True
    remove[pair_trk[matched & distractor[pair_gt]]] = True
    return remove


def _relabel(ids: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Ids replaced by their rank among the distinct ids (TrackEval's relabelling), how many there are, and the
    file's id of each rank (what the events and timelines name).

    Compact non-negative ids (the usual case) use a presence table instead of sorting."""
    if not len(ids):
        return ids.astype(np.int64), 0, ids.astype(np.int64)
    top = int(ids.max())
    if int(ids.min()) >= 0 and top < 4 * len(ids) + 1024:
        present = np.zeros(top + 1, dtype=bool)
        present[ids] = True
        rank = np.cumsum(present) - 1
        return rank[ids], int(rank[-1]) + 1, np.flatnonzero(present)
    distinct = np.unique(ids)
    return np.searchsorted(distinct, ids), len(distinct), distinct


def _bounds(sorted_frames: np.ndarray, num_frames: int) -> np.ndarray:
    """Start of each frame's run in a frame-sorted array, plus the end (num_frames + 1 entries)."""
    return np.searchsorted(sorted_frames, np.arange(num_frames + 1))


def _first_duplicate_in_frame(frame: np.ndarray, ids: np.ndarray) -> int | None:
    """Index of the first row (in frame order) repeating an earlier row's (frame, id), or None."""
    if len(frame) < 2:
        return None
    low = int(ids.min())
    keys = frame * (int(ids.max()) - low + 1) + (ids - low)
    order = np.argsort(keys, kind="stable")
    hits = np.flatnonzero(keys[order[1:]] == keys[order[:-1]])
    return None if not len(hits) else int(order[hits + 1].min())


# --------------------------------------------------------------------------------------------------
# sums in numpy's own order (so totals match TrackEval's per-frame ``.sum(0)`` / ``.sum(1)`` bit for bit)


def _dense_sums(owners: np.ndarray, widths: np.ndarray, pair_owner: np.ndarray, pair_pos: np.ndarray,
                values: np.ndarray, num_owners: int) -> np.ndarray:
    """Sum of each owner's full vector (its listed values, zeros elsewhere) by numpy's own 1-D sum.

    Owners of equal width are stacked into one C-contiguous matrix and reduced with ``.sum(1)``: numpy
    reduces each row of it exactly as it reduces that vector alone.
    """
    order = np.argsort(widths, kind="stable")
    owners, widths = owners[order], widths[order]
    slot = np.full(num_owners, -1, dtype=np.int64)
    slot[owners] = np.arange(len(owners))
    sel = np.flatnonzero(slot[pair_owner] >= 0)
    by_slot = np.argsort(slot[pair_owner[sel]], kind="stable")  # each block's cells become one run
    sel = sel[by_slot]
    p_slot, p_pos, p_value = slot[pair_owner[sel]], pair_pos[sel], values[sel]
    out = np.zeros(len(owners))
    bounds = np.flatnonzero(np.diff(widths)) + 1
    starts, ends = np.concatenate(([0], bounds)), np.concatenate((bounds, [len(owners)]))
    runs = np.searchsorted(p_slot, np.concatenate((starts, ends[-1:])))
    for lo, hi, a, b in zip(starts.tolist(), ends.tolist(), runs[:-1].tolist(), runs[1:].tolist(), strict=True):
        w = int(widths[lo])
        block = np.zeros((hi - lo) * w)
        block[(p_slot[a:b] - lo) * w + p_pos[a:b]] = p_value[a:b]
        out[lo:hi] = block.reshape(hi - lo, w).sum(1)
    result = np.zeros(num_owners)
    result[owners] = out
    return result


def row_sums(data: SeqData, values: np.ndarray) -> np.ndarray:
    """Per kept gt row: its frame-matrix row summed as ``matrix.sum(1)`` does.

    numpy starts a row's sum with its first cell and adds the pairwise sum of the rest, so with zeros
    in between only the sum of one or two non-zero cells is order-free; rows with three or more
    non-zero cells are rebuilt in full and summed by numpy itself.
    """
    n = data.num_gt_dets
    nnz = np.bincount(data.pair_gt, minlength=n)
    out = np.bincount(data.pair_gt, weights=values, minlength=n)
    heavy = np.flatnonzero(nnz >= 3)
    if len(heavy):
        full = _dense_sums(heavy, data.trk_count[data.gt_frame[heavy]], data.pair_gt, data.pair_col, values, n)
        out[heavy] = full[heavy]
    return out


def col_sums(data: SeqData, values: np.ndarray) -> np.ndarray:
    """Per kept tracker row: its frame-matrix column summed as ``matrix.sum(0)`` does.

    numpy adds the rows of a (G, T>=2) matrix one after the other (zeros change nothing, and the pairs
    are listed row by row, so a bincount adds them in that order); a (G, 1) matrix is one contiguous
    vector and is summed like a row (see :func:`row_sums`).
    """
    n = data.num_tracker_dets
    out = np.bincount(data.pair_trk, weights=values, minlength=n)
    single = data.trk_count[data.trk_frame] == 1
    nnz = np.bincount(data.pair_trk, minlength=n)
    heavy = np.flatnonzero(single & (nnz >= 3))
    if len(heavy):
        full = _dense_sums(heavy, data.gt_count[data.trk_frame[heavy]], data.pair_trk, data.pair_row, values, n)
        out[heavy] = full[heavy]
    return out


def frame_totals_in_order(frame: np.ndarray, values: np.ndarray, num_frames: int) -> float:
    """``total = 0; for each frame: total += sum(values of the frame)`` with Python's left-to-right sums."""
    if not len(values):
        return 0.0
    per_frame = np.bincount(frame, weights=values, minlength=num_frames)
    return float(np.cumsum(per_frame)[-1])
