"""Where two runs differ and whether it is real: each run's scoring events as the report reads them.

Events come from a run folder's ``events/`` when they were computed from its result files as they are
now (``mot-bench run --events`` / ``eval --events``); otherwise they are computed here, in memory, from
the result files and the gt that the run's config.json names (nothing is written into the run folder,
nothing is re-run). A run whose gt cannot be found (moved data: pass ``--data``) is reported without them.

From them: identity timelines (one row per gt identity, what it was matched to frame by frame), the
identities whose association changed between two runs and the switches one run made and the other did
not, and paired bootstrap intervals (:mod:`mot_bench.metrics.bootstrap`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.data.sequences import DataError, find_sequences
from mot_bench.metrics.bootstrap import (
    HEADLINE,
    BootstrapError,
    Interval,
    Settings,
    block_sums,
    paired_intervals,
    per_sequence_intervals,
)
from mot_bench.metrics.bootstrap import METRICS as BOOTSTRAP_METRICS
from mot_bench.metrics.common import EvalError
from mot_bench.metrics.explain import Explanation, explain_results, frame_statistics, is_current, read_explanation
from mot_bench.reports.runs import RunSummary
from mot_bench.types import SeqInfo

# The metrics a comparison gives intervals for: HOTA, MOTA, IDF1 and their parts.
INTERVAL_METRICS = ("HOTA", "DetA", "AssA", "DetRe", "DetPr", "AssRe", "AssPr", "LocA", "MOTA", "MOTP", "IDSW",
                    "CLR_FP", "CLR_FN", "Frag", "IDF1", "IDP", "IDR")


@dataclass
class RunEvents:
    """One run's explanations per sequence, or why there are none (``note``)."""

    run: RunSummary
    sequences: dict[str, Explanation] = field(default_factory=dict)
    source: str = ""
    note: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.sequences)

    def blocks(self, block: int) -> dict[str, np.ndarray]:
        return {s: block_sums(frame_statistics(e), block) for s, e in self.sequences.items()}


def sequence_infos(run: RunSummary, data: str | Path | None = None) -> list[SeqInfo]:
    """The run's sequences with the frame ranges it recorded, found under ``data`` or its config's root."""
    cfg = run.config.get("data") or {}
    root = Path(data) if data is not None else Path(str(cfg.get("root", "")))
    recorded = {s["name"]: s for s in cfg.get("sequences") or [] if isinstance(s, dict) and "name" in s}
    names = sorted(run.sequences)
    seqs = find_sequences(root, cfg.get("benchmark") or None, str(cfg.get("split") or "train"), names)
    for s in seqs:
        rec = recorded.get(s.name)
        if rec and (rec.get("first_frame"), rec.get("last_frame")) != (s.first_frame, s.last_frame):
            raise DataError(f"{s.path}: frames {s.first_frame}..{s.last_frame} here, but the run scored "
                            f"{rec.get('first_frame')}..{rec.get('last_frame')}")
    return seqs


def run_events(run: RunSummary, data: str | Path | None = None) -> RunEvents:
    """Read the run's current events, computing the missing or stale ones from its gt (in memory)."""
    results = run.path / "results"
    events_dir = run.path / "events"
    out = RunEvents(run)
    stale = [s for s in run.sequences if not is_current(events_dir, s, results / f"{s}.txt")]
    try:
        for s in run.sequences:
            if s not in stale:
                out.sequences[s] = read_explanation(events_dir, s)
        if stale:
            seqs = [x for x in sequence_infos(run, data) if x.name in stale]
            bench = run.benchmark or (run.config.get("data") or {}).get("benchmark") or None
            out.sequences.update(explain_results(seqs, results, bench))
    except (DataError, EvalError, OSError, ValueError) as exc:
        out.sequences = {}
        out.note = f"{run.label}: no events ({exc})"
        return out
    out.source = "read from its events/" if not stale else \
        f"computed from the gt ({len(stale)} of {len(run.sequences)} sequences had no current events/)"
    return out


def all_run_events(runs: Sequence[RunSummary], data: str | Path | None = None) -> list[RunEvents]:
    return [run_events(r, data) for r in runs]


# --------------------------------------------------------------------------------------------------
# timelines


def previous_pred(tp: Any) -> dict[tuple[int, int], int]:
    """(frame, gt id) of each TP -> the tracker id of the same gt id's previous match (-1 for its first)."""
    if not len(tp):
        return {}
    g = tp["gt_id"].to_numpy()
    f = tp["frame"].to_numpy()
    p = tp["pred_id"].to_numpy()
    order = np.lexsort((f, g))
    g, f, p = g[order], f[order], p[order]
    prev = np.full(len(p), -1, dtype=np.int64)
    same = g[1:] == g[:-1]
    prev[1:][same] = p[:-1][same]
    return dict(zip(zip(f.tolist(), g.tolist(), strict=True), prev.tolist(), strict=True))


def timeline(expl: Explanation) -> dict[str, Any]:
    """What the page draws for one sequence of one run: per gt identity its segments (runs of consecutive
    frames matched to one predicted id, or missed: pred -1, with their mean IoU) and its marks (switches
    and fragmentations: frame, kind, predicted id, IoU, previous predicted id); false positives per frame."""
    ev = expl.events
    boxes = ev[ev["kind"].isin(["TP", "FN"])]
    g = boxes["gt_id"].to_numpy()
    f = boxes["frame"].to_numpy()
    p = boxes["pred_id"].to_numpy()
    iou = boxes["iou"].to_numpy()
    order = np.lexsort((f, g))
    g, f, p, iou = g[order], f[order], p[order], iou[order]
    start = np.ones(len(g), dtype=bool)
    start[1:] = (g[1:] != g[:-1]) | (p[1:] != p[:-1]) | (f[1:] != f[:-1] + 1)
    first = np.flatnonzero(start)
    last = np.append(first[1:], len(g)) - 1
    mean_iou = np.add.reduceat(iou, first) / (last - first + 1) if len(first) else np.zeros(0)
    segs: dict[int, list] = {}
    for gi, a, b, pi, q in zip(g[first].tolist(), f[first].tolist(), f[last].tolist(), p[first].tolist(),
                               np.round(mean_iou, 3).tolist(), strict=True):
        segs.setdefault(gi, []).append([a, b, pi, q])
    prev = previous_pred(ev[ev["kind"] == "TP"])
    marks: dict[int, list] = {}
    for row in ev[ev["kind"].isin(["IDSW", "FRAG"])].itertuples(index=False):
        marks.setdefault(int(row.gt_id), []).append(
            [int(row.frame), str(row.kind), int(row.pred_id), round(float(row.iou), 3),
             prev.get((int(row.frame), int(row.gt_id)), -1)])
    fp = ev[ev["kind"] == "FP"]["frame"].value_counts().sort_index()
    ids = []
    for r in expl.identities.itertuples(index=False):
        gid = int(r.gt_id)
        ids.append({"id": gid, "errors": int(r.errors), "fn": int(r.fn), "idsw": int(r.idsw), "frag": int(r.frag),
                    "frames": int(r.frames), "assa": round(float(r.assa), 4), "idtp": int(r.idtp),
                    "first": int(r.first_frame), "last": int(r.last_frame), "preds": str(r.pred_ids),
                    "segs": segs.get(gid, []), "marks": marks.get(gid, [])})
    return {"seq": expl.seq, "first": expl.first_frame, "last": expl.last_frame,
            "fp": [[int(k), int(v)] for k, v in fp.items()], "ids": ids}


# --------------------------------------------------------------------------------------------------
# two runs


def identity_changes(base: Explanation, other: Explanation, top: int = 12) -> dict[str, Any]:
    """Per gt identity, how association changed from ``base`` to ``other`` (HOTA AssA, IDF1 true positives,
    switches, misses), the ``top`` largest gains and losses, and the switches only one run made."""
    a = base.identities.set_index("gt_id")
    b = other.identities.set_index("gt_id")
    common = a.index.intersection(b.index)
    rows = []
    for gid in common:
        ra, rb = a.loc[gid], b.loc[gid]
        d_assa = float(rb["assa"] - ra["assa"])
        rows.append({"id": int(gid), "frames": int(ra["frames"]), "assa_base": round(float(ra["assa"]), 4),
                     "assa": round(float(rb["assa"]), 4), "d_assa": round(d_assa, 4),
                     "d_idtp": int(rb["idtp"] - ra["idtp"]), "d_idsw": int(rb["idsw"] - ra["idsw"]),
                     "d_fn": int(rb["fn"] - ra["fn"]), "preds_base": str(ra["pred_ids"]),
                     "preds": str(rb["pred_ids"])})
    # better or worse by AssA first, IDF1 true positives to break a tie
    better = sorted((r for r in rows if (r["d_assa"], r["d_idtp"]) > (0, 0)),
                    key=lambda r: (-r["d_assa"], -r["d_idtp"]))
    worse = sorted((r for r in rows if (r["d_assa"], r["d_idtp"]) < (0, 0)),
                   key=lambda r: (r["d_assa"], r["d_idtp"]))

    def switches(expl: Explanation) -> dict[tuple[int, int], list]:
        prev = previous_pred(expl.events[expl.events["kind"] == "TP"])
        sw = expl.events[expl.events["kind"] == "IDSW"]
        return {(int(r.frame), int(r.gt_id)): [int(r.frame), int(r.gt_id), prev.get((int(r.frame), int(r.gt_id)), -1),
                                               int(r.pred_id)] for r in sw.itertuples(index=False)}

    sa, sb = switches(base), switches(other)
    only_base = [sa[k] for k in sorted(set(sa) - set(sb))]
    only_other = [sb[k] for k in sorted(set(sb) - set(sa))]
    return {"seq": base.seq, "better": better[:top], "worse": worse[:top], "n_better": len(better),
            "n_worse": len(worse), "sum_better": round(sum(r["d_assa"] for r in better), 4),
            "sum_worse": round(sum(r["d_assa"] for r in worse), 4), "identities": len(common),
            "switch_only_base": only_base, "switch_only_other": only_other}


def intervals(base: RunEvents, other: RunEvents, settings: Settings, metrics: Sequence[str] = BOOTSTRAP_METRICS,
              per_sequence: bool = False) -> tuple[dict[str, Interval], dict[str, dict[str, Interval]]] | None:
    """Paired intervals of ``other - base`` (combined, and per sequence when asked); None without events."""
    if not (base.ok and other.ok):
        return None
    try:
        a, b = base.blocks(settings.block), other.blocks(settings.block)
        combined = paired_intervals(a, b, settings, metrics)
        per_seq = per_sequence_intervals(a, b, settings, metrics) if per_sequence else {}
    except BootstrapError:
        return None
    return combined, per_seq


def versus_best(events: Sequence[RunEvents], best_label: str, settings: Settings,
                metrics: Sequence[str] = HEADLINE) -> dict[str, dict[str, Interval]]:
    """Per run (the best excluded), its paired intervals of ``run - best``; runs without events are left out."""
    by_label = {e.run.label: e for e in events}
    best = by_label.get(best_label)
    if best is None or not best.ok:
        return {}
    out = {}
    for e in events:
        if e.run.label != best_label:
            found = intervals(best, e, settings, metrics)
            if found is not None:
                out[e.run.label] = found[0]
    return out


def settings_text(settings: Settings) -> str:
    return (f"paired bootstrap, {round(100 * settings.level)}% percentile interval: sequences and "
            f"{settings.block}-frame blocks resampled, {settings.replicates} replicates, seed {settings.seed}")


def page_data(events: Sequence[RunEvents], base_index: int | None = None) -> tuple[dict[str, Any], list[dict]]:
    """What the report's identity section shows: the JSON its timelines are drawn from (per sequence, each
    run's :func:`timeline`) and, against the base run, each other run's :func:`identity_changes` per sequence."""
    labels = [e.run.label for e in events]
    seqs: dict[str, Any] = {}
    for i, e in enumerate(events):
        for name, expl in e.sequences.items():
            seqs.setdefault(name, {"runs": {}})["runs"][str(i)] = timeline(expl)
    changes = []
    if base_index is not None:
        base = events[base_index]
        for i, e in enumerate(events):
            if i == base_index:
                continue
            for name in sorted(e.sequences):
                if name in base.sequences:
                    changes.append({"run": i, "label": labels[i], "base_label": labels[base_index],
                                    **identity_changes(base.sequences[name], e.sequences[name])})
    return {"runs": labels, "base": base_index, "seqs": dict(sorted(seqs.items()))}, changes
