"""One metric-field table (mot_bench.metrics.fields) read by reports, check, compare and the CLI tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from reports_helpers import make_run

from mot_bench.metrics import fields
from mot_bench.metrics.fields import METRIC_FIELDS


def test_reports_check_compare_and_cli_read_one_table() -> None:
    from mot_bench.reports import check, compare, leaderboard, plots, report

    assert leaderboard.LEADERBOARD_METRICS is fields.LEADERBOARD
    assert leaderboard.PER_SEQUENCE_METRICS is fields.PER_SEQUENCE
    assert report.PER_SEQUENCE_METRICS is fields.PER_SEQUENCE
    assert compare.COMPARE_METRICS is fields.COMPARE
    assert check.BASELINE_METRICS is fields.CHECKED
    assert plots.ALPHA_CURVES is fields.ALPHA_CURVES
    assert check.default_tolerances() == fields.default_tolerances()
    assert leaderboard.resolve_metric("fp") == "CLR_FP"
    # the defaults the baselines were written with
    assert fields.default_tolerances()["HOTA"] == {"abs": 0.005, "rel": 0.0}
    assert fields.default_tolerances()["IDSW"] == {"abs": 2.0, "rel": 0.02}
    assert fields.default_tolerances()["MT"] == {"abs": 1.0, "rel": 0.02}
    assert set(fields.CHECKED) == {"HOTA", "DetA", "AssA", "LocA", "MOTA", "MOTP", "IDF1", "IDSW", "Frag", "MT", "ML",
                                   "CLR_FP", "CLR_FN"}


def test_a_change_to_the_table_reaches_every_reader(monkeypatch, tmp_path: Path) -> None:
    """Flip IDSW's direction and kind in the one table: formatting, comparison and check all follow."""
    from mot_bench.reports.check import check_run, write_baseline
    from mot_bench.reports.compare import comparison_table
    from mot_bench.reports.format import better, fmt_value
    from mot_bench.reports.runs import load_run

    base = load_run(make_run(tmp_path / "a", "a", quality=0.0))
    worse = load_run(make_run(tmp_path / "b", "a", quality=-0.05))
    assert worse.combined["IDSW"] > base.combined["IDSW"]
    baseline = write_baseline([base], tmp_path / "baseline.json")
    assert better("IDSW", 1) == -1
    rows = {(r.scope, r.metric): r.status for r in check_run(worse, baseline, tmp_path / "b.json").rows}
    assert rows[("combined", "IDSW")] == "regressed"

    monkeypatch.setitem(METRIC_FIELDS, "IDSW", dataclasses.replace(METRIC_FIELDS["IDSW"], higher_is_better=True,
                                                                   kind="percent"))
    assert better("IDSW", 1) == 1
    assert fmt_value("IDSW", 0.5) == "50.0"
    rows = {(r.scope, r.metric): r.status for r in check_run(worse, baseline, tmp_path / "b.json").rows}
    assert rows[("combined", "IDSW")] == "improved"
    table = comparison_table(base, [(worse, {"v": 1})])
    assert table["rows"][1]["metrics"]["IDSW"]["direction"] == 1


def test_cli_tables_format_by_field_kind_not_python_type() -> None:
    """A count stored as a float (12.0) is a count, not a ratio to show x100."""
    from mot_bench.cli import metrics_table

    m = {"HOTA": 0.5, "IDSW": 12.0, "CLR_FP": 3, "MT": 2.0}
    text = metrics_table({"per_sequence": {"SEQ": m}, "combined": m})
    header, row = text.splitlines()[0].split(), text.splitlines()[1].split()
    assert header[1:] == list(fields.TABLE)
    cells = dict(zip(header[1:], row[1:], strict=True))
    assert cells["HOTA"] == "50.00" and cells["IDSW"] == "12" and cells["CLR_FP"] == "3" and cells["MT"] == "2"
    assert cells["MOTA"] == "-"


def test_field_kinds_are_checked() -> None:
    with pytest.raises(ValueError, match="kind"):
        fields.Field("X", "X", True, "ratio")  # type: ignore[arg-type]
