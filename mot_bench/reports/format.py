"""How metric values and changes read in every report (leaderboard, comparison, check, HTML).

Directions and kinds come from the one metric-field table, :mod:`mot_bench.metrics.fields`.
"""

from __future__ import annotations

from typing import Any

from mot_bench.metrics.fields import METRIC_FIELDS


def better(metric: str, delta: float) -> int:
    """+1 when a change of ``delta`` in ``metric`` is an improvement, -1 when worse, 0 when neutral."""
    meta = METRIC_FIELDS.get(metric)
    if meta is None or meta.higher_is_better is None or delta == 0:
        return 0
    return 1 if (delta > 0) == meta.higher_is_better else -1


def is_percent(metric: str) -> bool:
    meta = METRIC_FIELDS.get(metric)
    return meta is not None and meta.percent


def fmt_value(metric: str, value: Any) -> str:
    """Human form: ratios as percentages (MOTChallenge convention), counts as integers."""
    if value is None:
        return "–"
    if is_percent(metric):
        return f"{100 * value:.1f}"
    if metric == "FPS" or metric.startswith("FPS"):
        return f"{value:.1f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.2f}"
    return f"{int(value)}"


def fmt_delta(metric: str, delta: float | None) -> str:
    """A signed change in display units (points for ratios)."""
    if delta is None:
        return "–"
    if is_percent(metric):
        return f"{100 * delta:+.2f}"
    if isinstance(delta, float) and not delta.is_integer():
        return f"{delta:+.2f}"
    return f"{int(delta):+d}"


def delta_text(metric: str, cell: dict[str, Any]) -> str:
    """Display form of a change: points for ratios, counts for counts, percent for FPS."""
    if cell["delta"] is None:
        return ""
    if metric == "FPS":
        return f"{100 * cell['relative']:+.1f}%" if cell["relative"] is not None else ""
    return fmt_delta(metric, cell["delta"])


def interval_text(metric: str, delta: float, low: float, high: float) -> str:
    """A difference with its interval, ``+0.62 [-0.21, +1.40]``, in display units (points for ratios,
    whole numbers for counts: a percentile of integer replicates can fall between two)."""
    meta = METRIC_FIELDS.get(metric)
    if meta is not None and meta.kind == "count":
        delta, low, high = round(delta), round(low), round(high)
    return f"{fmt_delta(metric, delta)} [{fmt_delta(metric, low)}, {fmt_delta(metric, high)}]"


def title(metric: str) -> str:
    """The field's display title (``FP`` for ``CLR_FP``); unknown names as they are."""
    meta = METRIC_FIELDS.get(metric)
    return metric if meta is None else meta.title


def header(column: str) -> str:
    """A table header: the title, with ``%`` for ratios; ``FPS <stage>`` for stage FPS columns."""
    meta = METRIC_FIELDS.get(column)
    if meta is not None:
        return f"{meta.title} %" if meta.percent else meta.title
    if column.startswith("FPS_"):
        return f"FPS {column[4:]}"
    if column == "vs_best":
        return "vs best"
    return column
