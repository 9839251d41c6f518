"""The runner and its run folder: stages timed, files atomic, interrupted runs resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.synthetic import make_sequence
from mot_bench.detectors.public import PublicDetector
from mot_bench.plugins import Tracker
from mot_bench.registry import DETECTORS, TRACKERS, UnknownNameError
from mot_bench.results import TIMING_COLUMNS, RunFolder, RunFolderError
from mot_bench.runner import RunOptions, run, run_many
from mot_bench.types import Tracks


@pytest.fixture()
def syn_root(tmp_path):
    for i in range(2):
        make_sequence(tmp_path / "MOT17" / "train", f"SYN-0{i + 1}", length=20, width=160, height=96, seed=i)
    return tmp_path


class Exploding(Tracker):
    """Copies detections as tracks, and fails on a chosen sequence to simulate an interrupted run."""

    name = "exploding"
    fail_on = ""  # set by the test, deliberately outside the recorded configuration

    def reset(self, seq):
        if seq.name == self.fail_on:
            raise RuntimeError("interrupted")

    def update(self, dets, frame):
        return Tracks(dets.tlbr, np.arange(1, len(dets) + 1), dets.scores)

    def config(self):
        return {"name": self.name}


def test_run_writes_the_run_folder_and_scores_it(syn_root, tmp_path):
    res = run(RunOptions(detector="public", tracker="sort", data=str(syn_root), benchmark="MOT17",
                         out=str(tmp_path / "run"), progress=False))
    folder = RunFolder(tmp_path / "run")
    assert folder.completed_sequences() == {"SYN-01", "SYN-02"}
    timing = folder.read_timing("SYN-01")
    assert len(timing) == 20 and list(timing[0]) == list(TIMING_COLUMNS)
    assert sum(r["warmup"] for r in timing) == 3
    for r in timing:
        assert r["total"] == pytest.approx(sum(r[k] for k in ("read", "preprocess", "model", "postprocess",
                                                              "track", "write")), abs=1e-8)
        assert r["track"] > 0
    metrics = json.loads(folder.metrics_path.read_text())
    assert set(metrics["per_sequence"]) == {"SYN-01", "SYN-02"}
    assert metrics["combined"]["MOTA"] > 0.8  # clean synthetic detections
    assert res.timing["combined"]["frames"] == 2 * 17
    env = folder.read_env()
    assert env["device"] == "cpu" and env["cpu"] and "sync_policy" in env


def test_interrupted_run_resumes_keeping_completed_sequences(syn_root, tmp_path):
    TRACKERS.register("exploding")(Exploding)
    out = tmp_path / "run"
    opts = dict(detector="public", tracker="exploding", data=str(syn_root), benchmark="MOT17", out=str(out),
                progress=False, evaluate=False)
    Exploding.fail_on = "SYN-02"
    with pytest.raises(RuntimeError, match="interrupted"):
        run(RunOptions(**opts))
    folder = RunFolder(out)
    assert folder.completed_sequences() == {"SYN-01"}
    first = folder.result_path("SYN-01").stat().st_mtime_ns
    assert not list(out.rglob("*.tmp"))
    # Same configuration resumes; a different one is refused rather than mixed in.
    TRACKERS.register("exploding2")(Exploding)
    with pytest.raises(RunFolderError, match="different configuration"):
        run(RunOptions(**{**opts, "tracker": "exploding2"}))
    Exploding.fail_on = ""
    res = run(RunOptions(**opts))
    assert res.resumed == ["SYN-01"]
    assert folder.result_path("SYN-01").stat().st_mtime_ns == first
    assert folder.completed_sequences() == {"SYN-01", "SYN-02"}


def test_embedding_tracker_refuses_detector_without_embeddings(syn_root, tmp_path):
    with pytest.raises(ValueError, match="needs re-ID embeddings but detector 'public' provides none"):
        run(RunOptions(detector="public", tracker="fairmot", data=str(syn_root), out=str(tmp_path / "r"),
                       progress=False))


def test_unknown_names_list_the_valid_ones(syn_root, tmp_path):
    with pytest.raises(UnknownNameError, match="unknown tracker 'nope'; valid trackers: .*bytetrack.*sort"):
        run(RunOptions(tracker="nope", data=str(syn_root), out=str(tmp_path / "r"), progress=False))
    result = CliRunner().invoke(main, ["run", "--data", str(syn_root), "--detector", "nope"])
    assert result.exit_code == 2 and "valid detectors: " in result.output and "Traceback" not in result.output


def test_cli_options_are_typed_strictly(syn_root, tmp_path):
    result = CliRunner().invoke(main, ["run", "--data", str(syn_root), "--tracker", "sort",
                                       "--tracker-opt", "min_hits=three", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "min_hits='three'" in result.output
    result = CliRunner().invoke(main, ["run", "--data", str(syn_root), "--tracker", "sort",
                                       "--tracker-opt", "colour=red", "--out", str(tmp_path / "r")])
    assert "has no option 'colour'; valid options: max_age, min_hits, iou_threshold" in result.output


def test_cli_eval_scores_existing_results(syn_root, tmp_path):
    out = tmp_path / "run"
    run(RunOptions(detector="oracle", tracker="sort", data=str(syn_root), out=str(out), progress=False,
                   evaluate=False))
    result = CliRunner().invoke(main, ["eval", "--gt-root", str(syn_root), "--benchmark", "MOT17",
                                       "--results", str(out / "results"), "--json", str(tmp_path / "m.json")])
    assert result.exit_code == 0, result.output
    assert "COMBINED" in result.output and "SYN-02" in result.output
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["combined"]["CLR_FP"] == 0  # oracle boxes without noise are gt boxes


def test_every_command_explains_its_options():
    for cmd in ("run", "eval"):
        result = CliRunner().invoke(main, [cmd, "--help"])
        assert result.exit_code == 0 and "Show this message" in result.output


# --- detect once, track many ---------------------------------------------------------------------------

class CountingDetector(PublicDetector):
    """Public detections, counting the frames it is asked to detect."""

    name = "counting"
    calls = 0

    def __call__(self, frame):
        CountingDetector.calls += 1
        return super().__call__(frame)


@pytest.fixture()
def counting(monkeypatch):
    monkeypatch.setitem(DETECTORS._targets, "counting", CountingDetector)  # restored after the test
    CountingDetector.calls = 0
    return CountingDetector


def _text(path):
    return path.read_text(encoding="utf-8")


def _repeatable(cfg):
    return {k: v for k, v in cfg.items() if k not in ("created", "command")}


def test_several_trackers_share_one_detector_pass(syn_root, tmp_path, counting):
    out = tmp_path / "both"
    results = run_many(RunOptions(detector="counting", trackers=["sort", "bytetrack"], data=str(syn_root),
                                  benchmark="MOT17", tracker_options={"sort": {"min_hits": "2"}, "bytetrack": {}},
                                  out=str(out), progress=False))
    assert counting.calls == 2 * 20  # once per frame, not once per frame per tracker
    assert [r.tracker for r in results] == ["sort", "bytetrack"]
    assert [r.folder.path for r in results] == [out / "sort", out / "bytetrack"]
    # each tracker alone gives the same results, config and scores as in the shared run
    for res, name, opts in zip(results, ("sort", "bytetrack"), ({"min_hits": "2"}, {}), strict=True):
        counting.calls = 0
        alone = run(RunOptions(detector="counting", tracker=name, tracker_options=opts, data=str(syn_root),
                               benchmark="MOT17", out=str(tmp_path / name), progress=False))
        assert counting.calls == 2 * 20
        for seq in ("SYN-01", "SYN-02"):
            assert _text(res.folder.result_path(seq)) == _text(alone.folder.result_path(seq))
        assert _repeatable(res.folder.read_config()) == _repeatable(alone.folder.read_config())
        assert res.folder.read_config()["options"]["tracker_options"] == opts
        assert res.metrics["combined"] == alone.metrics["combined"]
    # per-frame timing in each folder: the detector's stages shared, track/write each tracker's own
    sort_t, byte_t = (r.folder.read_timing("SYN-01") for r in results)
    for a, b in zip(sort_t, byte_t, strict=True):
        for k in ("read", "preprocess", "model", "postprocess", "decode"):
            assert a[k] == b[k]
        assert a["track"] > 0 and b["track"] > 0 and a["track"] != b["track"]
        assert a["total"] == pytest.approx(sum(a[k] for k in ("read", "preprocess", "model", "postprocess",
                                                              "track", "write")), abs=1e-8)


def test_several_trackers_resume_per_folder(syn_root, tmp_path, counting):
    opts = dict(detector="counting", trackers=["sort", "bytetrack"], data=str(syn_root), out=str(tmp_path / "r"),
                progress=False, evaluate=False)
    run_many(RunOptions(**opts))
    sort_folder, byte_folder = RunFolder(tmp_path / "r" / "sort"), RunFolder(tmp_path / "r" / "bytetrack")
    kept = sort_folder.result_path("SYN-02").stat().st_mtime_ns
    byte_folder.result_path("SYN-02").unlink()  # as if bytetrack's folder was interrupted there
    counting.calls = 0
    results = run_many(RunOptions(**opts))
    assert counting.calls == 20  # only SYN-02, only for the folder that misses it
    assert [r.resumed for r in results] == [["SYN-01", "SYN-02"], ["SYN-01"]]
    assert sort_folder.result_path("SYN-02").stat().st_mtime_ns == kept
    assert byte_folder.completed_sequences() == {"SYN-01", "SYN-02"}
    counting.calls = 0
    run_many(RunOptions(**opts))
    assert counting.calls == 0  # complete in every folder: the detector is not run at all


def test_a_mismatched_folder_is_refused_before_any_folder_is_written(syn_root, tmp_path, counting):
    out = tmp_path / "r"
    run(RunOptions(detector="counting", tracker="bytetrack", data=str(syn_root), out=str(out / "bytetrack"),
                   tracker_options={"track_thresh": "0.7"}, progress=False, evaluate=False))
    with pytest.raises(RunFolderError, match="different configuration"):
        run_many(RunOptions(detector="counting", trackers=["sort", "bytetrack"], data=str(syn_root), out=str(out),
                            progress=False, evaluate=False))
    assert not (out / "sort").exists()


def test_run_options_keep_single_tracker_callers_working():
    one = RunOptions(tracker="sort", tracker_options={"min_hits": "2"})
    assert one.trackers == ["sort"] and one.tracker == "sort" and one.tracker_options == {"sort": {"min_hits": "2"}}
    assert RunOptions().trackers == ["sort"]
    many = RunOptions(trackers=["sort", "bytetrack"], tracker_options={"max_age": "5"}, out="o")
    assert many.tracker is None and many.tracker_options == {"sort": {"max_age": "5"}, "bytetrack": {"max_age": "5"}}
    assert many.out_for("sort") == Path("o/sort") and one.out_for("sort") == one.default_out("sort")
    with pytest.raises(ValueError, match="use run_many"):
        run(many)
    with pytest.raises(ValueError, match="disagree"):
        RunOptions(tracker="sort", trackers=["bytetrack"])
    with pytest.raises(ValueError, match="more than once"):
        RunOptions(trackers=["sort", "sort"])


# FairMOT end to end on the sample with the bundled checkpoint (README command 1's FairMOT row). Refresh after an
# intended change of the checkpoint, the network or the tracker:
#   mot-bench run    (the main job)
#   mot-bench check runs/MOT15-train-fairmot-fairmot --write-baseline tests/baselines/sample_fairmot.json
FAIRMOT_BASELINE = Path(__file__).resolve().parent / "baselines" / "sample_fairmot.json"


def test_default_cli_run_feeds_every_motion_only_tracker_from_one_detector_pass(tmp_path, monkeypatch):
    """README's first command: the bundled sample, public detections feeding every motion-only tracker, then the
    bundled FairMOT checkpoint feeding FairMOT's own tracker (a second detector pass); one summary table."""
    from mot_bench.detectors.fairmot.detector import FairMOTDetector

    calls, network = [], []
    original = PublicDetector.__call__
    monkeypatch.setattr(PublicDetector, "__call__", lambda self, frame: calls.append(frame.frame_id)
                        or original(self, frame))
    detect = FairMOTDetector.detect_images
    monkeypatch.setattr(FairMOTDetector, "detect_images", lambda self, images: network.extend([1] * len(images))
                        or detect(self, images))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "--no-progress"])
    assert result.exit_code == 0, result.output
    motion_only = [n for n in TRACKERS.names() if getattr(TRACKERS.get(n), "motion_only", False)]
    assert len(motion_only) >= 2
    assert calls == list(range(1, 72))  # TUD-Campus: 71 frames, each detected once
    assert len(network) == 71  # and once through FairMOT's network
    for name in motion_only:
        folder = RunFolder(tmp_path / "runs" / f"MOT15-train-public-{name}")
        assert folder.completed_sequences() == {"TUD-Campus"} and folder.read_metrics()["combined"]["HOTA"] > 0
        assert f"public+{name}" in result.output
    fairmot = RunFolder(tmp_path / "runs" / "MOT15-train-fairmot-fairmot")
    assert fairmot.completed_sequences() == {"TUD-Campus"} and "\nfairmot+fairmot " in result.output
    config = fairmot.read_config()
    assert config["detector"]["bundled_weights"] and config["tracker"]["conf_thres"] == config["detector"]["conf_thres"]
    check = CliRunner().invoke(main, ["check", str(fairmot.path), "--baseline", str(FAIRMOT_BASELINE)])
    assert check.exit_code == 0, check.output
    assert "PASS:" in check.output and "'fairmot+fairmot'" in check.output


@pytest.mark.usefixtures("torch_one_thread")
def test_fairmot_network_runs_once_for_two_trackers(tmp_path, monkeypatch):
    from mot_bench.detectors.fairmot.detector import FairMOTDetector

    make_sequence(tmp_path / "d", "SYN-01", length=4, width=128, height=64, seed=0)
    seen = []
    original = FairMOTDetector.detect_images
    monkeypatch.setattr(FairMOTDetector, "detect_images", lambda self, images: seen.extend([1] * len(images))
                        or original(self, images))
    opts = {"allow_random": "true", "arch": "dla_tiny", "head_conv": "16", "input_width": "128",
            "input_height": "64"}
    results = run_many(RunOptions(detector="fairmot", detector_options=opts, trackers=["fairmot", "sort"],
                                  data=str(tmp_path / "d"), out=str(tmp_path / "r"), progress=False, evaluate=False))
    assert len(seen) == 4  # one forward per frame, not one per frame per tracker
    assert [r.folder.completed_sequences() for r in results] == [{"SYN-01"}, {"SYN-01"}]
