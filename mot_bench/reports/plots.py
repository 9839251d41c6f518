"""Report figures as inline SVG strings (matplotlib, Agg backend), in a colour-blind safe palette.

Each SVG gets its own id prefix so that several can live in one HTML page without their ids
(clip paths) colliding.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mot_bench.metrics.fields import ALPHA_CURVES  # noqa: E402
from mot_bench.reports.runs import RunSummary  # noqa: E402
from mot_bench.timing import STAGES  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
STAGE_COLOURS = dict(zip(STAGES, ("#56B4E9", "#E69F00", "#0072B2", "#009E73", "#F0E442", "#CC79A7", "#D55E00"),
                         strict=True))

_STYLE = {
    "svg.fonttype": "none",  # keep text as text: smaller, selectable, styled by the page font
    "svg.hashsalt": "mot-bench",  # deterministic ids
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
}
_counter = itertools.count()
MAX_POINTS = 1500


def colour(i: int) -> str:
    return OKABE_ITO[i % len(OKABE_ITO)]


def _svg(fig: plt.Figure) -> str:
    """Serialise a figure as an inline <svg> element with unique ids and a responsive size."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    prefix = f"f{next(_counter)}-"
    text = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return text.replace("<svg ", '<svg class="figure" role="img" ', 1)


def hota_vs_fps(runs: Sequence[RunSummary]) -> str:
    """Accuracy against speed, one labelled point per run: the trade-off at a glance."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(5.4, 3.6), layout="constrained")
        fps = [r.fps for r in runs]
        for i, run in enumerate(runs):
            hota = run.combined.get("HOTA")
            if run.fps is None or hota is None:
                continue
            ax.scatter(run.fps, 100 * hota, s=70, color=colour(i), marker=MARKERS[i % len(MARKERS)],
                       label=run.label, zorder=3, edgecolor="white", linewidth=0.8)
        known = [f for f in fps if f]
        if known and max(known) / max(min(known), 1e-9) > 20:
            ax.set_xscale("log")
        ax.margins(0.15)
        if known:  # a legend, not annotations: labels of nearby points would overlap
            fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=min(len(runs), 3),
                       frameon=False)
        ax.set_xlabel("FPS, whole pipeline (higher is faster)")
        ax.set_ylabel("HOTA %")
        ax.set_title("Accuracy vs speed")
        return _svg(fig)


def per_sequence_bars(runs: Sequence[RunSummary], metrics: Sequence[str] = ("HOTA", "MOTA", "IDF1")) -> str:
    """Grouped bars: for each metric, every sequence, one bar per run."""
    seqs = sorted(set().union(*(r.sequences for r in runs)))
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 0.8, 0.35 * len(seqs) + 1.8),
                                 layout="constrained", sharey=True, squeeze=False)
        height = 0.8 / max(len(runs), 1)
        y = np.arange(len(seqs))
        for ax, metric in zip(axes[0], metrics, strict=True):
            for i, run in enumerate(runs):
                vals = [100 * run.per_sequence.get(s, {}).get(metric, np.nan) for s in seqs]
                ax.barh(y - 0.4 + height * (i + 0.5), vals, height=height, color=colour(i), label=run.label)
            ax.set_title(f"{metric} %")
            ax.axvline(0, color="#444", linewidth=0.6)
            ax.grid(axis="y", visible=False)
        axes[0][0].set_yticks(y, seqs)
        axes[0][0].invert_yaxis()
        if len(runs) > 1:
            fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center",
                       ncol=min(len(runs), 4), frameon=False)
        return _svg(fig)


def stage_timing(runs: Sequence[RunSummary]) -> str:
    """Stacked mean milliseconds per frame per stage: where the time goes, run by run."""
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(5.4, 0.45 * len(runs) + 1.6), layout="constrained")
        y = np.arange(len(runs))
        left = np.zeros(len(runs))
        for stage in STAGES:
            ms = np.array([r.stage_ms().get(stage, 0.0) for r in runs])
            if not ms.any():
                continue
            ax.barh(y, ms, left=left, color=STAGE_COLOURS[stage], label=stage, height=0.6,
                    edgecolor="white", linewidth=0.5)
            left += ms
        ax.set_yticks(y, [r.label for r in runs])
        ax.invert_yaxis()
        ax.grid(axis="y", visible=False)
        ax.set_xlabel("mean ms per frame (warm-up excluded)")
        ax.set_title("Where the time goes")
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=len(STAGES), frameon=False)
        return _svg(fig)


def alpha_curves(runs: Sequence[RunSummary]) -> str:
    """HOTA, DetA and AssA over the localisation threshold alpha (combined over sequences)."""
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(1, len(ALPHA_CURVES), figsize=(9.6, 3.0), layout="constrained", sharey=True)
        for ax, metric in zip(axes, ALPHA_CURVES, strict=True):
            for i, run in enumerate(runs):
                values = run.combined.get(f"{metric}_alpha")
                alphas = run.combined.get("alphas") or list(np.linspace(0.05, 0.95, 19))
                if not values:
                    continue
                ax.plot(alphas, 100 * np.asarray(values, float), color=colour(i), marker=MARKERS[i % len(MARKERS)],
                        markersize=3, linewidth=1.4, label=run.label)
            ax.set_title(f"{metric} over α")
            ax.set_xlabel("α (localisation threshold)")
        axes[0].set_ylabel("%")
        if len(runs) > 1:
            fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
                       ncol=min(len(runs), 4), frameon=False)
        return _svg(fig)


def frame_timing(run: RunSummary) -> str:
    """Per-frame stage times over the run, sequences back to back; warm-up frames shaded."""
    rows: list[dict[str, float]] = []
    bounds: list[tuple[int, str]] = []
    for seq in sorted(run.timing.get("per_sequence", {})):
        bounds.append((len(rows), seq))
        rows.extend(run.frame_timing(seq))
    with plt.rc_context(_STYLE):
        fig, ax = plt.subplots(figsize=(9.6, 3.2), layout="constrained")
        if not rows:
            ax.text(0.5, 0.5, "no timing recorded", ha="center", va="center", transform=ax.transAxes)
            return _svg(fig)
        ms = {s: 1000 * np.array([r[s] for r in rows]) for s in STAGES}
        warm = np.array([bool(r["warmup"]) for r in rows])
        x = np.arange(len(rows))
        step = max(1, int(np.ceil(len(rows) / MAX_POINTS)))  # bin long runs so the SVG stays small
        if step > 1:
            n = len(rows) // step * step
            x = x[:n:step]
            ms = {s: v[:n].reshape(-1, step).mean(axis=1) for s, v in ms.items()}
            warm = warm[:n].reshape(-1, step).any(axis=1)
        used = [s for s in STAGES if ms[s].any()]
        ax.stackplot(x, *[ms[s] for s in used], labels=used, colors=[STAGE_COLOURS[s] for s in used],
                     linewidth=0, step="post" if step == 1 else None)
        for start, seq in bounds:
            ax.axvline(start, color="#444", linewidth=0.6, linestyle=":")
            ax.annotate(seq, (start, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                        textcoords="offset points", fontsize=7, color="#444")
        if warm.any():
            ax.fill_between(x, 0, 1, where=warm, transform=ax.get_xaxis_transform(), color="#999", alpha=0.25,
                            label="warm-up", step="post")
        ax.set_xlabel("frame (all sequences in order)" + (f", mean of {step} frames" if step > 1 else ""))
        ax.set_ylabel("ms")
        ax.set_title(f"Per-frame timing: {run.label}")
        ax.set_xlim(0, max(len(rows) - 1, 1))
        fig.legend(*ax.get_legend_handles_labels(), loc="outside right upper", frameon=False)
        return _svg(fig)
