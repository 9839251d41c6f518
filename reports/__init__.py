"""Run folders -> leaderboards (CSV, Markdown, self-contained HTML), ablation comparisons, CI regression checks."""

from reports.compare import write_comparison
from reports.report import write_report
from reports.runs import ReportError, RunSummary, load_run, load_runs

__all__ = ["ReportError", "RunSummary", "load_run", "load_runs", "write_comparison", "write_report"]
