"""The tuning section of the HTML report: a study folder (``mot-bench tune``) -> figures and tables.

Reads ``study.json`` and ``trials.csv`` only (nothing re-run, no Optuna needed). Figures are small
hand-written SVGs, so the page stays self-contained and offline; every point and line carries a
``<title>`` (hover: the trial, its parameters and scores) and the parallel-coordinates lines highlight on
hover. Figures: optimisation history (each objective, with the running best), parameter importance,
parallel coordinates, and the Pareto front when there are two or more objectives.

``write_tuning_report(study_dir)`` writes ``<study_dir>/report/index.html``: the confirmation run folders'
leaderboard (``mot_bench.reports.report``) with this section added.
"""

from __future__ import annotations

import csv
import html
import json
from pathlib import Path
from typing import Any

from mot_bench.metrics.fields import METRIC_FIELDS

COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7")
W, H, PAD = 560, 260, 44


def load_study(study_dir: str | Path) -> tuple[dict[str, Any], list[dict[str, str]]]:
    study_dir = Path(study_dir)
    summary = json.loads((study_dir / "study.json").read_text(encoding="utf-8"))
    with open(study_dir / "trials.csv", encoding="utf-8", newline="") as fh:
        trials = list(csv.DictReader(fh))
    return summary, trials


def _num(v: str) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _show(metric: str, v: float) -> str:
    f = METRIC_FIELDS.get(metric)
    return f"{100 * v:.2f}" if f is not None and f.percent else f"{v:g}"


def _scale(lo: float, hi: float, a: float, b: float):
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _tip(t: dict[str, str], params: list[str], objectives: list[str]) -> str:
    bits = [f"trial {t['trial']}"] + [f"{o} {_show(o, float(t[o]))}" for o in objectives if _num(t.get(o))
                                      is not None]
    bits += [f"{p}={t[p]}" for p in params]
    return html.escape(" | ".join(bits))


def _svg(body: str, w: int = W, h: int = H, label: str = "") -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
            f'role="img" aria-label="{html.escape(label)}" class="tune-fig" font-size="10" '
            f'font-family="system-ui, sans-serif">{body}</svg>')


def _axes(x0, y0, x1, y1, ylo, yhi, ylab: str, xlab: str, metric: str | None = None) -> str:
    out = [f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="#888"/>',
           f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="#888"/>']
    for frac in (0, 0.5, 1):
        v = ylo + frac * (yhi - ylo)
        y = y1 - frac * (y1 - y0)
        text = _show(metric, v) if metric else f"{v:.3g}"
        out.append(f'<text x="{x0 - 4}" y="{y + 3:.1f}" text-anchor="end" fill="#555">{text}</text>')
    out.append(f'<text x="{(x0 + x1) / 2}" y="{y1 + 28}" text-anchor="middle" fill="#333">{html.escape(xlab)}</text>')
    out.append(f'<text x="12" y="{(y0 + y1) / 2}" transform="rotate(-90 12 {(y0 + y1) / 2})" text-anchor="middle" '
               f'fill="#333">{html.escape(ylab)}</text>')
    return "".join(out)


def history_svg(trials: list[dict[str, str]], objective: dict[str, str], params: list[str],
                objectives: list[str]) -> str:
    name, maximize = objective["name"], objective["direction"] == "maximize"
    pts = [(int(t["trial"]), float(t[name]), t) for t in trials if t["state"] == "COMPLETE" and _num(t.get(name))
           is not None]
    if not pts:
        return ""
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    sx = _scale(min(xs), max(xs), PAD + 10, W - 12)
    sy = _scale(min(ys), max(ys), H - PAD, 12)
    body = [_axes(PAD + 10, 12, W - 12, H - PAD, min(ys), max(ys), METRIC_FIELDS[name].title, "trial", name)]
    best, path = None, []
    for x, y, _ in sorted(pts):
        best = y if best is None else (max(best, y) if maximize else min(best, y))
        path.append(f"{sx(x):.1f},{sy(best):.1f}")
    body.append(f'<polyline points="{" ".join(path)}" fill="none" stroke="{COLOURS[3]}" stroke-width="1.5">'
                f'<title>running best</title></polyline>')
    for x, y, t in pts:
        colour = COLOURS[1] if t.get("defaults") == "1" else COLOURS[0]
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}" fill-opacity="0.75">'
                    f'<title>{_tip(t, params, objectives)}</title></circle>')
    return _svg("".join(body), label=f"optimisation history of {name}")


def importance_svg(imp: dict[str, float]) -> str:
    if not imp:
        return ""
    items = sorted(imp.items(), key=lambda kv: -kv[1])
    h = 24 + 22 * len(items)
    sx = _scale(0, max(v for _, v in items) or 1.0, 150, W - 60)
    body = []
    for i, (k, v) in enumerate(items):
        y = 12 + 22 * i
        body.append(f'<text x="144" y="{y + 12}" text-anchor="end">{html.escape(k)}</text>'
                    f'<rect x="150" y="{y}" width="{max(1.0, sx(v) - 150):.1f}" height="16" fill="{COLOURS[0]}">'
                    f'<title>{html.escape(k)}: {v:.3f}</title></rect>'
                    f'<text x="{sx(v) + 4:.1f}" y="{y + 12}" fill="#333">{v:.2f}</text>')
    return _svg("".join(body), h=h, label="parameter importance")


def parallel_svg(trials: list[dict[str, str]], params: list[str], objective: dict[str, str],
                 objectives: list[str]) -> str:
    done = [t for t in trials if t["state"] == "COMPLETE"]
    axes = [*params, objective["name"]]
    cols = {}
    for a in axes:
        vals = [_num(t.get(a)) for t in done]
        if any(v is None for v in vals) or not vals:
            return ""
        cols[a] = vals
    w = max(W, 110 * len(axes))
    xs = [60 + i * (w - 120) / max(1, len(axes) - 1) for i in range(len(axes))]
    scales = {a: _scale(min(v), max(v), H - 30, 20) for a, v in cols.items()}
    score = cols[objective["name"]]
    lo, hi = min(score), max(score)
    body = []
    order = sorted(range(len(done)), key=lambda i: score[i] if objective["direction"] == "maximize" else -score[i])
    for i in order:  # best drawn last (on top)
        frac = (score[i] - lo) / ((hi - lo) or 1.0)
        if objective["direction"] != "maximize":
            frac = 1 - frac
        pts = " ".join(f"{x:.1f},{scales[a](cols[a][i]):.1f}" for x, a in zip(xs, axes, strict=True))
        colour = COLOURS[0] if frac > 0.8 else ("#9bb4c8" if frac > 0.4 else "#d5dbe1")
        body.append(f'<polyline class="pc" points="{pts}" fill="none" stroke="{colour}" stroke-width="1.2">'
                    f'<title>{_tip(done[i], params, objectives)}</title></polyline>')
    for x, a in zip(xs, axes, strict=True):
        v = cols[a]
        body.append(f'<line x1="{x:.1f}" y1="20" x2="{x:.1f}" y2="{H - 30}" stroke="#444"/>'
                    f'<text x="{x:.1f}" y="{H - 12}" text-anchor="middle">{html.escape(a)}</text>'
                    f'<text x="{x + 3:.1f}" y="18" fill="#555">{_show(a, max(v))}</text>'
                    f'<text x="{x + 3:.1f}" y="{H - 24}" fill="#555">{_show(a, min(v))}</text>')
    style = "<style>.pc:hover{stroke:#D55E00;stroke-width:3}</style>"
    return _svg(style + "".join(body), w=int(w), label="parallel coordinates")


def pareto_svg(trials: list[dict[str, str]], objectives: list[dict[str, str]], pareto: list[int],
               params: list[str]) -> str:
    if len(objectives) < 2:
        return ""
    a, b = objectives[0]["name"], objectives[1]["name"]
    done = [t for t in trials if t["state"] == "COMPLETE"]
    xs, ys = [float(t[a]) for t in done], [float(t[b]) for t in done]
    sx = _scale(min(xs), max(xs), PAD + 10, W - 12)
    sy = _scale(min(ys), max(ys), H - PAD, 12)
    body = [_axes(PAD + 10, 12, W - 12, H - PAD, min(ys), max(ys), METRIC_FIELDS[b].title, METRIC_FIELDS[a].title,
                  b)]
    names = [o["name"] for o in objectives]
    front = set(pareto)
    for t, x, y in zip(done, xs, ys, strict=True):
        on = int(t["trial"]) in front
        body.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="{4 if on else 2.5}" '
                    f'fill="{COLOURS[3] if on else COLOURS[0]}" fill-opacity="{1 if on else 0.5}">'
                    f'<title>{"Pareto | " if on else ""}{_tip(t, params, names)}</title></circle>')
    return _svg("".join(body), label="Pareto front")


def tuning_section(study_dir: str | Path) -> str:
    """The HTML fragment (an ``<section id="tuning">``) for one study folder."""
    s, trials = load_study(study_dir)
    params = list(s["space"])
    objectives = s["objectives"]
    names = [o["name"] for o in objectives]
    parts = [f'<section id="tuning"><h2>Tuning: {html.escape(s["tracker"])} ({html.escape(s["study"])})</h2>',
             f'<p class="note">{html.escape(s["protocol"])}. Sampler {html.escape(s["sampler"])}, seed {s["seed"]}; '
             f'{s["trials_complete"]} complete trial(s) of {s["trials_total"]}; objectives '
             f'{", ".join(html.escape(o["name"] + " (" + o["direction"] + ")") for o in objectives)}. '
             'Hover a point or line for its trial and parameters.</p>']
    conf = s.get("confirm") or {}
    if conf:
        cols = list(dict.fromkeys([*names, "HOTA", "MOTA", "IDF1", "IDSW"]))
        head = "".join(f"<th class=num>{p}: {METRIC_FIELDS[c].title}</th>" for p in ("tune", "report") for c in cols
                       if any(p in e for e in conf.values()))
        rows = []
        for label, e in conf.items():
            cells = "".join(f"<td class=num>{_show(c, e[p]['metrics'][c])}</td>" for p in ("tune", "report")
                            for c in cols if p in e)
            opts = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in e["options"].items())
            rows.append(f"<tr><td class=label>{html.escape(label)}</td><td class=num>{e['trial']}</td>{cells}"
                        f"<td class=opts>{html.escape(opts)}</td></tr>")
        parts.append('<h3>Default vs tuned (re-run by <code>mot-bench run</code>, scored with TrackEval)</h3>'
                     '<p class="note"><em>tune</em>: the sequences searched on; <em>report</em>: held out.</p>'
                     f'<div class="scroll"><table id="tuning-table"><thead><tr><th>configuration</th>'
                     f'<th class=num>trial</th>{head}<th>options</th></tr></thead><tbody>{"".join(rows)}'
                     '</tbody></table></div>')
    figs = []
    for o in objectives:
        figs.append((f"Optimisation history of {o['name']} (orange: the defaults, trial 0; line: running best)",
                     history_svg(trials, o, params, names)))
    for o, imp in (s.get("importance") or {}).items():
        figs.append((f"Parameter importance for {o} (PED-ANOVA)", importance_svg(imp)))
    figs.append((f"Parallel coordinates: every complete trial, coloured by {objectives[0]['name']} (dark: best)",
                 parallel_svg(trials, params, objectives[0], names)))
    if len(objectives) > 1:
        figs.append((f"Pareto front of {names[0]} and {names[1]} (red: non-dominated trials)",
                     pareto_svg(trials, objectives, s.get("pareto", []), params)))
    for caption, svg in figs:
        if svg:
            parts.append(f'<figure class="tune">{svg}<figcaption>{html.escape(caption)}</figcaption></figure>')
    t = s.get("timing", {})
    if t.get("trials_per_s"):
        parts.append(f'<p class="note">{t["trials_per_s"]:.2f} trials/s; per trial {t["track_s_mean"]:.2f} s '
                     f'tracking, {t["score_s_mean"]:.2f} s scoring, {t["overhead_s_mean"]:.2f} s overhead '
                     f'({html.escape(s["executor"])} x{s["workers"]}).</p>')
    parts.append("</section>")
    return "\n".join(parts)


def write_tuning_report(study_dir: str | Path, figures: bool = True) -> dict[str, str]:
    """``<study_dir>/report/``: the confirmation runs' leaderboard and report with the tuning section."""
    from mot_bench.reports.report import write_report
    from mot_bench.reports.runs import load_runs

    study_dir = Path(study_dir)
    section = tuning_section(study_dir)
    runs = sorted(p for p in (study_dir / "confirm").glob("*") if (p / "metrics.json").is_file())
    out = study_dir / "report"
    if runs:
        return write_report(load_runs(runs), out, figures=figures, tuning=section)
    from mot_bench.atomic import atomic_write_text

    out.mkdir(parents=True, exist_ok=True)
    page = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>mot-bench tuning</title></head>"
            f"<body>{section}</body></html>")
    atomic_write_text(out / "index.html", page)
    return {"html": str(out / "index.html")}
