"""``mot-bench report``: leaderboard.csv/.md, leaderboard_per_sequence.csv and one self-contained index.html."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from mot_bench.atomic import atomic_write_text
from mot_bench.metrics.bootstrap import HEADLINE, Settings
from mot_bench.metrics.bootstrap import METRICS as BOOTSTRAP_METRICS
from mot_bench.metrics.fields import LEADERBOARD as LEADERBOARD_METRICS
from mot_bench.metrics.fields import METRIC_FIELDS as METRICS
from mot_bench.metrics.fields import PER_SEQUENCE as PER_SEQUENCE_METRICS
from mot_bench.reports import plots
from mot_bench.reports.explain import INTERVAL_METRICS, RunEvents, all_run_events, page_data, settings_text, versus_best
from mot_bench.reports.format import better, delta_text, fmt_delta, fmt_value, interval_text
from mot_bench.reports.leaderboard import (
    STAGE_FPS_COLUMNS,
    add_interval_columns,
    display_cell,
    header,
    leaderboard_frame,
    leaderboard_markdown,
    per_sequence_frame,
    resolve_metric,
    sort_frame,
)
from mot_bench.reports.runs import RunSummary
from mot_bench.timing import STAGES

TEMPLATE_DIR = Path(__file__).parent / "templates"

HELP = {name: f.help for name, f in METRICS.items() if f.help}


def template_env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _column(key: str) -> dict[str, Any]:
    meta = METRICS.get(key)
    numeric = meta is not None or key.startswith("FPS") or key in ("frames", "sequences")
    hib = None if meta is None else meta.higher_is_better
    if key.startswith("FPS"):
        hib = True
    title = HELP.get(key) or (f"Frames per second of the {key[4:]} stage alone" if key.startswith("FPS_") else "")
    if key == "vs_best":
        numeric, hib = True, True
        title = "Difference to the best run with its paired bootstrap interval (sorted by the difference)"
    return {"key": key, "title": header(key), "numeric": numeric, "help": title,
            "default_desc": numeric and hib is not False}


def _rows(df, columns: Sequence[str]) -> list[list[dict[str, Any]]]:
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in columns:
            v = r[c]
            num = isinstance(v, (int, float)) and v == v  # not NaN
            sort = repr(float(v)) if num else str(v)
            if f"{c}_sort" in r.index:  # a text column ordered by a number (vs_best: by the difference)
                sort = "" if r[f"{c}_sort"] is None or r[f"{c}_sort"] != r[f"{c}_sort"] else repr(float(r[f"{c}_sort"]))
            cells.append({"text": display_cell(c, v), "sort": sort})
        rows.append(cells)
    return rows


def write_report(runs: Sequence[RunSummary], out: Path, sort_by: str = "HOTA",
                 comparison: dict[str, Any] | None = None, figures: bool = True,
                 tuning: str | None = None, events: Sequence[RunEvents] | None = None, explain: bool = True,
                 data: str | Path | None = None, bootstrap: Settings | None = None,
                 ablation: str | None = None) -> dict[str, str]:
    """Write every report file for ``runs`` into ``out``; return {kind: path}. ``figures=False`` skips
    the plots (a second or more of matplotlib) and leaves the HTML with tables only. ``tuning``: the
    tuning section's HTML (``mot_bench.reports.tuning.tuning_section``) for a study's report; ``ablation``:
    the seed section of an ablation (``mot_bench.reports.ablation.seeds_section``).

    ``explain`` adds each run's scoring events (``events``, else read or computed per run, the gt found
    under ``data`` or the run's config): identity timelines and, beside each run, a ``bootstrap`` interval
    of its difference to the best run."""
    sort_by = resolve_metric(sort_by)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    board = leaderboard_frame(runs, sort_by)
    per_seq = per_sequence_frame(runs)
    bootstrap = bootstrap or Settings()
    if explain and events is None:
        events = all_run_events(runs, data)
    events = list(events or []) if explain else []
    shown = sort_by if sort_by in BOOTSTRAP_METRICS else "HOTA"
    interval_note = ""
    if len(runs) > 1 and events and not board.empty:
        vs_best = versus_best(events, str(board["label"].iloc[0]), bootstrap)
        add_interval_columns(board, vs_best, shown)
        if vs_best:
            interval_note = (f"`vs best`: {METRICS[shown].title} minus the best run's, in points, with its "
                             f"{settings_text(bootstrap)}.")
    files = {
        "leaderboard_csv": out / "leaderboard.csv",
        "leaderboard_md": out / "leaderboard.md",
        "per_sequence_csv": out / "leaderboard_per_sequence.csv",
        "html": out / "index.html",
    }
    atomic_write_text(files["leaderboard_csv"], board.to_csv(index=False))
    atomic_write_text(files["per_sequence_csv"], per_seq.to_csv(index=False))
    atomic_write_text(files["leaderboard_md"], leaderboard_markdown(board, per_seq, sort_by, interval_note))
    explained = None
    if events:
        kept = [e for e in events if e.ok]
        base_index = None
        if comparison is not None:
            base_index = next((i for i, e in enumerate(kept) if str(e.run.path) == comparison["base"]), None)
        data_json, changes = page_data(kept, base_index)
        explained = {"data": data_json, "changes": changes, "notes": [e.note for e in events if e.note],
                     "sources": "; ".join(f"{e.run.label} {e.source}" for e in kept),
                     "interval_note": interval_note}
    atomic_write_text(files["html"], render_html(runs, board, per_seq, sort_by, comparison, figures,
                                                       tuning, explained, ablation))
    return {k: str(v) for k, v in files.items()}


def _bracket(metric: str, iv: dict[str, Any] | None) -> str:
    return "" if not iv else f"[{fmt_delta(metric, iv['low'])}, {fmt_delta(metric, iv['high'])}]"


def _interval_cell(metric: str, iv: dict[str, Any]) -> dict[str, Any]:
    """A difference with its interval; coloured only when the interval excludes zero."""
    real = iv["low"] > 0 or iv["high"] < 0
    return {"text": interval_text(metric, iv["delta"], iv["low"], iv["high"]), "sort": repr(float(iv["delta"])),
            "dir": better(metric, iv["delta"]) if real else 0}


def _json_script(obj: Any) -> Markup:
    """JSON safe to place inside <script type="application/json"> (no ``</`` can close the element)."""
    return Markup(json.dumps(obj, separators=(",", ":")).replace("</", "<\\/"))


def render_html(runs: Sequence[RunSummary], board, per_seq, sort_by: str,
                comparison: dict[str, Any] | None = None, figures: bool = True, tuning: str | None = None,
                explained: dict[str, Any] | None = None, ablation: str | None = None) -> str:
    ordered = {r.label: r for r in runs}
    runs_sorted = [ordered[label] for label in board["label"]]
    stage_cols = [c for c in STAGE_FPS_COLUMNS if board[c].notna().any()]
    cols = ["label", "detector", "tracker", *(["options"] if board["options"].astype(bool).any() else []),
            "benchmark", "split", *LEADERBOARD_METRICS, *(["vs_best"] if "vs_best" in board.columns else []),
            "FPS", *stage_cols, "hardware"]
    seq_cols = ["label", *PER_SEQUENCE_METRICS, "FPS", "frames"]
    sequences = []
    for seq in sorted(per_seq["sequence"].unique()) if not per_seq.empty else []:
        sub = sort_frame(per_seq[per_seq["sequence"] == seq].reset_index(drop=True), sort_by)
        sequences.append({"name": seq, "rows": _rows(sub, seq_cols), "frames": int(sub["frames"].fillna(0).max())})
    figs: dict[str, str] = {}
    frame_figs: list[dict[str, str]] = []
    if figures:
        figs = {
            "scatter": plots.hota_vs_fps(runs_sorted),
            "stages": plots.stage_timing(runs_sorted),
            "bars": plots.per_sequence_bars(runs_sorted),
            "alpha": plots.alpha_curves(runs_sorted),
        }
        frame_figs = [{"label": r.label, "svg": plots.frame_timing(r)} for r in runs_sorted]
    details = [{"label": r.label, "path": str(r.path), "hardware": r.hardware,
                "config": json.dumps(r.config, indent=2, default=str),
                "env": json.dumps(r.env, indent=2, default=str)} for r in runs_sorted]
    benchmarks = sorted({str((r.config.get("data") or {}).get("benchmark", "")) for r in runs} - {""})
    cmp_ctx = None
    if comparison is not None:
        cmp_ctx = dict(comparison)
        cmp_ctx["heads"] = [_column(m) for m in comparison["metrics"]]
        cmp_ctx["cells"] = [
            [{"text": fmt_value(m, row["metrics"][m]["value"]), "delta": delta_text(m, row["metrics"][m]),
              "dir": row["metrics"][m]["direction"],
              "interval": _bracket(m, row.get("intervals", {}).get(m))} for m in comparison["metrics"]]
            for row in comparison["rows"]
        ]
        cmp_ctx.setdefault("notes", [])
        cmp_ctx.update(interval_rows=[], seq_interval_rows=[])
        with_iv = [r for r in comparison["rows"] if r.get("intervals")]
        if with_iv:
            shown = [m for m in INTERVAL_METRICS if m in with_iv[0]["intervals"]]
            cmp_ctx["interval_heads"] = [_column(m) for m in shown]
            cmp_ctx["interval_rows"] = [{"label": r["label"], "cells": [_interval_cell(m, r["intervals"][m])
                                                                       for m in shown]} for r in with_iv]
            cmp_ctx["seq_interval_heads"] = [_column(m) for m in HEADLINE]
            cmp_ctx["seq_interval_rows"] = [
                {"seq": seq, "label": r["label"],
                 "cells": [_interval_cell(m, r["sequence_intervals"][seq][m]) for m in HEADLINE]}
                for seq in sorted(with_iv[0].get("sequence_intervals", {})) for r in with_iv
                if seq in r.get("sequence_intervals", {})]
    return template_env().get_template("report.html.j2").render(
        title="mot-bench report" + (f": {', '.join(benchmarks)}" if benchmarks else ""),
        generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        n_runs=len(runs),
        sort_by=sort_by,
        sort_title=METRICS[sort_by].title,
        columns=[_column(c) for c in cols],
        sort_index=cols.index(sort_by),
        rows=_rows(board, cols),
        seq_columns=[_column(c) for c in seq_cols],
        sequences=sequences,
        figures=figs,
        frame_figs=frame_figs,
        details=details,
        stages=STAGES,
        comparison=cmp_ctx,
        tuning=tuning,
        explained=explained,
        explained_json=_json_script(explained["data"]) if explained else "",
        ablation=ablation,
    )
