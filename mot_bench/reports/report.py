"""``mot-bench report``: leaderboard.csv/.md, leaderboard_per_sequence.csv and one self-contained index.html."""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from mot_bench.atomic import atomic_write_text
from mot_bench.metrics.fields import LEADERBOARD as LEADERBOARD_METRICS
from mot_bench.metrics.fields import METRIC_FIELDS as METRICS
from mot_bench.metrics.fields import PER_SEQUENCE as PER_SEQUENCE_METRICS
from mot_bench.reports import plots
from mot_bench.reports.format import delta_text, fmt_value
from mot_bench.reports.leaderboard import (
    STAGE_FPS_COLUMNS,
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


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def _column(key: str) -> dict[str, Any]:
    meta = METRICS.get(key)
    numeric = meta is not None or key.startswith("FPS") or key in ("frames", "sequences")
    hib = None if meta is None else meta.higher_is_better
    if key.startswith("FPS"):
        hib = True
    title = HELP.get(key) or (f"Frames per second of the {key[4:]} stage alone" if key.startswith("FPS_") else "")
    return {"key": key, "title": header(key), "numeric": numeric, "help": title,
            "default_desc": numeric and hib is not False}


def _rows(df, columns: Sequence[str]) -> list[list[dict[str, Any]]]:
    rows = []
    for _, r in df.iterrows():
        cells = []
        for c in columns:
            v = r[c]
            num = isinstance(v, (int, float)) and v == v  # not NaN
            cells.append({"text": display_cell(c, v), "sort": repr(float(v)) if num else str(v)})
        rows.append(cells)
    return rows


def write_report(runs: Sequence[RunSummary], out: Path, sort_by: str = "HOTA",
                 comparison: dict[str, Any] | None = None, figures: bool = True,
                 tuning: str | None = None, ablation: str | None = None) -> dict[str, str]:
    """Write every report file for ``runs`` into ``out``; return {kind: path}. ``figures=False`` skips
    the plots (a second or more of matplotlib) and leaves the HTML with tables only. ``tuning``: the
    tuning section's HTML (``mot_bench.reports.tuning.tuning_section``) for a study's report; ``ablation``:
    the seed section of an ablation (``mot_bench.reports.ablation.seeds_section``)."""
    sort_by = resolve_metric(sort_by)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    board = leaderboard_frame(runs, sort_by)
    per_seq = per_sequence_frame(runs)
    files = {
        "leaderboard_csv": out / "leaderboard.csv",
        "leaderboard_md": out / "leaderboard.md",
        "per_sequence_csv": out / "leaderboard_per_sequence.csv",
        "html": out / "index.html",
    }
    atomic_write_text(files["leaderboard_csv"], board.to_csv(index=False))
    atomic_write_text(files["per_sequence_csv"], per_seq.to_csv(index=False))
    atomic_write_text(files["leaderboard_md"], leaderboard_markdown(board, per_seq, sort_by))
    atomic_write_text(files["html"], render_html(runs, board, per_seq, sort_by, comparison, figures,
                                                       tuning, ablation))
    return {k: str(v) for k, v in files.items()}


def render_html(runs: Sequence[RunSummary], board, per_seq, sort_by: str,
                comparison: dict[str, Any] | None = None, figures: bool = True, tuning: str | None = None,
                ablation: str | None = None) -> str:
    ordered = {r.label: r for r in runs}
    runs_sorted = [ordered[label] for label in board["label"]]
    stage_cols = [c for c in STAGE_FPS_COLUMNS if board[c].notna().any()]
    cols = ["label", "detector", "tracker", *(["options"] if board["options"].astype(bool).any() else []),
            "benchmark", "split", *LEADERBOARD_METRICS, "FPS", *stage_cols, "hardware"]
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
              "dir": row["metrics"][m]["direction"]} for m in comparison["metrics"]]
            for row in comparison["rows"]
        ]
    return _env().get_template("report.html.j2").render(
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
        ablation=ablation,
    )
