"""``mot-bench check --tolerance METRIC=auto``: a regression only when the paired bootstrap interval of
(current - baseline) excludes zero. A change everywhere fails; a change confined to three frames passes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from reports_helpers import real_sample_run

from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate
from mot_bench.reports.check import AUTO_METRICS
from mot_bench.reports.commands import check
from mot_bench.results import RunFolder
from mot_bench.runner import SAMPLE_ROOT


def _invoke(*args: str):
    return CliRunner().invoke(check, list(args))


def _edited_copy(run: Path, dest: Path, keep) -> Path:
    """A copy of ``run`` whose results keep the rows ``keep(rows)`` selects, re-scored like the runner does."""
    shutil.copytree(run, dest)
    folder = RunFolder(dest)
    path = folder.result_path("TUD-Campus")
    rows = np.loadtxt(path, delimiter=",")
    np.savetxt(path, rows[keep(rows)], delimiter=",", fmt="%.6g")
    seqs = find_sequences(SAMPLE_ROOT, "MOT15", "train", ["TUD-Campus"])
    metrics = evaluate(seqs, folder.results_dir, "MOT15")
    metrics["split"] = "train"
    folder.write_metrics(metrics)
    return dest


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("auto")
    run = real_sample_run(root, "bytetrack")
    path = root / "baseline.json"
    autos = [arg for m in AUTO_METRICS for arg in ("--tolerance", f"{m}=auto")]
    res = _invoke(str(run), "--write-baseline", str(path), *autos)
    assert res.exit_code == 0, res.output
    return run, path


def test_baseline_keeps_block_statistics(baseline) -> None:
    run, path = baseline
    data = json.loads(path.read_text())
    assert data["tolerances"]["HOTA"] == {"abs": 0.0, "rel": 0.0, "auto": 1.0}
    boot = data["runs"]["public+bytetrack"]["bootstrap"]
    assert boot["block_frames"] == 30 and len(boot["sequences"]["TUD-Campus"]["blocks"]) == 3  # 71 frames


def test_the_same_run_passes(baseline) -> None:
    run, path = baseline
    res = _invoke(str(run), "--baseline", str(path))
    assert res.exit_code == 0, res.output
    assert "auto tolerance (AssA, CLR_FN, CLR_FP, DetA, Frag, HOTA, IDF1, IDSW, LocA, MOTA, MOTP)" in res.output


def test_a_change_everywhere_fails(baseline, tmp_path: Path) -> None:
    run, path = baseline
    rng = np.random.default_rng(0)
    worse = _edited_copy(run, tmp_path / "worse", lambda rows: rng.random(len(rows)) > 0.3)
    res = _invoke(str(worse), "--baseline", str(path))
    assert res.exit_code == 1, res.output
    assert "REGRESSED" in res.output and "auto [" in res.output


def test_a_change_in_three_frames_passes(baseline, tmp_path: Path) -> None:
    """Frames 40-42 lose every box: MOTA drops by more than a fixed half-point tolerance allows, but in a
    third of the replicates that block is not drawn at all, so the interval reaches zero."""
    run, path = baseline
    local = _edited_copy(run, tmp_path / "local", lambda rows: (rows[:, 0] < 40) | (rows[:, 0] > 42))
    assert _invoke(str(local), "--baseline", str(path), "--tolerance", "MOTA=0.005").exit_code == 1
    res = _invoke(str(local), "--baseline", str(path))
    assert res.exit_code == 0, res.output
    assert "within tolerance" in res.output


def test_auto_needs_the_statistics_and_a_bootstrapped_metric(baseline, tmp_path: Path) -> None:
    run, _ = baseline
    plain = tmp_path / "plain.json"
    assert _invoke(str(run), "--write-baseline", str(plain)).exit_code == 0
    res = _invoke(str(run), "--baseline", str(plain), "--tolerance", "HOTA=auto")
    assert res.exit_code == 2 and "no bootstrap statistics" in res.output
    res = _invoke(str(run), "--baseline", str(plain), "--tolerance", "MT=auto")
    assert res.exit_code == 2 and "auto (bootstrap) tolerances exist for" in res.output
