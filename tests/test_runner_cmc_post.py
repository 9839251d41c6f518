"""The runner's camera motion (warps computed once per sequence, cached, handed to the tracker as
``frame.camera_motion``) and its opt-in post-processing (raw rows kept, post-processed ones scored)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from mot_bench.data import frames as frames_mod
from mot_bench.data.motfile import read_mot_file
from mot_bench.data.synthetic import make_sequence
from mot_bench.options import option
from mot_bench.plugins import Tracker
from mot_bench.registry import TRACKERS
from mot_bench.runner import RunOptions, run
from mot_bench.types import Tracks
from trackers.common import cmc

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
    assert [f.name for f in files] == ["SYN-01-sparseOptFlow-1-20-d2.npy", "SYN-02-sparseOptFlow-1-20-d2.npy"]
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
    assert counting["estimate"] == 40 and len(list(cache.rglob("*-d1.npy"))) == 2
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
