"""mot-bench tune: the applied parameters are the recorded ones, studies resume after a kill, the Ray
path equals the process pool, and a bad space or objective fails before any trial runs."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.tune import TuneError, TuneOptions, Workload, build_space, resolve_objectives, split_protocol, tune

REPO = Path(__file__).resolve().parents[1]
YOLOX = Path("detections/MOT17/YOLOX_X_ablation")


def _trials(folder: Path) -> list[dict[str, str]]:
    with open(folder / "trials.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _sample_opts(out: Path, **kw) -> TuneOptions:
    """SORT on the bundled TUD-Campus sample: a trial takes a few hundredths of a second."""
    base = {"tracker": "sort", "out": str(out), "trials": 6, "confirm": False}
    base.update(kw)
    return TuneOptions(**base)


def test_recorded_trial_reruns_identically_through_mot_bench_run(tmp_path, shared_data):
    """ByteTrack on real YOLOX-X detections (MOT17-05 half-val): a tuned trial's recorded parameters, fed to
    `mot-bench run --tracker-config best.json`, give the trial's metrics exactly; the tune's own confirmation
    run (TrackEval) agrees too."""
    det_dir = shared_data / YOLOX
    out = tmp_path / "study"
    summary = tune(TuneOptions(tracker="bytetrack", out=str(out), data=str(shared_data), benchmark="MOT17",
                               split="half-val", seqs=["MOT17-05-SDP"], detector_options={"det_dir": str(det_dir)},
                               trials=3, sampler="random", seed=3))
    assert summary["confirm"] and all(e["matches_trial"] for e in summary["confirm"].values())
    rows = [r for r in _trials(out) if r["state"] == "COMPLETE" and r["defaults"] == "0"]
    assert rows, "the random sampler should have run non-default trials"
    trial = rows[0]
    params = {k: float(trial[k]) if k != "track_buffer" else int(trial[k]) for k in summary["space"]}
    cfg = tmp_path / "trial.json"
    cfg.write_text(json.dumps({"tracker": "bytetrack", "options": params}))
    run_dir = tmp_path / "rerun"
    res = CliRunner().invoke(main, ["run", "--data", str(shared_data), "--benchmark", "MOT17", "--split", "half-val",
                                    "--seqs", "MOT17-05-SDP", "--det-dir", str(det_dir), "--tracker-config", str(cfg),
                                    "--out", str(run_dir), "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    combined = json.loads((run_dir / "metrics.json").read_text())["combined"]
    for metric in ("HOTA", "MOTA", "IDF1", "IDSW", "CLR_FP", "CLR_FN", "AssA", "DetA"):
        assert combined[metric] == float(trial[metric]), metric
    config = json.loads((run_dir / "config.json").read_text())
    for key, value in params.items():
        assert config["tracker"][key] == value
    # best.json is usable as it is
    best = json.loads((out / "best.json").read_text())
    assert best["tracker"] == "bytetrack" and set(best["options"]) == set(summary["space"])
    html = (out / "report" / "index.html").read_text()
    assert 'id="tuning"' in html and "Optimisation history" in html and "Parallel coordinates" in html


def test_botsort_file_warps_through_the_tuner_match_mot_bench_run(tmp_path, shared_data):
    """BoT-SORT (cmc_method file, the official GMC files via gmc_dir): a tuner trial is handed the runner's
    warps and scores exactly what `mot-bench run` of the same configuration scores (MOT17-09 half-val,
    YOLOX-X)."""
    det_dir = shared_data / YOLOX
    gmc_dir = str(shared_data / "gmc" / "BoT-SORT" / "MOT17_ablation")
    cache = tmp_path / "cmc"
    spec = {"tracker": "botsort", "fixed": {"gmc_dir": gmc_dir, "cmc_method": "file"}, "data": str(shared_data),
            "benchmark": "MOT17", "split": "half-val", "seqs": ["MOT17-09-SDP"], "detector": "public",
            "detector_options": {"det_dir": str(det_dir)}, "cmc_cache": str(cache)}
    params = {"track_high_thresh": 0.55, "match_thresh": 0.75}
    w = Workload(spec)
    result = w.run_trial(params)
    assert "error" not in result, result.get("traceback")
    assert list(w.warps) == [("MOT17-09-SDP", ("file", 1, gmc_dir))]
    assert len(list(cache.rglob("MOT17-09-SDP-file-264-525-*.npy"))) == 1
    cfg = tmp_path / "trial.json"
    cfg.write_text(json.dumps({"tracker": "botsort", "options": {**spec["fixed"], **params}}))
    run_dir = tmp_path / "rerun"
    res = CliRunner().invoke(main, ["run", "--data", str(shared_data), "--benchmark", "MOT17", "--split", "half-val",
                                    "--seqs", "MOT17-09-SDP", "--det-dir", str(det_dir), "--tracker-config", str(cfg),
                                    "--out", str(run_dir), "--no-progress", "--cmc-cache", str(cache)],
                         catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads((run_dir / "config.json").read_text())["camera_motion"]["provided_by"] == "runner"
    combined = json.loads((run_dir / "metrics.json").read_text())["combined"]
    assert result["metrics"]["HOTA"] > 0.5
    for metric in ("HOTA", "MOTA", "IDF1", "IDSW", "CLR_FP", "CLR_FN", "AssA", "DetA"):
        assert combined[metric] == result["metrics"][metric], metric


def test_pixel_warps_reach_the_tuned_tracker_as_the_runner_caches_them(tmp_path):
    """sparseOptFlow on a tiny synthetic sequence with images: the tuner computes each distinct request's
    warps once per worker (cached where the runner caches them) and every trial's tracker gets them."""
    from dataclasses import dataclass

    from mot_bench.data.synthetic import make_sequence
    from mot_bench.options import option
    from mot_bench.plugins import Tracker
    from mot_bench.registry import TRACKERS
    from mot_bench.runner import RunOptions, run
    from mot_bench.types import Tracks

    make_sequence(tmp_path / "data" / "MOT17" / "train", "SYN-01", length=12, width=160, height=96, seed=0)

    @dataclass
    class RecordingOptions:
        cmc_method: str = option("sparseOptFlow", "camera-motion method")
        cmc_downscale: int = option(2, "downscale", bounds=(1, None))
        gmc_dir: str | None = option(None, "GMC folder")

    class Recording(Tracker):
        name = "tune_recording"
        needs_camera_motion = True
        Options = RecordingOptions
        seen: list = []

        def reset(self, seq):
            Recording.seen.clear()

        def update(self, dets, frame):
            Recording.seen.append(None if frame.camera_motion is None else np.array(frame.camera_motion))
            return Tracks(dets.tlbr, np.arange(1, len(dets) + 1), dets.scores)

    TRACKERS.register("tune_recording")(Recording)
    cache = tmp_path / "cmc"
    run(RunOptions(detector="public", tracker="tune_recording", data=str(tmp_path / "data"), benchmark="MOT17",
                   progress=False, evaluate=False, out=str(tmp_path / "run"), cmc_cache=str(cache)))
    runner_seen = [w.copy() for w in Recording.seen]
    (cached,) = cache.rglob("SYN-01-sparseOptFlow-1-12-d2-r2.npy")
    np.testing.assert_array_equal(np.stack(runner_seen), np.load(cached))
    assert not np.allclose(np.stack(runner_seen), np.eye(2, 3))  # the synthetic camera moves

    spec = {"tracker": "tune_recording", "fixed": {}, "data": str(tmp_path / "data"), "benchmark": "MOT17",
            "split": "train", "seqs": ["SYN-01"], "detector": "public", "cmc_cache": str(tmp_path / "fresh")}
    w = Workload(spec)
    w.track({})  # computed from the pixels (a fresh cache): the runner's warps
    np.testing.assert_array_equal(np.stack(Recording.seen), np.load(cached))
    w.track({"cmc_method": "none"})  # another request, another entry; "none" is the identity
    assert all(np.array_equal(m, np.eye(2, 3)) for m in Recording.seen)
    w.track({})
    np.testing.assert_array_equal(np.stack(Recording.seen), np.load(cached))
    assert set(w.warps) == {("SYN-01", ("sparseOptFlow", 2, None)), ("SYN-01", ("none", 2, None))}
    assert len(list((tmp_path / "fresh").rglob("*.npy"))) == 1
    # a worker given the runner's cache loads the warps (no pixels)
    w2 = Workload({**spec, "cmc_cache": str(cache)})
    w2.track({})
    np.testing.assert_array_equal(np.stack(Recording.seen), np.stack(runner_seen))


def test_different_parameters_give_different_tracks(shared_data):
    spec = {"tracker": "bytetrack", "fixed": {}, "data": str(shared_data), "benchmark": "MOT17", "split": "half-val",
            "seqs": ["MOT17-09-SDP"], "detector": "public",
            "detector_options": {"det_dir": str(shared_data / YOLOX)}}
    w = Workload(spec)
    a = w.track({})["MOT17-09-SDP"]
    b = w.track({"track_thresh": 0.3, "track_buffer": 90})["MOT17-09-SDP"]
    again = w.track({})["MOT17-09-SDP"]
    assert np.array_equal(a, again)  # a fresh tracker per trial: nothing leaks from the previous one
    assert a.shape != b.shape or not np.array_equal(a, b)
    ra, rb = w.run_trial({}), w.run_trial({"track_thresh": 0.3, "track_buffer": 90})
    assert ra["metrics"]["HOTA"] != rb["metrics"]["HOTA"]


# The study run in a child process: the fifth trial to start writes its parameters to the marker file and
# then blocks, so the signal is sent while that trial is running, for sure. (SIGINT: Python's own handler
# is installed, as in a terminal, even if the test runs where SIGINT is ignored.)
_GATED_STUDY = """
import json, signal, sys, time
from mot_bench import tune
from mot_bench.cli import main

signal.signal(signal.SIGINT, signal.default_int_handler)
marker, argv = sys.argv[1], sys.argv[2:]
run_trial, started = tune.Workload.run_trial, []

def gated(self, params):
    started.append(params)
    if len(started) == 5:
        with open(marker + ".tmp", "w") as fh:
            json.dump(params, fh)
        import os
        os.replace(marker + ".tmp", marker)
        while True:
            time.sleep(0.05)
    return run_trial(self, params)

tune.Workload.run_trial = gated
sys.argv = ["mot-bench", *argv]
main()
"""


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_resume_after_a_killed_study(tmp_path, sig):
    """Kill a study while its fifth trial runs (SIGKILL: no clean-up at all; SIGINT: Ctrl-C), re-run the same
    command: the four complete trials are kept as they were, the interrupted one is failed and its parameters
    run again in exactly one later trial, and trials.csv lists every trial exactly once, --trials of them
    complete."""
    out = tmp_path / "study"
    marker = tmp_path / "running.json"
    argv = ["tune", "--tracker", "sort", "--trials", "2000", "--no-confirm", "--sampler", "random", "--out", str(out)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _GATED_STUDY, str(marker), *argv], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not marker.exists() and proc.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        assert marker.exists(), f"the fifth trial never started: {proc.stderr.read().decode()[-2000:]}"
    finally:
        proc.send_signal(sig)
        proc.wait(30)
        proc.stderr.close()
    assert proc.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 130)  # Ctrl-C: 130, as run
    running = json.loads(marker.read_text())
    import optuna

    study = optuna.load_study(study_name="tune-sort", storage=f"sqlite:///{out / 'study.db'}")
    before = {t.number: t for t in study.trials}
    assert [t.state.name for t in before.values()] == ["COMPLETE"] * 4 + [
        "RUNNING" if sig == signal.SIGKILL else "FAIL"] + (["WAITING"] if sig == signal.SIGINT else [])
    interrupted = before[4]
    assert interrupted.params == running  # the trial the signal interrupted
    target = 7
    summary = tune(_sample_opts(out, trials=target, sampler="random"))
    study = optuna.load_study(study_name="tune-sort", storage=f"sqlite:///{out / 'study.db'}")
    assert [t.state.name for t in study.trials].count("COMPLETE") == target == summary["trials_complete"]
    rows = _trials(out)
    assert [int(r["trial"]) for r in rows] == [t.number for t in study.trials] == list(range(len(rows)))
    by_number = {int(r["trial"]): r for r in rows}
    for t in before.values():  # completed trials were kept as they were
        if t.state.name == "COMPLETE":
            assert by_number[t.number]["state"] == "COMPLETE" and float(by_number[t.number]["HOTA"]) == t.values[0]
    assert by_number[4]["state"] == "FAIL"
    again = [r for r in rows if r["requeued_from"] == "4"]
    assert len(again) == 1 and again[0]["state"] == "COMPLETE"
    assert study.trials[int(again[0]["trial"])].params == running  # its parameters, run once more
    assert {r["state"] for r in rows} == {"COMPLETE", "FAIL"} and len(rows) == target + 1
    complete_params = [tuple(sorted(t.params.items())) for t in study.trials if t.state.name == "COMPLETE"]
    assert len(set(complete_params)) == target  # no parameter set counted twice


def test_ray_and_process_pool_give_the_same_trials(tmp_path):
    """The same seed gives the same trials (parameters and scores) with a 2-process pool and with Ray actors
    on a local 2-CPU cluster."""
    pytest.importorskip("ray")
    pool = tune(_sample_opts(tmp_path / "pool", trials=6, workers=2, seed=7))
    ray_ = tune(_sample_opts(tmp_path / "ray", trials=6, workers=2, seed=7, ray_address="local"))
    assert pool["executor"] == "pool" and ray_["executor"] == "ray"
    a, b = _trials(tmp_path / "pool"), _trials(tmp_path / "ray")
    keys = [*pool["space"], "HOTA", "MOTA", "IDF1", "IDSW", "state"]
    assert [[r[k] for k in keys] for r in a] == [[r[k] for k in keys] for r in b]
    assert len({r["worker"] for r in b}) == 2  # both actors ran trials
    import ray

    assert not ray.is_initialized()  # the local cluster was shut down


@pytest.mark.parametrize("kwargs, message", [
    ({"objectives": ["HOTAX"]}, "unknown metric 'HOTAX'"),
    ({"objectives": ["PT"]}, "no better direction"),
    ({"objectives": ["HOTA", "hota"]}, "given twice"),
    ({"space": {"max_agee": [1, 5]}}, "did you mean 'max_age'"),
    ({"space": {"iou_threshold": [0.5, 0.2]}}, "low must be below high"),
    ({"space": {"iou_threshold": [0.1, 1.5]}}, "outside its valid range"),
    ({"space": {"max_age": [1.5, 4]}}, "integer bounds"),
    ({"space": {"iou_threshold": "wide"}}, "expected [low, high]"),
    ({"fix": {"iou_treshold": "0.3"}}, "did you mean 'iou_threshold'"),
    ({"fix": {"max_age": "-1"}}, "outside its valid range"),
    ({"fix": {"max_age": "1", "min_hits": "3", "iou_threshold": "0.3"}}, "nothing left to search"),
    ({"tracker": "sortt"}, "unknown tracker 'sortt'"),
])
def test_bad_space_or_objective_fails_before_any_trial(tmp_path, kwargs, message):
    out = tmp_path / "study"
    with pytest.raises(TuneError, match=message.replace("[", r"\[")):
        tune(_sample_opts(out, **kwargs))
    assert not (out / "study.db").exists()


def test_cli_errors_are_one_line_and_early(tmp_path):
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"iou_threshold": [0.9, 0.1]}))
    res = CliRunner().invoke(main, ["tune", "--tracker", "sort", "--space", str(space), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "low must be below high" in res.output  # an input error: exit 2, one line
    res = CliRunner().invoke(main, ["tune", "--tracker", "sort", "--objective", "speed", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "unknown metric 'speed'" in res.output
    assert not (tmp_path / "o" / "study.db").exists()


def test_space_file_fix_and_defaults_as_trial_zero(tmp_path):
    space, fix = build_space("bytetrack", {"track_thresh": {"low": 0.3, "high": 0.7}, "track_buffer": [20, 60],
                                           "min_box_area": {"choices": [10.0, 100.0]}}, {"match_thresh": "0.8"})
    assert set(space) == {"track_thresh", "track_buffer", "min_box_area"}
    assert space["track_buffer"].kind == "int" and space["min_box_area"].kind == "categorical"
    declared, _ = build_space("bytetrack")
    assert {"track_thresh", "match_thresh", "track_buffer"} <= set(declared) and "preset" not in declared
    out = tmp_path / "s"
    tune(_sample_opts(out, trials=3, fix={"iou_threshold": "0.25"}, space={"max_age": [1, 5], "min_hits": [0, 5]}))
    rows = _trials(out)
    assert rows[0]["defaults"] == "1" and (rows[0]["max_age"], rows[0]["min_hits"]) == ("1", "3")
    best = json.loads((out / "best.json").read_text())
    assert best["options"]["iou_threshold"] == "0.25"


def test_a_different_configuration_is_refused_on_resume(tmp_path):
    out = tmp_path / "s"
    tune(_sample_opts(out, trials=2))
    with pytest.raises(TuneError, match="different configuration"):
        tune(_sample_opts(out, trials=3, objectives=["IDF1"]))


def test_multi_objective_nsga2_writes_each_best_and_the_pareto_front(tmp_path):
    out = tmp_path / "s"
    summary = tune(_sample_opts(out, trials=8, objectives=["HOTA", "IDSW"], confirm=True))
    assert summary["sampler"] == "nsga2" and summary["pareto"]
    assert (out / "best.json").is_file() and (out / "best-HOTA.json").is_file() and (out / "best-IDSW.json").is_file()
    assert json.loads((out / "best-IDSW.json").read_text())["objective"]["direction"] == "minimize"
    html = (out / "report" / "index.html").read_text()
    assert "Pareto front" in html and "<svg" in html
    assert not any(f'{attr}="http' in html or f"{attr}='http" in html for attr in ("src", "href"))  # offline
    assert "IDSW" in (out / "summary.md").read_text()


def test_grid_sampler_stops_when_the_grid_is_done(tmp_path):
    out = tmp_path / "s"
    summary = tune(_sample_opts(out, trials=50, sampler="grid", space={"max_age": {"choices": [1, 2]},
                                                                      "min_hits": {"choices": [1, 3]}}))
    assert summary["trials_complete"] == 4
    pairs = {(r["max_age"], r["min_hits"]) for r in _trials(out) if r["state"] == "COMPLETE"}
    assert pairs == {("1", "1"), ("1", "3"), ("2", "1"), ("2", "3")}


def test_mot17_half_val_default_protocol(shared_data):
    opts = TuneOptions(tracker="bytetrack", out="unused", data=str(shared_data), benchmark="MOT17",
                       split="half-val", detector_options={"det_dir": str(shared_data / YOLOX)})
    tune_seqs, report_seqs, note = split_protocol(opts)
    assert tune_seqs == ["MOT17-02-SDP", "MOT17-04-SDP", "MOT17-05-SDP", "MOT17-09-SDP"]
    assert report_seqs == ["MOT17-10-SDP", "MOT17-11-SDP", "MOT17-13-SDP"]
    assert "never saw" in note
    with pytest.raises(TuneError, match="both tuned on and reported on"):
        split_protocol(TuneOptions(tracker="sort", out="x", tune_seqs=["TUD-Campus"], report_seqs=["TUD-Campus"]))


def test_objectives_take_the_metric_tables_direction():
    objs = resolve_objectives(["hota", "FP", "IDSW"])
    assert [(o.name, o.direction) for o in objs] == [("HOTA", "maximize"), ("CLR_FP", "minimize"),
                                                     ("IDSW", "minimize")]


def test_run_tracker_config_shapes(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"sort": {"max_age": 3}}))
    res = CliRunner().invoke(main, ["run", "--tracker-config", str(cfg), "--out", str(tmp_path / "r"),
                                    "--no-progress", "--no-eval"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "r" / "config.json").read_text())["tracker"]["max_age"] == 3
    res = CliRunner().invoke(main, ["run", "--tracker", "bytetrack", "--tracker-config", str(cfg),
                                    "--out", str(tmp_path / "r2"), "--no-progress", "--no-eval"])
    assert res.exit_code == 2 and "not among this run's trackers" in res.output
    cfg.write_text("[1, 2]")
    res = CliRunner().invoke(main, ["run", "--tracker-config", str(cfg), "--out", str(tmp_path / "r3")])
    assert res.exit_code == 2 and "expected {TRACKER" in res.output


def _grid_config(tmp_path: Path, out: str, **top) -> Path:
    from mot_bench.data.synthetic import make_sequence

    root = tmp_path / "data"
    if not root.exists():
        make_sequence(root, "SYN-01", length=20, width=128, height=64, num_people=3, write_images=False)
    cfg = {"out": str(tmp_path / out), **top, "base": {"detector": "oracle", "detector_options": {"jitter": 0.02}},
           "axes": {"tracker": ["sort", "bytetrack"], "tracker_options": [{"max_age": 1}, {"max_age": 5}]},
           "eval": {"data": str(root), "split": "train"}, "figures": False}
    cfg["base"]["tracker_options"] = {}
    cfg["axes"]["tracker_options"] = [{"sort.max_age": 1}, {"sort.max_age": 5}]
    path = tmp_path / f"{out}.json"
    path.write_text(json.dumps(cfg))
    return path


def test_ablate_grid_is_a_study_that_resumes_and_runs_on_ray(tmp_path):
    """`mot-bench ablate` scores its variants as trials of a grid study (ablation.db): a re-run scores nothing
    again, and the same grid on a local Ray cluster gives the same table."""
    import optuna
    import pandas as pd

    res = CliRunner().invoke(main, ["ablate", str(_grid_config(tmp_path, "grid"))], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    db = f"sqlite:///{tmp_path / 'grid' / 'ablation.db'}"
    (summary,) = optuna.get_all_study_summaries(db)
    study = optuna.load_study(study_name=summary.study_name, storage=db)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    stamps = sorted(p.stat().st_mtime_ns for p in (tmp_path / "grid" / "runs").glob("*/metrics.json"))
    res = CliRunner().invoke(main, ["ablate", str(_grid_config(tmp_path, "grid"))], catch_exceptions=False)
    assert res.exit_code == 0 and "already scored" not in res.output
    assert len(optuna.load_study(study_name=summary.study_name, storage=db).trials) == 4  # nothing re-run
    assert sorted(p.stat().st_mtime_ns for p in (tmp_path / "grid" / "runs").glob("*/metrics.json")) == stamps
    pytest.importorskip("ray")
    res = CliRunner().invoke(main, ["ablate", str(_grid_config(tmp_path, "ray", ray_address="local")),
                                    "--parallel", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    a = pd.read_csv(tmp_path / "grid" / "comparison.csv").drop(columns=["run"], errors="ignore")
    b = pd.read_csv(tmp_path / "ray" / "comparison.csv").drop(columns=["run"], errors="ignore")
    cols = [c for c in a.columns if c in ("MOTA", "IDF1", "HOTA", "IDSW")]
    assert a[cols].equals(b[cols])


def test_summary_says_whether_the_tuned_gain_is_real(tmp_path):
    """The confirmation runs carry their events, and the summary gives paired bootstrap intervals of
    (tuned - defaults); with no held-out sequence (the one-sequence sample) on the tuning one, and says so."""
    out = tmp_path / "s"
    summary = tune(_sample_opts(out, trials=6, confirm=True, seed=1))
    found = summary["confirm_intervals"]
    assert found["part"] == "tune" and found["configurations"], found
    for label, ivs in found["configurations"].items():
        entry, default = summary["confirm"][label]["tune"], summary["confirm"]["default"]["tune"]
        for m in ("HOTA", "MOTA", "IDF1"):
            assert ivs[m]["delta"] == pytest.approx(entry["metrics"][m] - default["metrics"][m], abs=1e-9)
            assert ivs[m]["low"] <= ivs[m]["high"]
        assert (Path(entry["folder"]) / "events" / "TUD-Campus.csv.gz").is_file()
    text = (out / "summary.md").read_text()
    assert "Is it real?" in text and "tuning (there are no held-out ones)" in text
