"""The HTML report in a real browser (headless Chromium): the table sorts on click, the plots draw.

Driven without selenium: the page's own URL hooks click a header (``?sort=IDSW``) and record figure
sizes (``?selftest=1``), and ``--dump-dom`` returns the page after its scripts ran. Set
MOT_BENCH_UPDATE_SCREENSHOT=1 to refresh docs/img/report.png from real runs on the bundled sample.
"""

from __future__ import annotations

import html as htmlmod
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from reports_helpers import make_run, real_sample_run

from mot_bench.reports import load_runs, write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REPO = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium) for the browser test"),
    pytest.mark.slow,
]


def _chromium(tmp_path: Path, *args: str) -> str:
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp_path / 'chromium-profile'}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _dom(tmp_path: Path, page: Path, query: str) -> str:
    return _chromium(tmp_path, "--virtual-time-budget=5000", "--dump-dom", page.as_uri() + query)


def _column(dom: str, key: str) -> tuple[list[str], str]:
    """(data-sort values top to bottom, aria-sort of the header) of one leaderboard column."""
    table = re.search(r'<table class="sortable" id="leaderboard-table">(.*?)</table>', dom, re.S).group(1)
    heads = re.findall(r"<th ([^>]*)>", table)
    idx = next(i for i, h in enumerate(heads) if f'data-key="{key}"' in h)
    aria = re.search(r'aria-sort="(\w+)"', heads[idx])
    body = table.split("<tbody>")[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    values = [re.findall(r'<td data-sort="([^"]*)"', r)[idx] for r in rows]
    return [htmlmod.unescape(v) for v in values], aria.group(1) if aria else ""


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    runs = [
        make_run(root / "sort", "public+sort"),
        make_run(root / "byte", "public+bytetrack", tracker="bytetrack", quality=0.04, ms_track=0.9),
        make_run(root / "sort30", "public+sort age30", quality=-0.02, tracker_options={"max_age": 30}),
    ]
    return Path(write_report(load_runs(runs), root / "report")["html"])


def test_served_order_is_best_first(page: Path, tmp_path: Path) -> None:
    hota, aria = _column(_dom(tmp_path, page, ""), "HOTA")
    assert [float(v) for v in hota] == sorted((float(v) for v in hota), reverse=True) and aria == "descending"


def test_click_sorts_the_table(page: Path, tmp_path: Path) -> None:
    # first click on a lower-is-better column puts the fewest switches on top
    dom = _dom(tmp_path, page, "?sort=IDSW")
    idsw, aria = _column(dom, "IDSW")
    assert [float(v) for v in idsw] == sorted(float(v) for v in idsw) and aria == "ascending"
    labels, _ = _column(dom, "label")
    assert labels[0] == "public+bytetrack"
    # a second click reverses; text columns sort alphabetically
    hota, aria = _column(_dom(tmp_path, page, "?sort=HOTA&dir=asc"), "HOTA")
    assert [float(v) for v in hota] == sorted(float(v) for v in hota) and aria == "ascending"
    labels, aria = _column(_dom(tmp_path, page, "?sort=label"), "label")
    assert labels == sorted(labels, key=str.lower) and aria == "ascending"


def test_plots_render_with_size(page: Path, tmp_path: Path) -> None:
    dom = _dom(tmp_path, page, "?selftest=1")
    sizes = json.loads(htmlmod.unescape(re.search(r'<pre id="selftest">(.*?)</pre>', dom, re.S).group(1)))
    shown = [s for s in sizes if s["visible"]]
    names = {s["figure"] for s in shown}
    assert {"fig-scatter", "fig-stages", "fig-alpha", "fig-bars", "frame-fig"} <= names, names
    for s in shown:
        assert s["width"] > 200 and s["height"] > 100, s
    assert sum(1 for s in sizes if s["figure"] == "frame-fig") == 3  # one per run, one shown at a time


def test_screenshot(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """A screenshot of a report on real runs; it lands in docs/img/report.png when asked to refresh it."""
    root = tmp_path_factory.mktemp("shot")
    runs = [real_sample_run(root, "sort"), real_sample_run(root, "bytetrack"),
            real_sample_run(root, "sort", label="public+sort max_age=3", max_age=3)]
    page = Path(write_report(load_runs(runs), root / "report")["html"])
    shot = tmp_path / "report.png"
    _chromium(tmp_path, "--window-size=1280,1900", f"--screenshot={shot}", page.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a real picture, not a blank page
    if os.environ.get("MOT_BENCH_UPDATE_SCREENSHOT") == "1":
        target = REPO / "docs" / "img" / "report.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)


# --------------------------------------------------------------------------------------------------
# the identity timelines and the frame viewer (mot_bench.reports.explain, mot_bench.reports.viewer)


def _js_errors(dom: str) -> list:
    return json.loads(htmlmod.unescape(re.search(r'<pre id="js-errors"[^>]*>(.*?)</pre>', dom, re.S).group(1)))


@pytest.fixture(scope="module")
def explained_pages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    """A comparison report (SORT vs ByteTrack on the bundled TUD-Campus, events computed from its gt) and
    the viewer of the SORT run; plus the timeline data the report embeds."""
    from mot_bench.reports import load_run, write_comparison
    from mot_bench.reports.viewer import show

    root = tmp_path_factory.mktemp("explained")
    sort, byte = real_sample_run(root, "sort"), real_sample_run(root, "bytetrack")
    report = Path(write_comparison(sort, [(byte, {})], root / "cmp", figures=False)["files"]["html"])
    viewer = Path(show(load_run(sort), "TUD-Campus", compare=load_run(byte), html_out=root / "view.html",
                       max_width=480)["html"])
    data = json.loads(re.search(r'<script type="application/json" id="timeline-data">(.*?)</script>',
                                report.read_text(), re.S).group(1))
    return report, viewer, data


def test_timeline_responds_to_clicks(explained_pages, tmp_path: Path) -> None:
    report, _, data = explained_pages
    dom = _dom(tmp_path, report, "?tl-run=0&tl-sort=errors&tl-click=IDSW")
    assert _js_errors(dom) == []
    info = htmlmod.unescape(re.search(r'<p id="tl-info"[^>]*>(.*?)</p>', dom, re.S).group(1))
    assert "ID switch, predicted id" in info  # the clicked switch, kept below the timeline
    order = [int(g) for g in re.findall(r'<g class="tl-row[^"]*" data-gt="(\d+)"', dom)]
    errors = {i["id"]: i["errors"] for i in data["seqs"]["TUD-Campus"]["runs"]["0"]["ids"]}
    assert sorted(order) == sorted(errors) and [errors[g] for g in order] == sorted(errors.values(), reverse=True)
    by_id = re.findall(r'<g class="tl-row[^"]*" data-gt="(\d+)"', _dom(tmp_path, report, "?tl-run=0&tl-sort=id"))
    assert [int(g) for g in by_id] == sorted(errors)
    # a window of frames keeps the identities present in it
    dom = _dom(tmp_path, report, "?tl-run=0&tl-frames=20:40")
    assert "frames 20\u201340 of 1\u201371" in htmlmod.unescape(re.search(r'id="tl-count">(.*?)<', dom).group(1))
    present = {i["id"] for i in data["seqs"]["TUD-Campus"]["runs"]["0"]["ids"] if i["last"] >= 20 and i["first"] <= 40}
    assert {int(g) for g in re.findall(r'<g class="tl-row[^"]*" data-gt="(\d+)"', dom)} == present
    # a link of the "changed" tables jumps to that identity's row and opens its event
    dom = _dom(tmp_path, report, "?tl-jump=0")
    assert _js_errors(dom) == [] and re.search(r'<g class="tl-row hl" data-gt="\d+"', dom)
    assert re.search(r'<p id="tl-info"[^>]*>[^<]*gt \d+', dom)


def test_viewer_responds_to_clicks(explained_pages, tmp_path: Path) -> None:
    _, viewer, _ = explained_pages
    html = viewer.read_text()
    meta = json.loads(re.search(r'<script type="application/json" id="viewer-meta">(.*?)</script>', html, re.S)
                      .group(1))
    switch_frames = [f for f, per_run in zip(meta["frames"], meta["events"], strict=True)
                     if any(t.startswith("IDSW") for t in per_run[0] + per_run[1])]
    assert switch_frames

    def state(query: str) -> dict:
        dom = _dom(tmp_path, viewer, query)
        assert _js_errors(dom) == []
        return json.loads(htmlmod.unescape(re.search(r'<pre id="viewer-state"[^>]*>(.*?)</pre>', dom, re.S).group(1)))

    first = switch_frames[0]
    assert state("?click=next-err&kind=IDSW") == {"index": first - 1, "frame": first, "visible": 1}
    assert state("?frame=30&click=next&times=3")["frame"] == 33
    assert state("?frame=71&click=next")["frame"] == 71  # the last frame stays the last


def test_explained_screenshots(explained_pages, tmp_path: Path) -> None:
    """Screenshots of the timeline and the viewer (docs/img/timeline.png, viewer.png when refreshing)."""
    report, viewer, _ = explained_pages
    shots = {"timeline.png": (report, "?only=identities&tl-run=0&tl-click=IDSW", "1280,1100"),
             "viewer.png": (viewer, "?click=next-err&kind=IDSW", "1040,820")}
    for name, (page, query, size) in shots.items():
        shot = tmp_path / name
        _chromium(tmp_path, f"--window-size={size}", f"--screenshot={shot}", page.as_uri() + query)
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 40_000, name
        if os.environ.get("MOT_BENCH_UPDATE_SCREENSHOT") == "1":
            shutil.copyfile(shot, REPO / "docs" / "img" / name)
def test_ablation_report_with_seeds_renders(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    """The comparison report of an ablation over seeds (``mot-bench ablate``): the seed table (mean, min-max),
    the wall-time table and the training curves render in the browser."""
    from mot_bench.reports import write_comparison

    root = tmp_path_factory.mktemp("seeds")
    runs, train_dirs = [], {}
    for head, shift in (("anchor_free", 0.0), ("anchor_based", -0.05)):
        for seed in (1, 2):
            run = make_run(root / f"{head}-{seed}", f"fairmot {head} seed {seed}", tracker="fairmot",
                           detector="fairmot", quality=shift + 0.01 * seed)
            log = root / f"train-{head}-{seed}" / "train_log.jsonl"
            log.parent.mkdir()
            lines = [{"type": "iter", "epoch": 1, "iter": i, "loss": 5 / (1 + i) + shift, "id_loss": 3 / (1 + i),
                      "hm_loss" if head == "anchor_free" else "conf_loss": 1 / (1 + i)} for i in range(60)]
            lines.append({"type": "epoch", "epoch": 1, "iters": 60, "images": 480, "seconds": 100.0 + seed})
            log.write_text("".join(json.dumps(r) + "\n" for r in lines))
            runs.append((run, {"head": head, "seed": seed}))
            train_dirs[str(run)] = str(log.parent)
    table = write_comparison(runs[0][0], runs[1:], root / "cmp", base_axes=runs[0][1], repeat_axis="seed",
                             train_dirs=train_dirs)
    assert "comparison_seeds_csv" in table["files"]
    dom = _dom(tmp_path, Path(table["files"]["html"]), "?selftest=1")
    seeds = re.search(r'<table id="seeds-table">(.*?)</table>', dom, re.S).group(1)
    rows = re.findall(r"<tr>(.*?)</tr>", seeds.split("<tbody>")[1], re.S)
    assert len(rows) == 2 and "anchor_free (base)" in rows[0] and "1,2" in rows[0]
    assert re.search(r'class="num worse">[\d.]+ \([\d.]+–[\d.]+\)<br><span class="delta">\(-', rows[1])
    assert "<td class=\"num\">102 (101–102)</td>" in dom  # wall times: mean (min-max) of the two seeds
    sizes = json.loads(htmlmod.unescape(re.search(r'<pre id="selftest">(.*?)</pre>', dom, re.S).group(1)))
    curves = [s for s in sizes if s["figure"] == "fig-train-curves"]
    assert curves and curves[0]["visible"] and curves[0]["width"] > 400 and curves[0]["height"] > 100
