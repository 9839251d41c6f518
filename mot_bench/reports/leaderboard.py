"""Leaderboard tables (pandas) and their CSV / Markdown forms.

CSV keeps metrics.json units (ratios as fractions 0..1, counts as integers, FPS as frames per
second) so it round-trips exactly; Markdown and HTML show ratios as percentages, as MOTChallenge does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from mot_bench.metrics.fields import LEADERBOARD as LEADERBOARD_METRICS
from mot_bench.metrics.fields import METRIC_FIELDS as METRICS
from mot_bench.metrics.fields import PER_SEQUENCE as PER_SEQUENCE_METRICS
from mot_bench.metrics.fields import resolve as resolve_metric
from mot_bench.reports.format import fmt_value, header
from mot_bench.reports.runs import RunSummary
from mot_bench.timing import STAGES

STAGE_FPS_COLUMNS = tuple(f"FPS_{s}" for s in STAGES)


def key_options(runs: Sequence[RunSummary]) -> list[dict[str, Any]]:
    """Per run, the options worth a column: those that vary between runs of the same detector (``det.*``)
    or the same tracker (``trk.*``); another tracker's defaults are implied by its name. One run: all."""
    opts = [r.options() for r in runs]
    if len(runs) <= 1:
        return opts
    keep: list[set[str]] = [set() for _ in runs]
    for prefix, name_of in (("det.", lambda r: r.detector), ("trk.", lambda r: r.tracker)):
        groups: dict[str, list[int]] = {}
        for i, run in enumerate(runs):
            groups.setdefault(name_of(run), []).append(i)
        for members in groups.values():
            keys = {k for i in members for k in opts[i] if k.startswith(prefix)}
            for k in keys:
                if len({repr(opts[i].get(k)) for i in members}) > 1:
                    for i in members:
                        keep[i].add(k)
    return [{k: o[k] for k in sorted(o) if k in kept} for o, kept in zip(opts, keep, strict=True)]


def _options_text(opts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in opts.items())


def leaderboard_frame(runs: Sequence[RunSummary], sort_by: str = "HOTA") -> pd.DataFrame:
    """One row per run, best first by ``sort_by`` (direction-aware: lower IDSW/FP/FN ranks higher)."""
    rows = []
    for run, opts in zip(runs, key_options(runs), strict=True):
        data = run.config.get("data") or {}
        row: dict[str, Any] = {
            "label": run.label,
            "detector": run.detector,
            "tracker": run.tracker,
            "options": _options_text(opts),
            "benchmark": run.benchmark or data.get("benchmark") or "",
            "split": run.split or data.get("split") or "",
            "sequences": len(run.sequences),
            "frames": run.timing.get("combined", {}).get("frames", 0),
        }
        for m in LEADERBOARD_METRICS:
            row[m] = run.combined.get(m)
        row["FPS"] = run.fps
        for stage, col in zip(STAGES, STAGE_FPS_COLUMNS, strict=True):
            row[col] = run.stage_fps(stage)
        row["hardware"] = run.hardware
        row["device"] = run.config.get("device") or run.env.get("device", "")
        row["precision"] = run.config.get("precision", "")
        row["run"] = str(run.path)
        rows.append(row)
    df = pd.DataFrame(rows)
    return sort_frame(df, sort_by)


def sort_frame(df: pd.DataFrame, sort_by: str) -> pd.DataFrame:
    metric = resolve_metric(sort_by)
    if df.empty or metric not in df.columns:
        return df.reset_index(drop=True)
    ascending = METRICS[metric].higher_is_better is False
    return df.sort_values(metric, ascending=ascending, na_position="last", kind="stable").reset_index(drop=True)


def per_sequence_frame(runs: Sequence[RunSummary]) -> pd.DataFrame:
    """One row per (run, sequence) with the per-sequence metrics and that sequence's FPS."""
    rows = []
    for run in runs:
        seq_timing = run.timing.get("per_sequence", {})
        for seq in run.sequences:
            row: dict[str, Any] = {"label": run.label, "sequence": seq}
            for m in PER_SEQUENCE_METRICS:
                row[m] = run.per_sequence[seq].get(m)
            row["FPS"] = seq_timing.get(seq, {}).get("fps")
            row["frames"] = seq_timing.get(seq, {}).get("frames")
            rows.append(row)
    return pd.DataFrame(rows, columns=["label", "sequence", *PER_SEQUENCE_METRICS, "FPS", "frames"])


def display_cell(column: str, value: Any) -> str:
    """A cell as people read it: percentages for ratios, one decimal for FPS, text as is."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if column in METRICS or column.startswith("FPS"):
        return fmt_value(column, value)
    return str(value)


def markdown_table(df: pd.DataFrame, columns: Sequence[str]) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned), without needing ``tabulate``."""
    cols = [c for c in columns if c in df.columns]
    numeric = [c in METRICS or c.startswith("FPS") or c in ("sequences", "frames") for c in cols]
    lines = [
        "| " + " | ".join(header(c) for c in cols) + " |",
        "|" + "|".join("---:" if n else "---" for n in numeric) + "|",
    ]
    for _, row in df.iterrows():
        cells = [display_cell(c, row[c]).replace("|", "\\|") for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


LEADERBOARD_MD_COLUMNS = (
    "label", "detector", "tracker", "options", "benchmark", "split", *LEADERBOARD_METRICS, "vs_best", "FPS",
    *STAGE_FPS_COLUMNS, "hardware",
)


def add_interval_columns(board: pd.DataFrame, vs_best: dict[str, dict[str, Any]], shown: str) -> None:
    """Beside each run, its difference to the best run (the board's first row) with a bootstrap interval:
    ``<M>_vs_best`` / ``_low`` / ``_high`` for every bootstrapped metric (metrics.json units, for the CSV)
    and ``vs_best``, the ``shown`` metric as text (Markdown, HTML). No-op without intervals."""
    if not vs_best or board.empty:
        return
    from mot_bench.reports.format import interval_text

    best = board["label"].iloc[0]
    metrics = list(dict.fromkeys(m for ivs in vs_best.values() for m in ivs))
    for m in metrics:
        for part, key in (("", "delta"), ("_low", "low"), ("_high", "high")):
            board[f"{m}_vs_best{part}"] = [0.0 if label == best else
                                           getattr(vs_best[label][m], key) if label in vs_best else None
                                           for label in board["label"]]
    texts = []
    for label in board["label"]:
        iv = vs_best.get(label, {}).get(shown)
        texts.append("best" if label == best else "–" if iv is None else
                     interval_text(shown, iv.delta, iv.low, iv.high))
    board["vs_best"] = texts
    board["vs_best_sort"] = board[f"{shown}_vs_best"]


def leaderboard_markdown(board: pd.DataFrame, per_seq: pd.DataFrame, sort_by: str, interval_note: str = "") -> str:
    """The whole leaderboard.md: the main table, then one table per sequence."""
    stage_cols = [c for c in STAGE_FPS_COLUMNS if c in board.columns and board[c].notna().any()]
    cols = [c for c in LEADERBOARD_MD_COLUMNS if not c.startswith("FPS_") or c in stage_cols]
    if not board["options"].astype(bool).any():
        cols.remove("options")
    parts = [
        "# Leaderboard\n",
        f"Sorted by {METRICS[resolve_metric(sort_by)].title}. Ratios in percent; FPS counts every stage of "
        "the pipeline (warm-up frames excluded); `FPS <stage>` is frames per second of that stage alone."
        + (f" {interval_note}" if interval_note else "") + "\n",
        markdown_table(board, cols),
    ]
    seq_cols = ["label", *PER_SEQUENCE_METRICS, "FPS"]
    for seq in sorted(per_seq["sequence"].unique()) if not per_seq.empty else []:
        sub = per_seq[per_seq["sequence"] == seq]
        sub = sort_frame(sub.reset_index(drop=True), sort_by)
        parts.append(f"\n## {seq}\n")
        parts.append(markdown_table(sub, seq_cols))
    return "\n".join(parts)
