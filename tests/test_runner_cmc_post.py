"""The runner's camera motion (warps computed once per sequence, cached, handed to the tracker as
``frame.camera_motion``) and its opt-in post-processing (raw rows kept, post-processed ones scored)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data import frames as frames_mod
from mot_bench.data.motfile import read_mot_file
from mot_bench.data.synthetic import make_sequence
from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.registry import TRACKERS
from mot_bench.results import RunFolder, RunFolderError
from mot_bench.runner import RunOptions, resolve_postprocess, run
from mot_bench.trackers.common import cmc
from mot_bench.types import Tracks

YOLOX = ("detections", "MOT17", "YOLOX_X_ablation")
GMC = ("gmc", "BoT-SORT", "MOT17_ablation")


@pytest.fixture()
def syn_root(tmp_path):
    for i in range(2):
        make_sequence(tmp_path / "data" / "MOT17" / "train", f"SYN-0{i + 1}", length=20, width=160, height=96,
                      seed=i)
    return tmp_path / "data"


@dataclass
class RecordingOptions:
    cmc_method: str = option("sparseOptFlow", "camera-motion method")
    cmc_downscale: int = option(2, "downscale", bounds=(1, None))
    gmc_dir: str | None = option(None, "GMC folder")


class Recording(Tracker):
    """Writes detections as tracks and records the warp each frame brought."""

    name = "recording"
    needs_camera_motion = True
    Options = RecordingOptions
    seen: dict[str, list] = {}

    def reset(self, seq):
        self._seq = seq.name
        Recording.seen[seq.name] = []

    def update(self, dets, frame):
        warp = frame.camera_motion
        Recording.seen[self._seq].append(None if warp is None else np.array(warp))
        return Tracks(dets.tlbr, np.arange(1, len(dets) + 1), dets.scores)


@pytest.fixture()
def counting(monkeypatch):
    """Counts image decodes and motion-estimator calls."""
    counts = {"decode": 0, "estimate": 0}
    decode, estimate = frames_mod.decode_image, cmc.MotionEstimator.__call__

    def counted_decode(seq, frame_id):
        counts["decode"] += 1
        return decode(seq, frame_id)

    def counted_estimate(self, image, boxes=None):
        counts["estimate"] += 1
        return estimate(self, image, boxes)

    monkeypatch.setattr(frames_mod, "decode_image", counted_decode)
    monkeypatch.setattr(cmc.MotionEstimator, "__call__", counted_estimate)
    return counts


def test_warps_are_computed_once_cached_and_handed_to_the_tracker(syn_root, tmp_path, counting):
    TRACKERS.register("recording")(Recording)
    cache = tmp_path / "cmc"
    opts = dict(detector="public", tracker="recording", data=str(syn_root), benchmark="MOT17", progress=False,
                evaluate=False, cmc_cache=str(cache))
    run(RunOptions(out=str(tmp_path / "a"), **opts))
    # public detections need no pixels: every decode was for the warps, one per frame, then one estimate each
    assert counting == {"decode": 40, "estimate": 40}
    files = sorted(cache.rglob("*.npy"))
    assert [f.parent.name.split("-")[:2] for f in files] == [["SYN", "01"], ["SYN", "02"]]
    assert [f.name for f in files] == ["SYN-01-sparseOptFlow-1-20-d2-r2.npy", "SYN-02-sparseOptFlow-1-20-d2-r2.npy"]
    for f in files:
        seq = f.parent.name.rsplit("-", 1)[0]
        np.testing.assert_array_equal(np.stack(Recording.seen[seq]), np.load(f))
        assert np.array_equal(Recording.seen[seq][0], np.eye(2, 3))  # the first frame: identity

    # The cache is what the tracker gets: plant known warps, run again (another folder, same cache).
    planted = np.repeat(np.eye(2, 3)[None], 20, axis=0)
    planted[:, 0, 2] = np.arange(20)
    np.save(files[0], planted)
    counting.update(decode=0, estimate=0)
    res = run(RunOptions(out=str(tmp_path / "b"), **opts))
    assert counting == {"decode": 0, "estimate": 0}  # no pixels, no recompute
    np.testing.assert_array_equal(np.stack(Recording.seen["SYN-01"]), planted)
    cfg = res.folder.read_config()
    assert cfg["camera_motion"] == {"method": "sparseOptFlow", "downscale": 2, "gmc_dir": None,
                                    "provided_by": "runner"}
    assert res.folder.read_env()["cmc_cache"] == str(cache)
    timing = res.folder.read_timing("SYN-01")
    for r in timing:  # the sequence's warp time, shared by its frames, is part of the total
        assert r["cmc"] > 0
        assert r["total"] == pytest.approx(sum(r[k] for k in ("read", "preprocess", "model", "postprocess",
                                                              "track", "write", "cmc", "track_post")), abs=1e-8)

    # Another downscale is another key (computed again); 'off' never writes a cache.
    run(RunOptions(out=str(tmp_path / "c"), **{**opts, "tracker_options": {"cmc_downscale": 1}}))
    assert counting["estimate"] == 40 and len(list(cache.rglob("*-d1-r2.npy"))) == 2
    run(RunOptions(out=str(tmp_path / "d"), **{**opts, "cmc_cache": "off"}))
    assert len(list(cache.rglob("*.npy"))) == 4


def test_methods_without_pixels_decode_nothing_and_the_default_cache_sits_beside_the_run(syn_root, tmp_path,
                                                                                          counting):
    TRACKERS.register("recording")(Recording)
    out = tmp_path / "runs" / "x"
    run(RunOptions(detector="public", tracker="recording", data=str(syn_root), benchmark="MOT17", progress=False,
                   evaluate=False, out=str(out), tracker_options={"cmc_method": "none"}))
    assert counting == {"decode": 0, "estimate": 0}
    assert all(np.array_equal(w, np.eye(2, 3)) for w in Recording.seen["SYN-02"])
    assert RunOptions(out=str(out)).cmc_cache_dir() == tmp_path / "runs" / ".cache" / "cmc"
    # several trackers: out holds their run folders; the cache sits beside out all the same
    several = RunOptions(trackers=["sort", "botsort"], out=str(out))
    assert several.cmc_cache_dir() == tmp_path / "runs" / ".cache" / "cmc"
    assert RunOptions().cmc_cache_dir() == Path("runs") / ".cache" / "cmc"
    assert not (tmp_path / "runs" / ".cache").exists()  # 'none' is never cached


def test_botsort_gets_the_official_gmc_file_through_the_runner(shared_data, tmp_path, counting):
    """BoT-SORT fed by the runner's cached file warps writes exactly what it writes reading the file
    itself; MOT17-09-SDP half-val, YOLOX-X detections (tools/track.py's protocol)."""
    common = dict(detector="public", tracker="botsort", data=str(shared_data), benchmark="MOT17", split="half-val",
                  seqs=["MOT17-09-SDP"], detector_options={"det_dir": str(shared_data.joinpath(*YOLOX))},
                  progress=False, evaluate=False)
    gmc_dir = str(shared_data.joinpath(*GMC))
    fed = run(RunOptions(out=str(tmp_path / "fed"), tracker_options={"gmc_dir": gmc_dir},
                         cmc_cache=str(tmp_path / "cache"), **common))
    assert counting["decode"] == 0
    assert len(list((tmp_path / "cache").rglob("MOT17-09-SDP-file-264-525-*.npy"))) == 1
    assert fed.folder.read_config()["camera_motion"]["provided_by"] == "runner"

    class SelfServed(TRACKERS.get("botsort")):  # the same tracker, asking the runner for nothing
        name = "botsort_self"
        needs_camera_motion = False

    TRACKERS.register("botsort_self")(SelfServed)
    own = run(RunOptions(out=str(tmp_path / "own"), **{**common, "tracker": "botsort_self"},
                         tracker_options={"gmc_dir": gmc_dir}))
    a = read_mot_file(fed.folder.result_path("MOT17-09-SDP"), "result")
    b = read_mot_file(own.folder.result_path("MOT17-09-SDP"), "result")
    assert len(a) > 1000
    np.testing.assert_array_equal(a, b)


def test_file_method_without_gmc_dir_is_refused_up_front(syn_root, tmp_path):
    TRACKERS.register("recording")(Recording)
    with pytest.raises(ValueError, match="needs gmc_dir"):
        run(RunOptions(detector="public", tracker="recording", data=str(syn_root), benchmark="MOT17",
                       progress=False, evaluate=False, out=str(tmp_path / "r"),
                       tracker_options={"cmc_method": "file"}))
    assert not (tmp_path / "r").exists()


# -- post-processing ------------------------------------------------------------------------------
def _gapped_root(tmp_path) -> Path:
    """Two synthetic sequences whose det.txt lose every box of frames 15-17 (a gap ByteTrack bridges)."""
    root = tmp_path / "data"
    for i in range(2):
        seq = make_sequence(root / "MOT17" / "train", f"SYN-0{i + 1}", length=40, width=320, height=192,
                            num_people=3, seed=i, write_images=False)
        det = seq / "det" / "det.txt"
        lines = [ln for ln in det.read_text().splitlines(keepends=True) if int(ln.split(",")[0]) not in (15, 16, 17)]
        det.write_text("".join(lines))
    return root


def _invoke(args):
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res


def test_interpolate_fills_the_gap_the_raw_run_leaves_is_recorded_and_resumes(tmp_path):
    root = _gapped_root(tmp_path)
    out = tmp_path / "run"
    args = ["run", "--data", str(root), "--benchmark", "MOT17", "--tracker", "bytetrack", "--out", str(out),
            "--no-progress", "--postprocess", "interpolate", "--postprocess-opt", "interpolate.min_len=5"]
    _invoke(args)
    folder = RunFolder(out)
    raw = read_mot_file(folder.raw_result_path("SYN-01"), "result")
    done = read_mot_file(folder.result_path("SYN-01"), "result")
    assert not np.isin(raw[:, 0], (15, 16, 17)).any()
    ids = np.unique(raw[:, 1])
    filled = done[np.isin(done[:, 0], (15, 16, 17))]
    assert len(filled) == 3 * len(ids) and set(filled[:, 1]) == set(ids)  # every track bridged, same ids
    assert np.array_equal(done[~np.isin(done[:, 0], (15, 16, 17))], raw)  # the tracker's rows untouched
    cfg = folder.read_config()
    assert cfg["postprocess"] == [{"name": "interpolate", "max_gap": 20, "min_len": 5,
                                   "source": "ByteTrack tools/interpolation.py dti (same in OC-SORT)"}]
    timing = folder.read_timing("SYN-01")
    assert all(r["track_post"] > 0 and r["cmc"] == 0 for r in timing)
    post_ms = folder.timing_summary()["combined"]["ms_per_frame"]["track_post"]
    assert post_ms > 0

    # Scored on the post-processed rows: better than the raw rows of the same run (no FN in the gap).
    metrics = folder.read_metrics()["combined"]
    _invoke(["eval", "--gt-root", str(root), "--benchmark", "MOT17", "--results", str(folder.raw_results_dir),
             "--json", str(tmp_path / "raw.json")])
    raw_metrics = json.loads((tmp_path / "raw.json").read_text())["combined"]
    assert metrics["CLR_FN"] < raw_metrics["CLR_FN"] and metrics["MOTA"] > raw_metrics["MOTA"]

    # Resume: an interrupted second sequence is redone, the first kept; other options are refused.
    kept = folder.result_path("SYN-01").stat().st_mtime_ns
    folder.result_path("SYN-02").unlink()
    _invoke(args)
    assert folder.result_path("SYN-01").stat().st_mtime_ns == kept
    assert np.isin(read_mot_file(folder.result_path("SYN-02"), "result")[:, 0], (15, 16, 17)).any()
    with pytest.raises(RunFolderError, match="postprocess"):
        run(RunOptions(detector="public", tracker="bytetrack", data=str(root), benchmark="MOT17", out=str(out),
                       progress=False, postprocess=["interpolate"]))
    # Without post-processing nothing changes: no results_raw/, no postprocess key (old folders resume).
    plain = run(RunOptions(detector="public", tracker="bytetrack", data=str(root), benchmark="MOT17",
                           out=str(tmp_path / "plain"), progress=False))
    assert not plain.folder.raw_results_dir.exists() and "postprocess" not in plain.folder.read_config()
    np.testing.assert_array_equal(read_mot_file(plain.folder.result_path("SYN-01"), "result"), raw)


def test_postprocess_options_are_checked():
    assert resolve_postprocess(["interpolate", "gsi"], {"interval": "10"}) == (
        ["interpolate", "gsi"], {"interpolate": {"max_gap": 20, "min_len": 25}, "gsi": {"interval": 10, "tau": 10.0}})
    assert resolve_postprocess(["gsi"], {"gsi": {"tau": 5}})[1] == {"gsi": {"interval": 20, "tau": 5.0}}
    with pytest.raises(ValueError, match="known: gsi, interpolate"):
        RunOptions(postprocess=["smooth"])
    with pytest.raises(ValueError, match="belongs to none"):
        RunOptions(postprocess=["interpolate"], postprocess_options={"tau": 3})
    with pytest.raises(ValueError, match="without a post-processing method"):
        RunOptions(postprocess_options={"max_gap": 3})
    with pytest.raises(ValueError, match="more than once"):
        RunOptions(postprocess=["gsi", "gsi"])
    with pytest.raises(ValueError, match="must be int"):
        RunOptions(postprocess=["interpolate"], postprocess_options={"interpolate.max_gap": "2.5"})
