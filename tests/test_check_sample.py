"""The project's own CI regression: real runs on the bundled sample must match the committed baseline.

``mot-bench run`` with public detections and the motion trackers (SORT, ByteTrack) on the bundled
MOT15 TUD-Campus sample, then ``mot-bench check`` against tests/baselines/sample_sort_bytetrack.json.
A change that silently worsens tracking fails here. After an intended change, refresh the baseline:

    mot-bench run --tracker sort --tracker bytetrack --out runs/sample
    mot-bench check runs/sample/sort runs/sample/bytetrack --write-baseline tests/baselines/sample_sort_bytetrack.json
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mot_bench.cli import main

BASELINE = Path(__file__).resolve().parent / "baselines" / "sample_sort_bytetrack.json"

pytestmark = pytest.mark.slow


def _run(out: Path, *args: str) -> None:
    res = CliRunner().invoke(main, ["run", "--detector", "public", "--out", str(out), "--no-progress", *args])
    assert res.exit_code == 0, res.output


def test_sample_matches_committed_baseline(tmp_path: Path) -> None:
    _run(tmp_path, "--tracker", "sort", "--tracker", "bytetrack")
    summary = tmp_path / "summary.md"
    res = CliRunner().invoke(main, ["check", str(tmp_path / "sort"), str(tmp_path / "bytetrack"),
                                    "--baseline", str(BASELINE)], env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert res.exit_code == 0, res.output
    assert res.output.count("PASS:") == 2 and "'public+sort'" in res.output and "'public+bytetrack'" in res.output
    assert summary.read_text().count("✅") == 2


def test_worse_tracking_fails_the_check(tmp_path: Path) -> None:
    """The same label with a stricter IoU gate tracks worse: the check must catch it (exit 1)."""
    _run(tmp_path / "sort", "--tracker", "sort", "--tracker-opt", "iou_threshold=0.7")
    res = CliRunner().invoke(main, ["check", str(tmp_path / "sort"), "--baseline", str(BASELINE)])
    assert res.exit_code == 1, res.output
    assert "REGRESSED" in res.output and "combined    HOTA" in res.output

