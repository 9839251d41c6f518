"""Run folders -> leaderboards (CSV, Markdown, self-contained HTML), ablation comparisons, CI regression checks.

The writers (matplotlib, pandas) load on first use, so ``mot-bench check --help`` stays instant.
"""

from importlib import import_module
from typing import Any

from mot_bench.reports.runs import ReportError, RunSummary, load_run, load_runs

_LAZY = {"write_comparison": "mot_bench.reports.compare", "write_report": "mot_bench.reports.report"}

__all__ = ["ReportError", "RunSummary", "load_run", "load_runs", "write_comparison", "write_report"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mot_bench.reports' has no attribute {name!r}")
