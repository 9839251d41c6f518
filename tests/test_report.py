"""Leaderboards, per-sequence tables, the self-contained HTML report and ablation comparisons."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from reports_helpers import make_run, real_sample_run

from mot_bench.reports import load_runs, write_comparison, write_report
from mot_bench.reports.commands import check, report
from mot_bench.reports.plots import OKABE_ITO
from mot_bench.results import RunFolder


@pytest.fixture()
def three_runs(tmp_path: Path) -> list[Path]:
    return [
        make_run(tmp_path / "sort", "public+sort"),
        make_run(tmp_path / "byte", "public+bytetrack", tracker="bytetrack", quality=0.04, ms_track=0.9,
                 tracker_options={"track_thresh": 0.5}),
        make_run(tmp_path / "sort30", "public+sort age30", quality=-0.02, tracker_options={"max_age": 30}),
    ]


def _fps_by_hand(run: Path) -> float:
    """Frames / seconds over non-warm-up rows, read straight from the CSV files."""
    frames, seconds = 0, 0.0
    for csv in sorted((run / "timing").glob("*.csv")):
        df = pd.read_csv(csv)
        timed = df[df["warmup"] == 0]
        frames += len(timed)
        seconds += timed["total"].sum()
    return frames / seconds


def test_leaderboard_files_sorted_and_exact(three_runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(report, [*map(str, three_runs), "--out", str(out), "--no-plots"])
    assert result.exit_code == 0, result.output
    board = pd.read_csv(out / "leaderboard.csv")
    assert list(board["label"]) == ["public+bytetrack", "public+sort", "public+sort age30"]  # HOTA, best first
    for _, row in board.iterrows():
        metrics = RunFolder(row["run"]).read_metrics()["combined"]
        for col in ("HOTA", "DetA", "AssA", "MOTA", "IDF1", "IDSW", "CLR_FP", "CLR_FN", "MT", "ML"):
            assert row[col] == pytest.approx(metrics[col], rel=1e-12), col
        assert row["FPS"] == pytest.approx(_fps_by_hand(Path(row["run"])), rel=1e-9)
        assert row["FPS_track"] > row["FPS"]  # one stage alone is faster than the whole pipeline
        assert row["hardware"] == "Test CPU @ 2.0GHz (cpu, fp32)"
    # only the options that differ between runs are "key options"
    assert board.loc[board["label"] == "public+sort age30", "options"].item() == "trk.max_age=30"
    per_seq = pd.read_csv(out / "leaderboard_per_sequence.csv")
    assert len(per_seq) == 3 * 2 and set(per_seq["sequence"]) == {"TUD-Campus", "TUD-Stadtmitte"}
    md = (out / "leaderboard.md").read_text()
    assert "## TUD-Campus" in md and "## TUD-Stadtmitte" in md
    first_row = md.split("\n|---")[1].split("\n")[1]
    assert first_row.startswith("| public+bytetrack |") and "| 45.9 |" in first_row  # percent, one decimal


def test_sort_by_lower_is_better_metric(three_runs: list[Path], tmp_path: Path) -> None:
    runs = load_runs(three_runs)
    write_report(runs, tmp_path / "r", sort_by="IDSW", figures=False)
    board = pd.read_csv(tmp_path / "r" / "leaderboard.csv")
    assert list(board["IDSW"]) == sorted(board["IDSW"])  # fewest switches first
    write_report(runs, tmp_path / "r2", sort_by="FN", figures=False)  # short name of CLR_FN
    assert list(pd.read_csv(tmp_path / "r2" / "leaderboard.csv")["CLR_FN"]) == [216, 240, 252]


def test_html_is_self_contained_with_plots(three_runs: list[Path], tmp_path: Path) -> None:
    files = write_report(load_runs(three_runs), tmp_path / "r")
    html = Path(files["html"]).read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "no network resources"
    assert "<link" not in html and "@import" not in html and "<script src" not in html
    assert html.count("<svg") >= 4 + 3  # scatter, stages, alpha, bars + one per-frame plot per run
    for fig in ("fig-scatter", "fig-stages", "fig-alpha", "fig-bars"):
        assert f'id="{fig}"' in html
    assert OKABE_ITO[0].lower() in html.lower() and "@media print" in html
    assert 'table class="sortable" id="leaderboard-table"' in html
    assert html.count('<details class="seq"') == 2 and '<select id="frame-run">' in html
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), "ids of inline SVGs must not collide"


def test_comparison_deltas_and_directions(three_runs: list[Path], tmp_path: Path) -> None:
    base, *variants = three_runs
    table = write_comparison(base, [(variants[0], {"tracker": "bytetrack"}), (variants[1], {"tracker": "sort-30"})],
                             tmp_path / "cmp", figures=False)
    rows = {r["label"]: r for r in table["rows"]}
    byte = rows["public+bytetrack"]["metrics"]
    base_m = RunFolder(base).read_metrics()["combined"]
    assert byte["HOTA"]["delta"] == pytest.approx(
        RunFolder(variants[0]).read_metrics()["combined"]["HOTA"] - base_m["HOTA"])
    assert byte["HOTA"]["direction"] == 1 and byte["IDSW"]["delta"] < 0 and byte["IDSW"]["direction"] == 1
    worse = rows["public+sort age30"]["metrics"]
    assert worse["CLR_FP"]["delta"] > 0 and worse["CLR_FP"]["direction"] == -1  # more FP is worse
    assert worse["HOTA"]["direction"] == -1
    csv = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert "tracker" in csv.columns and "HOTA_delta" in csv.columns and len(csv) == 3
    md = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "✓" in md and "✗" in md
    html = (tmp_path / "cmp" / "index.html").read_text()
    assert 'id="comparison-table"' in html and 'class="num better"' in html and 'class="num worse"' in html


def test_report_base_and_manifest_cli(three_runs: list[Path], tmp_path: Path) -> None:
    base, byte, sort30 = three_runs
    res = CliRunner().invoke(report, [str(byte), str(sort30), "--base", str(base), "--out", str(tmp_path / "b"),
                                      "--no-plots"])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "b" / "comparison.csv")
    # axes derived from what differs from the base: tracker name, and max_age (shared by both sort runs)
    assert list(csv.columns[2:4]) == ["tracker", "trk.max_age"]
    assert list(csv["tracker"]) == ["sort", "bytetrack", "sort"]
    manifest = tmp_path / "ablation.json"
    manifest.write_text(json.dumps({"base": "sort", "axes": ["head"], "variants": [
        {"run": "byte", "axes": {"head": "anchor_free"}}, {"run": str(sort30), "axes": {"head": "wide"}}]}))
    res = CliRunner().invoke(report, [str(manifest), "--out", str(tmp_path / "m"), "--no-plots"])
    assert res.exit_code == 0, res.output
    csv = pd.read_csv(tmp_path / "m" / "comparison.csv")
    assert list(csv["head"]) == ["(base)", "anchor_free", "wide"]


def test_report_usage_errors(three_runs: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    res = runner.invoke(report, [str(tmp_path / "nope")])
    assert res.exit_code == 2 and "nope: no such run folder" in res.output
    res = runner.invoke(report, [str(three_runs[0]), "--sort-by", "SPEEDINESS"])
    assert res.exit_code == 2 and "unknown metric 'SPEEDINESS'" in res.output
    (three_runs[1] / "metrics.json").unlink()
    res = runner.invoke(report, [str(three_runs[1])])
    assert res.exit_code == 2 and "metrics.json: missing" in res.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"base": "x"}')
    res = runner.invoke(report, [str(bad)])
    assert res.exit_code == 2 and "ablation manifest" in res.output


@pytest.mark.parametrize("command", [report, check])
def test_every_option_documented(command) -> None:
    for param in command.params:
        if param.param_type_name == "option":
            assert param.help and len(param.help) > 30, param.name
    assert CliRunner().invoke(command, ["--help"]).exit_code == 0
    assert len(command.help or "") > 100


@pytest.mark.slow
def test_report_on_real_sample_runs(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """Real `mot-bench run` output (public detections on the bundled TUD-Campus): the report reads it as is."""
    root = tmp_path_factory.mktemp("real")
    runs = [real_sample_run(root, "sort"), real_sample_run(root, "bytetrack")]
    res = CliRunner().invoke(report, [*map(str, runs), "--out", str(tmp_path / "r"), "--sort-by", "IDF1",
                                      "--no-plots"])
    assert res.exit_code == 0, res.output
    board = pd.read_csv(tmp_path / "r" / "leaderboard.csv")
    assert list(board["IDF1"]) == sorted(board["IDF1"], reverse=True)
    for _, row in board.iterrows():
        metrics = RunFolder(row["run"]).read_metrics()["combined"]
        assert row["HOTA"] == metrics["HOTA"] and row["IDSW"] == metrics["IDSW"]
        assert row["FPS"] == pytest.approx(_fps_by_hand(Path(row["run"])), rel=1e-9)
        assert row["frames"] == 71 - 3  # TUD-Campus less three warm-up frames
    html = (tmp_path / "r" / "index.html").read_text()
    assert "TUD-Campus" in html and "--no-plots" in html and "<svg" not in html
