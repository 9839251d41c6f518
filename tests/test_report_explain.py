"""The report's explanations: intervals beside each run and against a base, identity timelines and the
identities that changed, read from events/ or computed from the gt; runs without gt are reported without."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from reports_helpers import make_run, real_sample_run

from mot_bench.metrics.explain import read_explanation
from mot_bench.reports import load_run, load_runs, write_comparison, write_report
from mot_bench.reports.explain import INTERVAL_METRICS, identity_changes, run_events, timeline
from mot_bench.runner import RunOptions, run


def _page_json(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="timeline-data">(.*?)</script>', html,
                                re.S).group(1))


@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("explain")
    return real_sample_run(root, "sort"), real_sample_run(root, "bytetrack")


def test_comparison_has_intervals_and_identity_changes(sample_runs, tmp_path: Path) -> None:
    sort, byte = sample_runs
    table = write_comparison(sort, [(byte, {})], tmp_path / "cmp", figures=False)
    row = table["rows"][1]
    assert set(row["intervals"]) == set(INTERVAL_METRICS)
    for m, iv in row["intervals"].items():
        assert iv["low"] <= iv["high"], m
        if m in ("HOTA", "MOTA", "IDF1", "IDSW"):  # the point difference is the runs' metrics.json difference
            assert iv["delta"] == pytest.approx(row["metrics"][m]["delta"], abs=1e-9), m
    assert set(row["sequence_intervals"]) == {"TUD-Campus"}
    md = (tmp_path / "cmp" / "comparison.md").read_text()
    assert "Is it real?" in md and "paired bootstrap" in md
    csv = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert {"HOTA_low", "HOTA_high", "IDF1_low"} <= set(csv.columns)
    board = pd.read_csv(tmp_path / "cmp" / "leaderboard.csv")
    assert board.loc[0, "HOTA_vs_best"] == 0.0 and board.loc[1, "HOTA_vs_best"] < 0
    assert board.loc[1, "HOTA_vs_best_low"] <= board.loc[1, "HOTA_vs_best"] <= board.loc[1, "HOTA_vs_best_high"]
    assert "vs best" in (tmp_path / "cmp" / "leaderboard.md").read_text()

    html = (tmp_path / "cmp" / "index.html").read_text()
    data = _page_json(html)
    assert data["runs"] == ["public+sort", "public+bytetrack"] and data["base"] == 0
    assert 'id="identities"' in html and "whose association changed" in html and 'id="interval-table"' in html


def test_timeline_covers_every_scored_box(sample_runs) -> None:
    sort, _ = sample_runs
    events = run_events(load_run(sort))
    expl = events.sequences["TUD-Campus"]
    tl = timeline(expl)
    ids = {i["id"]: i for i in tl["ids"]}
    assert set(ids) == set(expl.identities["gt_id"])
    for r in expl.identities.itertuples():
        ident = ids[r.gt_id]
        assert sum(b - a + 1 for a, b, _, _ in ident["segs"]) == r.frames
        assert sum(b - a + 1 for a, b, p, _ in ident["segs"] if p < 0) == r.fn
        assert len(ident["marks"]) == r.idsw + r.frag
    assert sum(n for _, n in tl["fp"]) == int((expl.events["kind"] == "FP").sum())
    for _, kind, pred, _, prev in (m for i in tl["ids"] for m in i["marks"]):
        if kind == "IDSW":
            assert prev != pred and prev >= 0


def test_identity_changes_are_the_events_difference(sample_runs) -> None:
    sort, byte = sample_runs
    a = run_events(load_run(sort)).sequences["TUD-Campus"]
    b = run_events(load_run(byte)).sequences["TUD-Campus"]
    ch = identity_changes(a, b, top=100)
    sw = {name: {(int(r.frame), int(r.gt_id)) for r in e.events[e.events["kind"] == "IDSW"].itertuples()}
          for name, e in (("a", a), ("b", b))}
    assert {(s[0], s[1]) for s in ch["switch_only_base"]} == sw["a"] - sw["b"]
    assert {(s[0], s[1]) for s in ch["switch_only_other"]} == sw["b"] - sw["a"]
    ia, ib = a.identities.set_index("gt_id"), b.identities.set_index("gt_id")
    for r in ch["better"] + ch["worse"]:
        assert r["d_assa"] == pytest.approx(ib.loc[r["id"], "assa"] - ia.loc[r["id"], "assa"], abs=1e-4)
    assert all(r["d_assa"] > 0 or (r["d_assa"] == 0 and r["d_idtp"] > 0) for r in ch["better"])
    assert ch["n_better"] + ch["n_worse"] <= ch["identities"]


def test_identical_runs_have_zero_intervals(sample_runs, tmp_path: Path) -> None:
    sort, _ = sample_runs
    copy = tmp_path / "copy"
    shutil.copytree(sort, copy)
    cfg = json.loads((copy / "config.json").read_text())
    cfg["label"] = "the same again"
    (copy / "config.json").write_text(json.dumps(cfg))
    table = write_comparison(sort, [(copy, {})], tmp_path / "cmp", figures=False)
    assert all(iv["low"] == iv["high"] == iv["delta"] == 0.0 for iv in table["rows"][1]["intervals"].values())
    assert "+0.00 [+0.00, +0.00]" in (tmp_path / "cmp" / "comparison.md").read_text()


def test_runs_without_gt_are_reported_without_events(tmp_path: Path) -> None:
    """Test run folders name a /data root that does not exist: a note, no intervals, no crash."""
    runs = [make_run(tmp_path / "a", "a"), make_run(tmp_path / "b", "b", quality=0.05)]
    files = write_report(load_runs(runs), tmp_path / "r", figures=False)
    html = Path(files["html"]).read_text()
    assert "a: no events (" in html and "vs_best" not in pd.read_csv(files["leaderboard_csv"]).columns
    files = write_report(load_runs(runs), tmp_path / "r2", figures=False, explain=False)
    assert 'id="identities"' not in Path(files["html"]).read_text()


def test_events_folder_is_used_when_current(tmp_path: Path) -> None:
    res = run(RunOptions(detector="public", tracker="sort", out=str(tmp_path / "s"), progress=False, events=True))
    summary = load_run(res.folder.path)
    assert run_events(summary).source == "read from its events/"
    assert read_explanation(res.folder.events_dir, "TUD-Campus").counts()["IDSW"] == res.metrics["combined"]["IDSW"]
    path = res.folder.result_path("TUD-Campus")
    path.write_text(path.read_text() + "71,9999,1,1,30,60,1,-1,-1,-1\n")  # the results changed since
    again = run_events(summary)
    assert again.source.startswith("computed") and again.sequences["TUD-Campus"].counts()["CLR_FP"] == \
        res.metrics["combined"]["CLR_FP"] + 1
