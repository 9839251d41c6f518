"""Ablation comparisons: every variant against one base run, as deltas coloured by direction.

``mot-bench ablate`` calls :func:`write_comparison` with the axis values of each variant; ``mot-bench
report --base`` calls it with the options that differ from the base as the axes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from mot_bench.atomic import atomic_write_text
from mot_bench.metrics.bootstrap import HEADLINE, Settings
from mot_bench.metrics.fields import COMPARE as COMPARE_METRICS
from mot_bench.reports.explain import INTERVAL_METRICS, RunEvents, all_run_events, intervals, settings_text
from mot_bench.reports.format import better, delta_text, fmt_value, header, interval_text
from mot_bench.reports.report import write_report
from mot_bench.reports.runs import ReportError, RunSummary, load_runs


def _value(run: RunSummary, metric: str) -> float | None:
    return run.fps if metric == "FPS" else run.combined.get(metric)


def differing_axes(base: RunSummary, variants: Sequence[RunSummary]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The settings that differ from the base: detector/tracker names, device, precision, and the options
    both runs have (options of another tracker are implied by its name). Returns (base values, per variant)."""
    def flat(run: RunSummary) -> dict[str, Any]:
        return {"detector": run.detector, "tracker": run.tracker, "device": run.config.get("device"),
                "precision": run.config.get("precision"), **run.options()}

    ref = flat(base)
    flats = [flat(v) for v in variants]
    keys = [k for k in ref if any(k in f and repr(f[k]) != repr(ref[k]) for f in flats)]
    return {k: ref[k] for k in keys}, [{k: f.get(k, "") for k in keys} for f in flats]


def comparison_table(base: RunSummary, variants: Sequence[tuple[RunSummary, dict[str, Any]]],
                     base_axes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Rows of values and deltas vs ``base``; ``direction`` is +1 better, -1 worse, 0 same/neutral."""
    axes = list(dict.fromkeys(k for _, ax in variants for k in ax))
    base_axes = {k: (base_axes or {}).get(k, "(base)") for k in axes}
    rows = []
    for run, ax in [(base, base_axes), *variants]:
        cells = {}
        for m in COMPARE_METRICS:
            value, ref = _value(run, m), _value(base, m)
            delta = None if run is base or value is None or ref is None else value - ref
            cells[m] = {
                "value": value,
                "delta": delta,
                "relative": delta / ref if delta is not None and ref else None,
                "direction": better(m, delta) if delta is not None else 0,
            }
        rows.append({"label": run.label, "run": str(run.path), "base": run is base,
                     "axes": {k: ax.get(k, "") for k in axes}, "metrics": cells})
    return {"base": str(base.path), "base_label": base.label, "axes": axes, "metrics": list(COMPARE_METRICS),
            "rows": rows}


def add_intervals(table: dict[str, Any], events: Sequence[RunEvents], settings: Settings) -> None:
    """Paired bootstrap intervals of every variant minus the base (``events[0]`` is the base's), combined and
    per sequence, into the table's rows (``intervals``, ``sequence_intervals``); why not, in ``notes``."""
    table["bootstrap"] = {**asdict(settings), "text": settings_text(settings)}
    table["notes"] = [e.note for e in events if e.note]
    for row, ev in zip(table["rows"][1:], events[1:], strict=True):
        found = intervals(events[0], ev, settings, INTERVAL_METRICS, per_sequence=True)
        if found is None:
            continue
        combined, per_seq = found
        row["intervals"] = {m: iv.to_dict() for m, iv in combined.items()}
        row["sequence_intervals"] = {s: {m: ivs[m].to_dict() for m in HEADLINE} for s, ivs in per_seq.items()}


def comparison_frame(table: dict[str, Any]) -> pd.DataFrame:
    """CSV form: label, run, one column per axis, then each metric and its delta (metrics.json units), and
    with intervals ``<M>_low`` / ``<M>_high`` of the bootstrapped difference."""
    records = []
    for row in table["rows"]:
        rec: dict[str, Any] = {"label": row["label"], "run": row["run"], **row["axes"]}
        for m in table["metrics"]:
            rec[m] = row["metrics"][m]["value"]
            rec[f"{m}_delta"] = row["metrics"][m]["delta"]
            if m in row.get("intervals", {}):
                rec[f"{m}_low"] = row["intervals"][m]["low"]
                rec[f"{m}_high"] = row["intervals"][m]["high"]
        records.append(rec)
    return pd.DataFrame(records)


def intervals_markdown(table: dict[str, Any]) -> str:
    """The "is it real?" table: each variant's difference to the base with its interval."""
    rows = [r for r in table["rows"] if r.get("intervals")]
    if not rows:
        return ""
    metrics = [m for m in INTERVAL_METRICS if m in rows[0]["intervals"]]
    lines = ["", f"## Is it real? Differences to {table['base_label']} with intervals", "",
             f"Each cell: variant minus base, points for ratios, with its {table['bootstrap']['text']}. "
             "✓/✗: the interval excludes zero (better/worse).", "",
             "| variant | " + " | ".join(header(m) for m in metrics) + " |",
             "|---|" + "---:|" * len(metrics)]
    for row in rows:
        cells = []
        for m in metrics:
            iv = row["intervals"][m]
            mark = ""
            if iv["low"] > 0 or iv["high"] < 0:
                mark = {1: " ✓", -1: " ✗", 0: ""}[better(m, iv["delta"])]
            cells.append(interval_text(m, iv["delta"], iv["low"], iv["high"]) + mark)
        lines.append(f"| {row['label']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def comparison_markdown(table: dict[str, Any]) -> str:
    marks = {1: " ✓", -1: " ✗", 0: ""}
    heads = ["variant", *table["axes"], *(header(m) for m in table["metrics"])]
    lines = [
        f"# Comparison against {table['base_label']}\n",
        f"Base run: `{table['base']}`. Each cell: value (change vs base); ✓ better, ✗ worse "
        "(lower is better for IDSW, FP, FN). Ratios in percent, changes in points; FPS change in percent.\n",
        "| " + " | ".join(heads) + " |",
        "|" + "|".join(["---"] * (1 + len(table["axes"])) + ["---:"] * len(table["metrics"])) + "|",
    ]
    for row in table["rows"]:
        cells = [row["label"] + (" (base)" if row["base"] else ""), *(str(row["axes"][a]) for a in table["axes"])]
        for m in table["metrics"]:
            c = row["metrics"][m]
            text = fmt_value(m, c["value"])
            if c["delta"] is not None:
                text += f" ({delta_text(m, c)}{marks[c['direction']]})"
            cells.append(text)
        lines.append("| " + " | ".join(x.replace("|", "\\|") for x in cells) + " |")
    return "\n".join(lines) + "\n" + intervals_markdown(table)


def write_comparison(base: Path, variants: list[tuple[Path, dict]], out: Path, sort_by: str = "HOTA",
                     figures: bool = True, explain: bool = True, data: str | Path | None = None,
                     bootstrap: Settings | None = None, base_axes: dict[str, Any] | None = None,
                     repeat_axis: str | None = None, train_dirs: dict[str, str | None] | None = None) -> dict:
    """Compare variant run folders to a base run folder; write comparison.csv/.md and the full HTML report.

    ``variants`` pairs each run folder with its axis values (e.g. ``{"head": "anchor_free"}``); pass
    empty dicts to use the options that differ from the base. ``base_axes``: the base run's own axis values
    (default "(base)"). Returns the comparison table as a dict, with ``files`` naming what was written.
    ``explain``: with the runs' scoring events (read, or computed from the gt under ``data`` or their
    config's), bootstrap intervals of each difference and the identities that changed. ``repeat_axis``
    (e.g. ``seed``): an axis of repetitions; the report then also groups the runs over it (mean and min-max
    per metric: :mod:`mot_bench.reports.ablation`, ``comparison_seeds.csv``), with the training curves and
    wall times of ``train_dirs`` (run folder -> training folder).
    """
    runs = load_runs([base, *(Path(v) for v, _ in variants)])
    base_run, var_runs = runs[0], runs[1:]
    axes = [dict(ax) for _, ax in variants]
    if not any(axes):
        base_axes, axes = differing_axes(base_run, var_runs)
    table = comparison_table(base_run, list(zip(var_runs, axes, strict=True)), base_axes)
    bootstrap = bootstrap or Settings()
    events = all_run_events(runs, data) if explain else None
    if events is not None:
        add_intervals(table, events, bootstrap)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    markdown = comparison_markdown(table)
    seeds_html = None
    if repeat_axis and repeat_axis in table["axes"]:
        from mot_bench.reports.ablation import write_seed_summary

        table["seeds"], seeds_md, seeds_html = write_seed_summary(table, out, train_dirs or {}, repeat_axis, figures)
        markdown = seeds_md + "\n" + markdown
    atomic_write_text(out / "comparison.csv", comparison_frame(table).to_csv(index=False))
    atomic_write_text(out / "comparison.md", markdown)
    files = write_report(runs, out, sort_by=sort_by, comparison=table, figures=figures, events=events,
                         explain=explain, bootstrap=bootstrap, ablation=seeds_html)
    table["files"] = {"comparison_csv": str(out / "comparison.csv"), "comparison_md": str(out / "comparison.md"),
                      **files}
    if seeds_html is not None:
        table["files"]["comparison_seeds_csv"] = str(out / "comparison_seeds.csv")
    return table


def read_manifest(path: Path) -> tuple[Path, list[tuple[Path, dict]]]:
    """Read an ablation manifest written by ``mot-bench ablate``; relative run paths are taken from its folder."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or "base" not in data or not isinstance(data.get("variants"), list):
        raise ReportError(f"{path}: expected an ablation manifest {{'base': RUN, 'variants': [{{'run': RUN, "
                          "'axes': {...}}]}")

    def resolve(p: str) -> Path:
        q = Path(p)
        return q if q.is_absolute() else Path(path).parent / q

    variants = []
    for i, v in enumerate(data["variants"]):
        if not isinstance(v, dict) or "run" not in v:
            raise ReportError(f"{path}: variants[{i}] needs a 'run' folder")
        variants.append((resolve(v["run"]), dict(v.get("axes") or {})))
    return resolve(data["base"]), variants
