"""``mot-bench check``: baselines, direction-aware tolerances, exit codes, GitHub step summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from reports_helpers import make_run

from mot_bench.reports.check import load_baseline
from mot_bench.reports.commands import check
from mot_bench.results import RunFolder


def _invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(check, list(args), env=env)


def _edit_metrics(run: Path, scope: str, **changes: float) -> None:
    """Change metrics.json of ``run`` in place (``scope`` is "combined" or a sequence name)."""
    folder = RunFolder(run)
    metrics = folder.read_metrics()
    target = metrics["combined"] if scope == "combined" else metrics["per_sequence"][scope]
    for key, delta in changes.items():
        target[key] += delta
    folder.write_metrics(metrics)


@pytest.fixture()
def run_and_baseline(tmp_path: Path) -> tuple[Path, Path]:
    run = make_run(tmp_path / "run", "public+sort")
    baseline = tmp_path / "baseline.json"
    res = _invoke(str(run), "--write-baseline", str(baseline))
    assert res.exit_code == 0, res.output
    return run, baseline


def test_identical_run_passes(run_and_baseline: tuple[Path, Path]) -> None:
    run, baseline = run_and_baseline
    data = json.loads(baseline.read_text())
    entry = data["runs"]["public+sort"]
    assert set(entry["per_sequence"]) == {"TUD-Campus", "TUD-Stadtmitte"}
    assert entry["combined"]["HOTA"] == RunFolder(run).read_metrics()["combined"]["HOTA"]
    assert "HOTA_alpha" not in entry["combined"] and baseline.stat().st_size < 10_000  # small, to be committed
    res = _invoke(str(run), "--baseline", str(baseline))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("PASS") and "identical" in res.output


def test_regression_fails_with_table(run_and_baseline: tuple[Path, Path]) -> None:
    run, baseline = run_and_baseline
    _edit_metrics(run, "TUD-Campus", HOTA=-0.012)
    res = _invoke(str(run), "--baseline", str(baseline))
    assert res.exit_code == 1, res.output
    line = next(ln for ln in res.output.splitlines() if ln.startswith("TUD-Campus") and " HOTA " in ln)
    assert "-1.20 pts" in line and "0.50" in line and line.rstrip().endswith("REGRESSED")
    assert res.output.startswith("FAIL")


def test_direction_aware_counts(run_and_baseline: tuple[Path, Path]) -> None:
    run, baseline = run_and_baseline
    _edit_metrics(run, "combined", IDSW=-10, CLR_FP=-30)  # fewer switches and false positives: better
    res = _invoke(str(run), "--baseline", str(baseline))
    assert res.exit_code == 0, res.output
    assert res.output.count("IMPROVED (passes)") == 2
    _edit_metrics(run, "combined", IDSW=+10 + 3)  # now 3 more than the baseline: beyond the 2-switch tolerance
    res = _invoke(str(run), "--baseline", str(baseline))
    assert res.exit_code == 1
    assert any("IDSW" in ln and "+3" in ln and "REGRESSED" in ln for ln in res.output.splitlines())


def test_within_tolerance_and_overrides(run_and_baseline: tuple[Path, Path]) -> None:
    run, baseline = run_and_baseline
    _edit_metrics(run, "combined", MOTA=-0.004)
    res = _invoke(str(run), "--baseline", str(baseline))
    assert res.exit_code == 0 and "within tolerance" in res.output
    _edit_metrics(run, "combined", MOTA=-0.02)
    assert _invoke(str(run), "--baseline", str(baseline)).exit_code == 1
    assert _invoke(str(run), "--baseline", str(baseline), "--tolerance", "MOTA=0.03").exit_code == 0
    assert _invoke(str(run), "--baseline", str(baseline), "--tolerance", "mota=10%").exit_code == 0  # relative
    assert _invoke(str(run), "--baseline", str(baseline), "--tolerance", "MOTA=1%").exit_code == 1


def test_usage_errors_exit_2(run_and_baseline: tuple[Path, Path], tmp_path: Path) -> None:
    run, baseline = run_and_baseline
    res = _invoke(str(run), "--baseline", str(tmp_path / "absent.json"))
    assert res.exit_code == 2 and "absent.json: baseline file not found" in res.output
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "format": "mot-bench-baseline/1",\n  "runs": {,}\n}')
    res = _invoke(str(run), "--baseline", str(broken))
    assert res.exit_code == 2 and "broken.json:3: baseline is not valid JSON" in res.output
    data = json.loads(baseline.read_text())
    data["runs"]["public+sort"]["per_sequence"]["TUD-Campus"]["HOTA"] = "high"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    res = _invoke(str(run), "--baseline", str(bad))
    assert res.exit_code == 2 and "runs.public+sort.per_sequence.TUD-Campus.HOTA: expected a number" in res.output
    bad.write_text(json.dumps({"runs": {}}))
    res = _invoke(str(run), "--baseline", str(bad))
    assert res.exit_code == 2 and "not a mot-bench baseline" in res.output
    res = _invoke(str(run), "--baseline", str(baseline), "--tolerance", "SPEEDINESS=1")
    assert res.exit_code == 2 and "unknown metric 'SPEEDINESS'" in res.output
    res = _invoke(str(run), "--baseline", str(baseline), "--tolerance", "HOTA=lots")
    assert res.exit_code == 2 and "'lots' is not a number" in res.output
    res = _invoke(str(tmp_path / "no_run"), "--baseline", str(baseline))
    assert res.exit_code == 2 and "no_run: no such run folder" in res.output
    res = _invoke(str(run))
    assert res.exit_code == 2 and "exactly one of --baseline" in res.output


def test_missing_sequence_fails(run_and_baseline: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = run_and_baseline
    partial = make_run(tmp_path / "partial", "public+sort", seqs={"TUD-Campus": 71})
    res = _invoke(str(partial), "--baseline", str(baseline))
    assert res.exit_code == 1 and "MISSING" in res.output and "TUD-Stadtmitte" in res.output


def test_fps_ratio(run_and_baseline: tuple[Path, Path], tmp_path: Path) -> None:
    _, baseline = run_and_baseline
    slow = make_run(tmp_path / "slow", "public+sort", ms_track=4.0)  # same metrics, tracker 10x slower
    assert _invoke(str(slow), "--baseline", str(baseline)).exit_code == 0  # FPS is not checked by default
    res = _invoke(str(slow), "--baseline", str(baseline), "--fps-ratio", "0.8")
    assert res.exit_code == 1 and any(ln.startswith("combined") and "FPS" in ln and "REGRESSED" in ln
                                      for ln in res.output.splitlines())
    assert _invoke(str(slow), "--baseline", str(baseline), "--fps-ratio", "0.3").exit_code == 0
    assert _invoke(str(slow), "--baseline", str(baseline), "--fps-ratio", "0").exit_code == 2


def test_multi_entry_baseline_and_step_summary(run_and_baseline: tuple[Path, Path], tmp_path: Path) -> None:
    run, baseline = run_and_baseline
    byte = make_run(tmp_path / "byte", "public+bytetrack", tracker="bytetrack", quality=0.03)
    assert _invoke(str(byte), "--write-baseline", str(baseline), "--tolerance", "IDSW=5").exit_code == 0
    data = load_baseline(baseline)
    assert set(data["runs"]) == {"public+sort", "public+bytetrack"}  # merged, not replaced
    assert data["tolerances"]["IDSW"] == {"abs": 5.0, "rel": 0.0}
    _edit_metrics(byte, "combined", AssA=-0.05)
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    res = _invoke(str(run), str(byte), "--baseline", str(baseline), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.exit_code == 1, res.output
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended
    assert "✅ mot-bench check" in text and "❌ mot-bench check" in text and "| combined | AssA |" in text
    other = make_run(tmp_path / "other", "oracle+sort", detector="oracle")
    res = _invoke(str(other), "--baseline", str(baseline))
    assert res.exit_code == 2 and "no entry for run label 'oracle+sort'" in res.output
