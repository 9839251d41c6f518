"""Issue 16, item 4: report and check refuse (exit 2) to rank or compare runs of different benchmarks,
splits or sequence sets unless --allow-mixed, and show benchmark and split columns; the advice for a run
without metrics is a command that works."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from click.testing import CliRunner
from reports_helpers import make_run

from mot_bench.cli import main


def _retarget(run: Path, benchmark: str | None = None, split: str | None = None) -> Path:
    for name in ("config.json", "metrics.json"):
        path = run / name
        data = json.loads(path.read_text())
        holder = data["data"] if name == "config.json" else data
        if benchmark:
            holder["benchmark"] = benchmark
        if split:
            holder["split"] = split
        path.write_text(json.dumps(data))
    return run


def _cli(*args: str):
    return CliRunner().invoke(main, list(args))


def test_report_refuses_to_rank_different_benchmarks(tmp_path: Path) -> None:
    mot15 = make_run(tmp_path / "a", "public+sort")
    mot16 = _retarget(make_run(tmp_path / "b", "public+bytetrack", tracker="bytetrack"), benchmark="MOT16")
    res = _cli("report", str(mot15), str(mot16), "--out", str(tmp_path / "rep"), "--no-plots")
    assert res.exit_code == 2, res.output
    assert "cannot rank runs of different benchmarks" in res.output and "--allow-mixed" in res.output
    assert "MOT15 train" in res.output and "MOT16 train" in res.output
    assert not (tmp_path / "rep" / "leaderboard.csv").exists()
    res = _cli("report", str(mot15), str(mot16), "--out", str(tmp_path / "rep"), "--no-plots", "--allow-mixed")
    assert res.exit_code == 0, res.output
    md = (tmp_path / "rep" / "leaderboard.md").read_text()
    header = next(line for line in md.splitlines() if line.startswith("| ") and "HOTA" in line)
    assert "benchmark" in header and "split" in header
    assert "MOT15" in md and "MOT16" in md
    html = (tmp_path / "rep" / "index.html").read_text()
    assert ">benchmark<" in html and ">split<" in html


def test_report_base_refuses_other_splits_and_sequence_sets(tmp_path: Path) -> None:
    base = make_run(tmp_path / "base", "public+sort")
    other_split = _retarget(make_run(tmp_path / "v1", "v1"), split="half-val")
    fewer = make_run(tmp_path / "v2", "v2", seqs={"TUD-Campus": 71})
    for variant in (other_split, fewer):
        res = _cli("report", str(base), str(variant), "--base", str(base), "--out", str(tmp_path / "c"), "--no-plots")
        assert res.exit_code == 2 and "cannot compare runs of different benchmarks, splits or sequence sets" \
            in res.output, res.output
    res = _cli("report", str(base), str(fewer), "--out", str(tmp_path / "c"), "--no-plots")
    assert res.exit_code == 2 and "1 sequence (TUD-Campus)" in res.output, res.output


def test_check_against_another_benchmark_is_a_usage_error(tmp_path: Path) -> None:
    mot15 = make_run(tmp_path / "a", "public+sort")
    baseline = tmp_path / "baseline.json"
    assert _cli("check", str(mot15), "--write-baseline", str(baseline)).exit_code == 0
    mot16 = _retarget(make_run(tmp_path / "b", "public+sort", quality=-0.1), benchmark="MOT16")
    res = _cli("check", str(mot16), "--baseline", str(baseline))
    assert res.exit_code == 2, res.output  # was 1, 'REGRESSED'
    assert "recorded on benchmark 'MOT15'" in res.output and "'MOT16'" in res.output and "--allow-mixed" in res.output
    res = _cli("check", str(mot16), "--baseline", str(baseline), "--allow-mixed")
    assert res.exit_code == 1 and "baseline benchmark is 'MOT15' but this run used 'MOT16'" in res.output


def test_advice_for_a_run_without_metrics_is_a_working_command(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = _cli("run", "--tracker", "sort", "--no-eval", "--no-progress", "--out", str(out))
    assert res.exit_code == 0, res.output
    res = _cli("report", str(out), "--out", str(tmp_path / "rep"), "--no-plots")
    assert res.exit_code == 2 and "score it first: mot-bench eval" in res.output, res.output
    command = res.output.split("score it first: ", 1)[1].strip()
    argv = shlex.split(command)
    assert argv[:2] == ["mot-bench", "eval"]
    res = _cli(*argv[1:])
    assert res.exit_code == 0, res.output
    res = _cli("report", str(out), "--out", str(tmp_path / "rep"), "--no-plots")
    assert res.exit_code == 0, res.output
