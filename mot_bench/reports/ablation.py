"""Ablations repeated over seeds: each configuration's metrics as mean and spread over its seeds, with
training curves and wall times (``mot-bench ablate`` with a ``seed`` axis).

One training of a small network on a few hundred images moves HOTA by points from one seed to the next,
so a single run per configuration cannot separate two configurations; the spread shown is the minimum
and maximum over the seeds (with three seeds a 95 % interval would be wider than the data). Reads run
folders and the trainings' ``train_log.jsonl`` only.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mot_bench.reports.format import better, fmt_delta, fmt_value, header

SPREAD = "min-max over seeds"
# Loss curves drawn per group: the total, the re-ID term, and the detection term of either head.
CURVES = (("loss", "total loss"), ("id_loss", "re-ID loss"),
          (("hm_loss", "conf_loss"), "detection loss (hm / anchor conf)"))


def seed_groups(table: Mapping[str, Any], repeat_axis: str = "seed") -> dict[str, Any]:
    """Rows of a comparison table (``mot_bench.reports.compare.comparison_table``) grouped over ``repeat_axis``.

    Returns ``{"axes", "repeat_axis", "metrics", "groups"}``; each group: its axis values, ``seeds``, the
    labels and runs of its rows, and per metric ``mean``/``min``/``max``/``n`` plus ``delta`` (of the mean)
    and ``direction`` against the base group (the one holding the base run)."""
    axes = [a for a in table["axes"] if a != repeat_axis]
    groups: dict[tuple, dict[str, Any]] = {}
    for row in table["rows"]:
        key = tuple(json.dumps(row["axes"].get(a), sort_keys=True, default=str) for a in axes)
        g = groups.setdefault(key, {"axes": {a: row["axes"].get(a) for a in axes}, "rows": [], "base": False})
        g["rows"].append(row)
        g["base"] = g["base"] or bool(row["base"])
    out = []
    for g in groups.values():
        stats = {}
        for m in table["metrics"]:
            values = [r["metrics"][m]["value"] for r in g["rows"] if r["metrics"][m]["value"] is not None]
            stats[m] = {"mean": sum(values) / len(values), "min": min(values), "max": max(values), "n": len(values)} \
                if values else {"mean": None, "min": None, "max": None, "n": 0}
        out.append({"axes": g["axes"], "base": g["base"], "stats": stats,
                    "seeds": [r["axes"].get(repeat_axis) for r in g["rows"]],
                    "labels": [r["label"] for r in g["rows"]], "runs": [r["run"] for r in g["rows"]]})
    base = next((g for g in out if g["base"]), out[0] if out else None)
    for g in out:
        for m, s in g["stats"].items():
            ref = base["stats"][m]["mean"] if base is not None else None
            s["delta"] = None if g is base or s["mean"] is None or ref is None else s["mean"] - ref
            s["direction"] = better(m, s["delta"]) if s["delta"] is not None else 0
    return {"axes": axes, "repeat_axis": repeat_axis, "metrics": list(table["metrics"]), "groups": out}


def _cell(metric: str, s: Mapping[str, Any]) -> str:
    if s["mean"] is None:
        return "–"
    text = f"{fmt_value(metric, s['mean'])} ({fmt_value(metric, s['min'])}–{fmt_value(metric, s['max'])})"
    if metric == "FPS":
        text = f"{s['mean']:.1f} ({s['min']:.1f}–{s['max']:.1f})"
    return text


def _delta(metric: str, s: Mapping[str, Any]) -> str:
    """The change of a group's mean against the base group's, in display units (frames/s for FPS)."""
    return f"{s['delta']:+.1f}" if metric == "FPS" else fmt_delta(metric, s["delta"])


def _axis_text(v: Any) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}={v[k]}" for k in sorted(v)) or "default"
    return str(v)


def seeds_markdown(summary: Mapping[str, Any], walls: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """The seed table: mean (min–max) per metric and the change of the mean against the base group."""
    marks = {1: " ✓", -1: " ✗", 0: ""}
    heads = [*summary["axes"], "seeds", *(header(m) for m in summary["metrics"])]
    lines = [f"## Mean over {summary['repeat_axis']}s ({SPREAD})\n",
             "Each cell: mean (min–max) over the seeds; below it the change of the mean against the base "
             "configuration (✓ better, ✗ worse).\n",
             "| " + " | ".join(heads) + " |",
             "|" + "|".join(["---"] * (len(summary["axes"]) + 1) + ["---:"] * len(summary["metrics"])) + "|"]
    for g in summary["groups"]:
        cells = [_axis_text(g["axes"][a]) + (" (base)" if g["base"] and i == 0 else "")
                 for i, a in enumerate(summary["axes"])] or ["(base)" if g["base"] else ""]
        cells.append(",".join(str(s) for s in g["seeds"]))
        for m in summary["metrics"]:
            s = g["stats"][m]
            text = _cell(m, s)
            if s["delta"] is not None:
                text += f" {_delta(m, s)}{marks[s['direction']]}"
            cells.append(text)
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    if walls:
        lines += ["", "## Wall times", "",
                  "Training: sum of the epochs' wall seconds (data loading included, evaluation not), mean "
                  f"({SPREAD}); iterations and images/s of the last training of each group.\n",
                  "| " + " | ".join([*summary["axes"], "training s", "iterations", "images/s"]) + " |",
                  "|" + "|".join(["---"] * len(summary["axes"]) + ["---:"] * 3) + "|"]
        for g in summary["groups"]:
            w = walls.get(_group_key(g))
            if not w:
                continue
            cells = [_axis_text(g["axes"][a]) for a in summary["axes"]]
            cells += [f"{w['seconds_mean']:.0f} ({w['seconds_min']:.0f}–{w['seconds_max']:.0f})", str(w["iterations"]),
                      f"{w['images_per_s']:.2f}"]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def seeds_frame(summary: Mapping[str, Any]) -> pd.DataFrame:
    records = []
    for g in summary["groups"]:
        rec: dict[str, Any] = {a: _axis_text(g["axes"][a]) for a in summary["axes"]}
        rec["seeds"] = ",".join(str(s) for s in g["seeds"])
        rec["base"] = g["base"]
        for m in summary["metrics"]:
            s = g["stats"][m]
            rec.update({f"{m}_mean": s["mean"], f"{m}_min": s["min"], f"{m}_max": s["max"], f"{m}_delta": s["delta"]})
        records.append(rec)
    return pd.DataFrame(records)


def _group_key(g: Mapping[str, Any]) -> str:
    return json.dumps(g["axes"], sort_keys=True, default=str)


def read_train_log(train_dir: str | Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(iteration records, epoch records) of a training's ``train_log.jsonl`` (empty when there is none)."""
    path = Path(train_dir) / "train_log.jsonl"
    iters: list[dict[str, Any]] = []
    epochs: list[dict[str, Any]] = []
    if not path.is_file():
        return iters, epochs
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        rec = json.loads(line)
        (epochs if rec.get("type") == "epoch" else iters).append(rec)
    # a resumed training logs the epochs it redid again: keep the last record of each (epoch, iter)
    iters = list({(r["epoch"], r.get("iter")): r for r in iters}.values())
    epochs = list({r["epoch"]: r for r in epochs}.values())
    return iters, epochs


def wall_times(summary: Mapping[str, Any], train_dirs: Mapping[str, str | None]) -> dict[str, dict[str, Any]]:
    """Per group: training wall seconds (mean, min, max over seeds), iterations and images/s."""
    out = {}
    for g in summary["groups"]:
        secs, iters, ips = [], 0, 0.0
        for run in g["runs"]:
            tdir = train_dirs.get(run)
            if not tdir:
                continue
            _, epochs = read_train_log(tdir)
            if epochs:
                secs.append(sum(e["seconds"] for e in epochs))
                iters = sum(e["iters"] for e in epochs)
                ips = sum(e["images"] for e in epochs) / max(secs[-1], 1e-9)
        if secs:
            out[_group_key(g)] = {"seconds_mean": sum(secs) / len(secs), "seconds_min": min(secs),
                                  "seconds_max": max(secs), "iterations": iters, "images_per_s": ips}
    return out


def curves_svg(summary: Mapping[str, Any], train_dirs: Mapping[str, str | None], window: int = 20) -> str | None:
    """Training curves: one panel per loss term, one colour per group, one line per seed (moving mean)."""
    import numpy as np

    from mot_bench.reports import plots

    series = []
    for gi, g in enumerate(summary["groups"]):
        name = ", ".join(_axis_text(g["axes"][a]) for a in summary["axes"]) or "base"
        for run in g["runs"]:
            tdir = train_dirs.get(run)
            if tdir:
                iters, _ = read_train_log(tdir)
                if iters:
                    series.append((gi, name, iters))
    if not series:
        return None
    plt = plots.plt
    with plt.rc_context(plots._STYLE):
        fig, axs = plt.subplots(1, len(CURVES), figsize=(4.2 * len(CURVES), 3.2))
        for ax, (keys, title) in zip(axs, CURVES, strict=True):
            keys = (keys,) if isinstance(keys, str) else keys
            labelled = set()
            for gi, name, iters in series:
                key = next((k for k in keys if k in iters[0]), None)
                if key is None:
                    continue
                y = np.array([r[key] for r in iters], dtype=float)
                k = max(1, min(window, len(y)))
                smooth = np.convolve(y, np.ones(k) / k, mode="valid")
                ax.plot(np.arange(len(smooth)) + k - 1, smooth, color=plots.colour(gi), lw=1,
                        label=None if gi in labelled else name)
                labelled.add(gi)
            ax.set_title(title)
            ax.set_xlabel("iteration")
        axs[0].legend(fontsize=7, frameon=False)
        fig.tight_layout()
        return plots._svg(fig)


def seeds_section(summary: Mapping[str, Any], walls: Mapping[str, Mapping[str, Any]],
                  curves: str | None) -> str:  # fmt: skip
    """The HTML section of the seed table, the curves and the wall times (placed in the report)."""
    e = html.escape
    head = "".join(f"<th>{e(a)}</th>" for a in summary["axes"]) + "<th>seeds</th>" + "".join(
        f'<th class="num">{e(header(m))}</th>' for m in summary["metrics"])
    rows = []
    for g in summary["groups"]:
        cells = "".join(f"<td>{e(_axis_text(g['axes'][a]))}{' (base)' if g['base'] and i == 0 else ''}</td>"
                        for i, a in enumerate(summary["axes"]))
        cells += f"<td>{e(','.join(str(s) for s in g['seeds']))}</td>"
        for m in summary["metrics"]:
            s = g["stats"][m]
            cls = {1: " better", -1: " worse", 0: ""}[s["direction"]]
            delta = "" if s["delta"] is None else f'<br><span class="delta">({e(_delta(m, s))})</span>'
            cells += f'<td class="num{cls}">{e(_cell(m, s))}{delta}</td>'
        rows.append(f"<tr>{cells}</tr>")
    wall_rows = []
    for g in summary["groups"]:
        w = walls.get(_group_key(g))
        if w:
            axes = "".join(f"<td>{e(_axis_text(g['axes'][a]))}</td>" for a in summary["axes"])
            wall_rows.append(f"<tr>{axes}<td class=\"num\">{w['seconds_mean']:.0f} ({w['seconds_min']:.0f}–"
                             f"{w['seconds_max']:.0f})</td><td class=\"num\">{w['iterations']}</td>"
                             f"<td class=\"num\">{w['images_per_s']:.2f}</td></tr>")
    parts = [f'<section id="seeds"><h2>Mean over {e(summary["repeat_axis"])}s ({SPREAD})</h2>',
             "<p>Each cell: mean (min–max) over the seeds; below it the change of the mean against the base "
             "configuration.</p>",
             f'<table id="seeds-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>']
    if curves:
        parts.append("<h3>Training curves</h3><p>Moving mean over 20 iterations; one line per seed.</p>"
                     f'<figure id="fig-train-curves">{curves}</figure>')
    if wall_rows:
        axes_head = "".join(f"<th>{e(a)}</th>" for a in summary["axes"])
        parts.append(f'<h3>Wall times</h3><table id="walltime-table"><thead><tr>{axes_head}<th class="num">training s'
                     f'</th><th class="num">iterations</th><th class="num">images/s</th></tr></thead><tbody>'
                     f'{"".join(wall_rows)}</tbody></table>')
    parts.append("</section>")
    return "\n".join(parts)


def write_seed_summary(table: Mapping[str, Any], out: Path, train_dirs: Mapping[str, str | None],
                       repeat_axis: str = "seed", figures: bool = True) -> tuple[dict[str, Any], str, str]:
    """Group ``table`` over seeds; write ``comparison_seeds.csv``; return (summary, Markdown, HTML section)."""
    from mot_bench.atomic import atomic_write_text

    summary = seed_groups(table, repeat_axis)
    walls = wall_times(summary, train_dirs)
    atomic_write_text(Path(out) / "comparison_seeds.csv", seeds_frame(summary).to_csv(index=False))
    curves = curves_svg(summary, train_dirs) if figures else None
    return summary, seeds_markdown(summary, walls), seeds_section(summary, walls, curves)


__all__: Sequence[str] = ("SPREAD", "seed_groups", "seeds_markdown", "write_seed_summary")
