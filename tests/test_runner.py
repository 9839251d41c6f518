"""The runner and its run folder: stages timed, files atomic, interrupted runs resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.synthetic import make_sequence
from mot_bench.plugins import Tracker
from mot_bench.registry import TRACKERS, UnknownNameError
from mot_bench.results import TIMING_COLUMNS, RunFolder, RunFolderError
from mot_bench.runner import RunOptions, run
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
    assert result.exit_code != 0 and "valid detectors: " in result.output + str(result.exception)


def test_cli_options_are_typed_strictly(syn_root, tmp_path):
    result = CliRunner().invoke(main, ["run", "--data", str(syn_root), "--tracker", "sort",
                                       "--tracker-opt", "min_hits=three", "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "min_hits='three'" in result.output
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
