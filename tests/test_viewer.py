"""``mot-bench show``: the frame viewer and video, on a sequence with images (TUD-Campus, PETS09-S2L1) and
on one without (MOT17-09, drawn on a neutral canvas), streamed frame by frame."""

from __future__ import annotations

import base64
import re
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from reports_helpers import real_sample_run

from mot_bench.reports import load_run
from mot_bench.reports.commands import show as show_cmd
from mot_bench.reports.viewer import CANVAS_BGR, show
from mot_bench.runner import RunOptions, run


def _frames(html_path: Path) -> list[np.ndarray]:
    html = html_path.read_text()
    blobs = re.findall(r'<img class="frame" data-frame="\d+"[^>]*src="data:image/jpeg;base64,([^"]+)"', html)
    return [cv2.imdecode(np.frombuffer(base64.b64decode(b), np.uint8), cv2.IMREAD_COLOR) for b in blobs]


def _video_frames(path: Path) -> tuple[int, tuple[int, int]]:
    cap = cv2.VideoCapture(str(path))
    n, size = 0, (0, 0)
    while True:
        ok, img = cap.read()
        if not ok:
            break
        n, size = n + 1, img.shape[:2]
    cap.release()
    return n, size


@pytest.fixture(scope="module")
def mot17_runs(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """ByteTrack and SORT on MOT17-09 half-val (YOLOX-X boxes): a sequence without images."""
    out = tmp_path_factory.mktemp("mot17")
    run_many = [run(RunOptions(detector="public", tracker=t, data=str(shared_data), benchmark="MOT17",
                               split="half-val", seqs=["MOT17-09-SDP"], progress=False, out=str(out / t),
                               detector_options={"det_dir": str(shared_data / "detections" / "MOT17" /
                                                                 "YOLOX_X_ablation")}))
                for t in ("bytetrack", "sort")]
    return run_many[0].folder.path, run_many[1].folder.path


def test_viewer_and_video_with_images(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    sample = real_sample_run(tmp_path_factory.mktemp("v"), "sort")
    files = show(load_run(sample), "TUD-Campus", html_out=tmp_path / "v.html", video=tmp_path / "v.mp4")
    frames = _frames(Path(files["html"]))
    assert len(frames) == 71 and frames[0].shape == (480, 640, 3)
    assert frames[0].std() > 20  # the photograph, not a flat canvas
    assert _video_frames(tmp_path / "v.mp4") == (71, (480, 640))
    html = Path(files["html"]).read_text()
    assert '"images":true' in html and "IDSW: gt" in html  # the frames' switches are listed
    # a clip, reduced, as Motion JPEG
    files = show(load_run(sample), "TUD-Campus", frames="10:20", html_out=tmp_path / "c.html",
                 video=tmp_path / "c.avi", max_width=320)
    assert [f.shape for f in _frames(tmp_path / "c.html")] == [(240, 320, 3)] * 11
    assert _video_frames(tmp_path / "c.avi") == (11, (240, 320))
    assert not list(tmp_path.glob(".*.tmp*"))  # the temporary files were renamed


def test_viewer_without_images_draws_a_canvas(mot17_runs, tmp_path: Path) -> None:
    byte, sort = mot17_runs
    files = show(load_run(byte), "MOT17-09-SDP", compare=load_run(sort), frames="300:319", html_out=tmp_path / "m.html")
    frames = _frames(Path(files["html"]))
    assert len(frames) == 20 and frames[0].shape == (540, 960 * 2 + 6, 3)  # 1920x1080 halved, two panels
    corner = frames[0][-3:, 3:6].reshape(-1, 3).mean(axis=0)
    assert np.abs(corner - np.array(CANVAS_BGR)).max() < 8  # the neutral canvas (JPEG-rounded)
    assert frames[0][:, 963:966].mean() > 240  # the white gap between the panels
    html = Path(files["html"]).read_text()
    assert '"images":false' in html and '"runs":["public+bytetrack","public+sort"]' in html


@pytest.mark.slow
def test_long_sequences_stream(shared_data: Path, tmp_path: Path) -> None:
    """200 frames of PETS09-S2L1 (768x576 images): the Python heap never holds more than a few frames
    (a whole-clip array would be 265 MB)."""
    res = run(RunOptions(detector="public", tracker="sort", data=str(shared_data), benchmark="MOT15",
                         seqs=["PETS09-S2L1"], progress=False, out=str(tmp_path / "pets")))
    summary = load_run(res.folder.path)
    tracemalloc.start()
    try:
        show(summary, "PETS09-S2L1", frames="1:200", html_out=tmp_path / "p.html", video=tmp_path / "p.mp4")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40e6, peak
    assert len(_frames(tmp_path / "p.html")) == 200 and _video_frames(tmp_path / "p.mp4")[0] == 200


def test_show_command_errors(mot17_runs, tmp_path: Path) -> None:
    byte, _ = mot17_runs
    runner = CliRunner()
    res = runner.invoke(show_cmd, [str(byte), "--frames", "1:5", "--out", str(tmp_path / "x.html")])
    assert res.exit_code == 2 and "must lie inside the run's frames 264:525" in res.output
    res = runner.invoke(show_cmd, [str(byte), "--video", str(tmp_path / "x.gif"), "--frames", "300:301"])
    assert res.exit_code == 2 and "unsupported extension" in res.output
    res = runner.invoke(show_cmd, [str(byte), "--seq", "MOT17-02-SDP"])
    assert res.exit_code == 2 and "no sequence MOT17-02-SDP" in res.output
    res = runner.invoke(show_cmd, [str(byte), "--frames", "300:302", "--out", str(tmp_path / "ok.html")])
    assert res.exit_code == 0 and (tmp_path / "ok.html").is_file()
