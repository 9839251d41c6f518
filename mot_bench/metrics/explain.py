"""Why a run scores what it scores: the kit's own matchings as events, identities and per-frame statistics.

Everything here is read off the fast engine's code path (its preprocessing, CLEAR's matching, HOTA's
association, IDF1's global assignment), never from a second matcher, so it adds up to the kit's fields:

* events, one row each: ``TP`` (a CLEAR match), ``FN`` (a kept gt box left unmatched), ``FP`` (a kept
  tracker box left unmatched), and, beside the TP row of the match where it happens, ``IDSW`` (the gt
  id's tracker id changed since its previous match) and ``FRAG`` (a run of matches resumed after a gap).
  Their counts are CLR_TP, CLR_FN, CLR_FP, IDSW and Frag exactly. ``iou`` is the match's IoU; for FN and
  FP the best IoU with any box of the other side in that frame (0: nothing overlapped), which tells a
  localisation miss from a missing box. Tracker boxes the kit removes (matched to distractors) and gt
  rows it ignores are not events.
* identities, one row per kept gt id: frames present, frames matched (CLEAR), misses, switches,
  fragmentations, the predicted ids it was matched to in order, its IDF1 contribution (``idtp``, its
  frames matched to the tracker id IDF1's global assignment gave it: these sum to IDTP; ``idf1_share`` =
  2 idtp / (gt + predicted boxes), these sum to IDF1) and its HOTA association accuracy (``assa``: the
  TrackEval AssA of its own matches, averaged over the 19 localisation thresholds).
* frames, one row per frame of the range: the per-frame sufficient statistics every metric is a
  function of (see :mod:`mot_bench.metrics.bootstrap`): box counts, CLEAR matches, switches, MOTP sums,
  IDF1 true positives under the fixed global assignment, and per threshold HOTA's true positives, IoU
  sums and each frame's first-order share of the association sums of AssA, AssRe and AssPr
  (:func:`association_influence`). Summed over frames they give the kit's totals (integers exactly,
  floats to rounding).

On disk (a run folder's ``events/``): ``<SEQ>.csv.gz``, ``<SEQ>.identities.csv.gz``,
``<SEQ>.frames.csv.gz`` and ``<SEQ>.json`` (what they were computed from: the result file's sha256, the
benchmark, frame range, and the totals). csv.gz rather than parquet: readable by anything (pandas, R,
``zcat | grep``), no pyarrow (tens of MB) for tables of at most a few hundred thousand short rows, and
pandas reads a sequence's tables in tens of milliseconds.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.atomic import atomic_write, atomic_write_json
from mot_bench.metrics.common import EvalError, check_sequence, load_results, resolve_benchmark
from mot_bench.metrics.fast import clear, hota, identity
from mot_bench.metrics.fast.evaluator import load_gt, prepare
from mot_bench.metrics.fast.preprocess import SeqData
from mot_bench.types import SeqInfo

FORMAT = "mot-bench-events/1"
KINDS = ("TP", "FN", "FP", "IDSW", "FRAG")
KIND_FIELDS = {"TP": "CLR_TP", "FN": "CLR_FN", "FP": "CLR_FP", "IDSW": "IDSW", "FRAG": "Frag"}
ALPHA_TAGS = tuple(f"{round(100 * a):02d}" for a in hota.ALPHAS)
HOTA_PARTS = ("hota_tp", "hota_ass", "hota_assre", "hota_asspr", "hota_loc")
FRAME_COUNTS = ("gt", "pred", "clr_tp", "idsw", "frag", "motp", "idtp")
FRAME_STATS = FRAME_COUNTS + tuple(f"{p}_{t}" for p in HOTA_PARTS for t in ALPHA_TAGS)
IDENTITY_COLUMNS = ("gt_id", "first_frame", "last_frame", "frames", "matched", "fn", "idsw", "frag", "errors",
                    "pred_ids", "id_pred", "idtp", "idf1_share", "assa")


@dataclass
class Explanation:
    """One sequence explained: events, identities, per-frame statistics (pandas frames) and totals."""

    seq: str
    first_frame: int
    last_frame: int
    benchmark: str
    events: Any  # pandas.DataFrame: frame, gt_id, pred_id, kind, iou
    identities: Any  # pandas.DataFrame: IDENTITY_COLUMNS
    frames: Any  # pandas.DataFrame: frame, FRAME_STATS
    meta: dict[str, Any]

    def counts(self) -> dict[str, int]:
        """The kit's field name -> number of events of that kind."""
        found = self.events["kind"].value_counts()
        return {KIND_FIELDS[k]: int(found.get(k, 0)) for k in KINDS}


# --------------------------------------------------------------------------------------------------
# computing


def explain_sequence(seq: SeqInfo, gt, rows: np.ndarray, benchmark: str) -> Explanation:
    """Explain one sequence's checked result ``rows`` against its gt (``fast.evaluator.load_gt``)."""
    data = prepare(seq, gt, rows, benchmark)
    return explain_data(data, seq, benchmark)


def explain_data(data: SeqData, seq: SeqInfo, benchmark: str) -> Explanation:
    import pandas as pd

    first = seq.first_frame
    n_frames = data.num_timesteps
    g_of = data.gt_id[data.pair_gt]
    t_of = data.trk_id[data.pair_trk]
    best_gt = np.zeros(data.num_gt_dets)
    best_trk = np.zeros(data.num_tracker_dets)
    np.maximum.at(best_gt, data.pair_gt, data.sim)
    np.maximum.at(best_trk, data.pair_trk, data.sim)
    stats = {name: np.zeros(n_frames) for name in FRAME_STATS}
    stats["gt"] = data.gt_count.astype(np.float64)
    stats["pred"] = data.trk_count.astype(np.float64)
    n_gt = data.num_gt_ids
    per_id = {c: np.zeros(n_gt, dtype=np.int64) for c in ("matched", "idsw", "frag", "idtp")}
    id_pred = np.full(n_gt, -1, dtype=np.int64)
    assa = np.zeros(n_gt)
    pred_ids = [""] * n_gt
    gt_matched = np.zeros(data.num_gt_dets, dtype=bool)
    trk_matched = np.zeros(data.num_tracker_dets, dtype=bool)
    ev_frame, ev_gt, ev_trk, ev_kind, ev_iou = [], [], [], [], []

    def add(kind: str, frame, gt_label, trk_label, iou) -> None:
        ev_frame.append(np.asarray(frame, dtype=np.int64) + first)
        ev_gt.append(np.asarray(gt_label, dtype=np.int64))
        ev_trk.append(np.asarray(trk_label, dtype=np.int64))
        ev_kind.append(np.full(len(ev_frame[-1]), KINDS.index(kind), dtype=np.int8))
        ev_iou.append(np.asarray(iou, dtype=np.float64))

    both = data.num_gt_dets > 0 and data.num_tracker_dets > 0
    if both:
        # CLEAR: the engine's own matches and the order it reads switches and fragmentations from
        m = clear.matching(data)
        pair_gt, pair_trk = data.pair_gt[m.match], data.pair_trk[m.match]
        gt_matched[pair_gt] = True
        trk_matched[pair_trk] = True
        iou = data.sim[m.match]
        add("TP", m.frame, data.gt_labels[m.gt], data.trk_labels[m.trk], iou)
        s = m.order
        for kind, flag in (("IDSW", m.switch), ("FRAG", m.resumed)):
            sel = s[flag]
            add(kind, m.frame[sel], data.gt_labels[m.gt[sel]], data.trk_labels[m.trk[sel]], iou[sel])
        stats["clr_tp"] = np.bincount(m.frame, minlength=n_frames).astype(np.float64)
        stats["idsw"] = np.bincount(m.frame[s[m.switch]], minlength=n_frames).astype(np.float64)
        stats["frag"] = np.bincount(m.frame[s[m.resumed]], minlength=n_frames).astype(np.float64)
        stats["motp"] = np.bincount(m.frame, weights=iou, minlength=n_frames)
        per_id["matched"] = np.bincount(m.gt, minlength=n_gt)
        per_id["idsw"] = np.bincount(m.gt[s[m.switch]], minlength=n_gt)
        per_id["frag"] = np.bincount(m.gt[s[m.resumed]], minlength=n_gt)
        pred_ids = _id_sequences(m.gt[s], data.trk_labels[m.trk[s]], n_gt)

        # IDF1: the global assignment; a gt id's contribution is its overlap frames with its assigned id
        a = identity.assignment(data)
        assigned = np.full(n_gt, -1, dtype=np.int64)
        real = (a.rows < n_gt) & (a.cols < data.num_tracker_ids)
        assigned[a.rows[real]] = a.cols[real]
        id_pred[a.rows[real]] = data.trk_labels[a.cols[real]]
        per_id["idtp"][a.rows[real]] = a.potential[a.rows[real], a.cols[real]].astype(np.int64)
        hit = (data.sim >= identity.THRESHOLD) & (t_of == assigned[g_of])
        stats["idtp"] = np.bincount(data.pair_frame[hit], minlength=n_frames).astype(np.float64)

        # HOTA: true positives, IoU sums and the association terms per frame (see association_influence)
        h = hota.association(data)
        mg, mt = g_of[h.match], t_of[h.match]
        hit_f = h.hit.astype(np.float64)
        m_frame = data.pair_frame[h.match]
        per_match = {"hota_tp": hit_f, "hota_loc": hit_f * data.sim[h.match]}
        for part, (d_pair, d_gt, d_trk) in association_influence(h.counts, h.gt_id_count, h.trk_id_count).items():
            per_match[part] = hit_f * d_pair[:, mg, mt]
            for i, tag in enumerate(ALPHA_TAGS):
                stats[f"{part}_{tag}"] = (np.bincount(data.gt_frame, weights=d_gt[i][data.gt_id], minlength=n_frames)
                                          + np.bincount(data.trk_frame, weights=d_trk[i][data.trk_id],
                                                        minlength=n_frames))
        for part, values in per_match.items():
            for i, tag in enumerate(ALPHA_TAGS):
                stats[f"{part}_{tag}"] += np.bincount(m_frame, weights=values[i], minlength=n_frames)
        # an identity's own AssA: the association scores of its matches over its true positives
        mc = h.counts[:, mg, mt]
        score = hit_f * mc / np.maximum(1, h.gt_id_count[mg] + h.trk_id_count[mt] - mc)
        tp_id = np.stack([np.bincount(mg, weights=hit_f[i], minlength=n_gt) for i in range(len(ALPHA_TAGS))])
        ass_id = np.stack([np.bincount(mg, weights=score[i], minlength=n_gt) for i in range(len(ALPHA_TAGS))])
        assa = (ass_id / np.maximum(1, tp_id)).mean(axis=0)

    fn_rows = np.flatnonzero(~gt_matched)
    add("FN", data.gt_frame[fn_rows], data.gt_labels[data.gt_id[fn_rows]], np.full(len(fn_rows), -1),
        best_gt[fn_rows])
    fp_rows = np.flatnonzero(~trk_matched)
    add("FP", data.trk_frame[fp_rows], np.full(len(fp_rows), -1), data.trk_labels[data.trk_id[fp_rows]],
        best_trk[fp_rows])

    frame = np.concatenate(ev_frame)
    kind = np.concatenate(ev_kind)
    gt_col, trk_col = np.concatenate(ev_gt), np.concatenate(ev_trk)
    order = np.lexsort((trk_col, gt_col, kind, frame))
    events = pd.DataFrame({
        "frame": frame[order],
        "gt_id": gt_col[order],
        "pred_id": trk_col[order],
        "kind": pd.Categorical.from_codes(kind[order], categories=list(KINDS)),
        "iou": np.concatenate(ev_iou)[order],
    })

    frames_present = np.bincount(data.gt_id, minlength=n_gt)
    first_seen = np.full(n_gt, n_frames, dtype=np.int64)
    last_seen = np.full(n_gt, -1, dtype=np.int64)
    np.minimum.at(first_seen, data.gt_id, data.gt_frame)
    np.maximum.at(last_seen, data.gt_id, data.gt_frame)
    fn = frames_present - per_id["matched"]
    total_boxes = max(1, data.num_gt_dets + data.num_tracker_dets)
    identities = pd.DataFrame({
        "gt_id": data.gt_labels,
        "first_frame": first_seen + first,
        "last_frame": last_seen + first,
        "frames": frames_present,
        "matched": per_id["matched"],
        "fn": fn,
        "idsw": per_id["idsw"],
        "frag": per_id["frag"],
        "errors": fn + per_id["idsw"] + per_id["frag"],
        "pred_ids": pred_ids,
        "id_pred": id_pred,
        "idtp": per_id["idtp"],
        "idf1_share": 2 * per_id["idtp"] / total_boxes,
        "assa": assa,
    }, columns=list(IDENTITY_COLUMNS))
    frames = pd.DataFrame({"frame": np.arange(n_frames, dtype=np.int64) + first,
                           **{k: stats[k] for k in FRAME_STATS}})
    for name in (*FRAME_COUNTS, *(f"hota_tp_{t}" for t in ALPHA_TAGS)):
        if name != "motp":
            frames[name] = frames[name].astype(np.int64)
    meta = {"format": FORMAT, "seq": seq.name, "benchmark": benchmark, "first_frame": seq.first_frame,
            "last_frame": seq.last_frame, "fps": seq.fps, "width": seq.width, "height": seq.height}
    expl = Explanation(seq.name, seq.first_frame, seq.last_frame, benchmark, events, identities, frames, meta)
    meta["counts"] = expl.counts()
    meta["IDTP"] = int(per_id["idtp"].sum())
    return expl


def association_influence(counts: np.ndarray, gt_count: np.ndarray, trk_count: np.ndarray
                          ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """What one box adds to HOTA's association sums, to first order: per part, (per matched id pair, per gt
    box of an id, per tracker box of an id), each with a leading alpha axis.

    AssA's numerator is a sum over id pairs of h(x, y, z) = x^2 / (y + z - x), with x the pair's true
    positives, y and z its gt and tracker ids' box counts (AssRe: x^2 / y, AssPr: x^2 / z). A frame moves
    those counts by its matches and boxes, so its first-order share is its matches' dh/dx plus its gt
    boxes' dh/dy and tracker boxes' dh/dz, summed over the pairs the ids belong to. h is homogeneous of
    degree 1, so by Euler's theorem x dh/dx + y dh/dy + z dh/dz = h: the shares of all frames sum to the
    kit's sum exactly (to rounding), a frame's share is zero where nothing of it took part, and a change
    confined to some frames shows (to first order) in those frames only."""
    x = counts
    y = np.broadcast_to(gt_count[np.newaxis, :, np.newaxis], x.shape)
    z = np.broadcast_to(trk_count[np.newaxis, np.newaxis, :], x.shape)
    used = x > 0
    out = {}
    for part, denom in (("hota_ass", y + z - x), ("hota_assre", y), ("hota_asspr", z)):
        d = np.where(used, denom, 1.0)
        d_pair = np.where(used, 2 * x / d + (x * x / (d * d) if part == "hota_ass" else 0.0), 0.0)
        d_other = np.where(used, -(x * x) / (d * d), 0.0)  # dh/dy and dh/dz where the id is in the denominator
        d_gt = d_other.sum(axis=2) if part in ("hota_ass", "hota_assre") else np.zeros(x.shape[:2])
        d_trk = d_other.sum(axis=1) if part in ("hota_ass", "hota_asspr") else np.zeros((x.shape[0], x.shape[2]))
        out[part] = (d_pair, d_gt, d_trk)
    return out


def _id_sequences(gt_sorted: np.ndarray, trk_labels_sorted: np.ndarray, n_gt: int) -> list[str]:
    """Per gt id, the tracker ids of its matches in frame order with repeats collapsed ("4 9 4")."""
    out = [""] * n_gt
    if not len(gt_sorted):
        return out
    change = np.ones(len(gt_sorted), dtype=bool)
    change[1:] = (gt_sorted[1:] != gt_sorted[:-1]) | (trk_labels_sorted[1:] != trk_labels_sorted[:-1])
    g, t = gt_sorted[change].tolist(), trk_labels_sorted[change].tolist()
    parts: dict[int, list[str]] = {}
    for gi, ti in zip(g, t, strict=True):
        parts.setdefault(gi, []).append(str(ti))
    for gi, ids in parts.items():
        out[gi] = " ".join(ids)
    return out


def explain_results(seqs: Sequence[SeqInfo], results_dir: str | Path, benchmark: str | None = None
                    ) -> dict[str, Explanation]:
    """Explain every sequence's ``<results_dir>/<SEQ>.txt``; every input read and checked first."""
    results_dir = Path(results_dir)
    seqs = list(seqs)
    if not seqs:
        raise EvalError("no sequences to explain")
    bench = resolve_benchmark(seqs, benchmark)
    for seq in seqs:
        check_sequence(seq, bench)
    cache: dict = {}
    loaded = {s.name: (load_gt(s, cache), load_results(results_dir / f"{s.name}.txt", s)) for s in seqs}
    out = {}
    for s in seqs:
        expl = explain_sequence(s, *loaded[s.name], bench)
        expl.meta["results_sha256"] = file_sha256(results_dir / f"{s.name}.txt")
        out[s.name] = expl
    return out


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------------
# the run folder's events/


def _write_csv_gz(path: Path, frame) -> None:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, lineterminator="\n")
    data = gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=1, mtime=0)  # same bytes every time
    atomic_write(path, lambda fh: fh.write(data), mode="wb")


def table_paths(events_dir: str | Path, seq: str) -> dict[str, Path]:
    d = Path(events_dir)
    return {"events": d / f"{seq}.csv.gz", "identities": d / f"{seq}.identities.csv.gz",
            "frames": d / f"{seq}.frames.csv.gz", "meta": d / f"{seq}.json"}


def write_explanation(events_dir: str | Path, expl: Explanation) -> None:
    """The sequence's tables, then its ``<SEQ>.json`` (written last: a folder cut short has no record)."""
    paths = table_paths(events_dir, expl.seq)
    _write_csv_gz(paths["events"], expl.events)
    _write_csv_gz(paths["identities"], expl.identities)
    _write_csv_gz(paths["frames"], expl.frames)
    atomic_write_json(paths["meta"], expl.meta)


def write_explanations(events_dir: str | Path, explanations: dict[str, Explanation]) -> list[Path]:
    for expl in explanations.values():
        write_explanation(events_dir, expl)
    return [table_paths(events_dir, s)["events"] for s in explanations]


def read_explanation(events_dir: str | Path, seq: str) -> Explanation:
    """Load what :func:`write_explanation` wrote (EvalError naming the file when something is missing)."""
    import pandas as pd

    paths = table_paths(events_dir, seq)
    for path in paths.values():
        if not path.is_file():
            raise EvalError(f"{path}: missing (write events with `mot-bench eval --events`)", path=path)
    try:
        meta = json.loads(paths["meta"].read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EvalError(f"{paths['meta']}:{exc.lineno}: not valid JSON: {exc.msg}", paths["meta"], exc.lineno) \
            from None
    if meta.get("format") != FORMAT:
        raise EvalError(f"{paths['meta']}: not an events record (expected \"format\": \"{FORMAT}\")", paths["meta"])
    events = pd.read_csv(paths["events"], dtype={"frame": np.int64, "gt_id": np.int64, "pred_id": np.int64,
                                                  "iou": np.float64})
    events["kind"] = pd.Categorical(events["kind"], categories=list(KINDS))
    identities = pd.read_csv(paths["identities"], dtype={"pred_ids": str}, keep_default_na=False)
    frames = pd.read_csv(paths["frames"])
    return Explanation(seq, int(meta["first_frame"]), int(meta["last_frame"]), str(meta["benchmark"]), events,
                       identities, frames, meta)


def is_current(events_dir: str | Path, seq: str, results_path: str | Path) -> bool:
    """Events exist for ``seq`` and were computed from the result file as it is now."""
    meta_path = table_paths(events_dir, seq)["meta"]
    if not meta_path.is_file() or not Path(results_path).is_file():
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return False
    return meta.get("format") == FORMAT and meta.get("results_sha256") == file_sha256(results_path)


def frame_statistics(expl: Explanation) -> np.ndarray:
    """(frames, FRAME_STATS) float64: the per-frame sufficient statistics, in FRAME_STATS order."""
    return expl.frames.loc[:, list(FRAME_STATS)].to_numpy(dtype=np.float64)
