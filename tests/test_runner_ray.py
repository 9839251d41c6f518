"""`mot-bench run --ray-address`: sequences as Ray tasks on a local 2-CPU cluster, written exactly as a local
run writes them (byte for byte), resumable, a failed task retried and reported, each sequence's machine named."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from mot_bench import runner
from mot_bench.cli import main
from mot_bench.registry import TRACKERS
from mot_bench.results import RunFolder
from mot_bench.runner import RunOptions, SequenceFailures, _task_error, run_many
from mot_bench.trackers.sort import SortTracker

MOT15_SEQS = ["TUD-Campus", "KITTI-17", "PETS09-S2L1"]
TRACKER_NAMES = ["sort", "bytetrack", "ocsort"]


def _options(shared_data: Path, out: Path, **kw) -> RunOptions:
    base = {"detector": "public", "data": str(shared_data), "benchmark": "MOT15", "out": str(out),
            "progress": False, "trackers": TRACKER_NAMES, "seqs": MOT15_SEQS}
    return RunOptions(**{**base, **kw})


def _repeatable(folder: RunFolder) -> dict:
    return {k: v for k, v in folder.read_config().items() if k not in ("created", "command")}


def _assert_same_files(local: RunFolder, other: RunFolder, seqs: list[str]) -> None:
    """Result files and scores byte for byte, the same config, timing files of the same frames."""
    assert other.completed_sequences() == set(seqs)
    for seq in seqs:
        assert other.result_path(seq).read_bytes() == local.result_path(seq).read_bytes(), seq
        a, b = local.read_timing(seq), other.read_timing(seq)
        assert [(r["frame"], r["warmup"]) for r in a] == [(r["frame"], r["warmup"]) for r in b]
        record = json.loads((other.complete_dir / f"{seq}.json").read_text())
        assert record["results"] == json.loads((local.complete_dir / f"{seq}.json").read_text())["results"]
    assert _repeatable(other) == _repeatable(local)
    assert other.metrics_path.read_bytes() == local.metrics_path.read_bytes()


def test_ray_run_equals_the_local_run_byte_for_byte(shared_data, tmp_path, caplog):
    """Three MOT15 sequences, three trackers fed by one detector pass per sequence: a run on a local Ray
    cluster (started and stopped by the run) writes the local run's result files, config and scores; each
    completion record names the machine and Ray node that ran the sequence."""
    ray = pytest.importorskip("ray")
    local = run_many(_options(shared_data, tmp_path / "local"))
    caplog.set_level(logging.INFO, logger="mot_bench.runner")
    on_ray = run_many(_options(shared_data, tmp_path / "ray", ray_address="local"))
    assert not ray.is_initialized()  # the local cluster was shut down
    assert [r.tracker for r in on_ray] == TRACKER_NAMES
    for a, b in zip(local, on_ray, strict=True):
        _assert_same_files(a.folder, b.folder, MOT15_SEQS)
        assert b.metrics == a.metrics
        machines = b.folder.sequence_machines()
        assert set(machines) == set(MOT15_SEQS)
        assert all(m["host"] and m["ray_node"] for m in machines.values())
        assert b.timing["combined"]["hosts"] == sorted({m["host"] for m in machines.values()})
        assert "ray_node" not in a.folder.sequence_machines()["TUD-Campus"]  # a local run names its host too
        assert b.folder.read_env()["executor"]["kind"] == "ray"
    done = [r.getMessage() for r in caplog.records if " done on " in r.getMessage()]
    assert len(done) == len(MOT15_SEQS)  # progress: one line per sequence, naming where it ran


@pytest.fixture()
def ray_two_cpus():
    """A local 2-CPU cluster the runs join (and leave running: they did not start it)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _crash_once_tracker(marker: Path) -> type:
    """SORT that kills its worker process on TUD-Campus until ``marker`` exists (a lost worker: what a
    crashed or pre-empted machine looks like to Ray). Defined in a function, so Ray ships the class itself."""

    class CrashOnce(SortTracker):
        name = "crash_once"

        def reset(self, seq=None):
            super().reset(seq)
            if seq is not None and seq.name == "TUD-Campus" and not marker.exists():
                marker.write_text("crashed once\n")
                os._exit(1)

    return CrashOnce


def test_a_failed_task_is_retried_reported_and_the_run_resumes(shared_data, tmp_path, caplog, ray_two_cpus):
    """On a local 2-CPU cluster the runs join: a task asking more than the cluster has is refused before
    anything runs; a task whose worker dies is submitted again and reported; with no retries left the
    sequence is named, the others kept, and the same command then redoes only what is missing, per tracker."""
    seqs = ["TUD-Campus", "KITTI-17"]
    too_big = _options(shared_data, tmp_path / "big", trackers=["sort"], seqs=seqs, ray_address="local", threads=4)
    with pytest.raises(ValueError, match=r"asks 4 CPU\(s\) \(--threads\) and 0 GPU\(s\).*has 2 CPU\(s\)"):
        run_many(too_big)
    assert not RunFolder(tmp_path / "big").result_path("TUD-Campus").exists()

    local = run_many(_options(shared_data, tmp_path / "local", trackers=["sort"], seqs=seqs))[0]
    caplog.set_level(logging.INFO, logger="mot_bench.runner")

    # retried: the first attempt dies with its worker, the second runs; the failure is reported
    TRACKERS.register("crash_once")(_crash_once_tracker(tmp_path / "marker-retry"))
    opts = _options(shared_data, tmp_path / "retried", trackers=["crash_once"], seqs=seqs, ray_address="local")
    res = run_many(opts)[0]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "failed" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("TUD-Campus failed (attempt 1 of 3)")
    assert any("TUD-Campus done on" in r.getMessage() and "after 1 failed attempt" in r.getMessage()
               for r in caplog.records)
    for seq in seqs:
        assert res.folder.result_path(seq).read_bytes() == local.folder.result_path(seq).read_bytes()

    # no retries left: the failed sequence is named, the others written, no scores for a partial run
    TRACKERS.register("crash_once")(_crash_once_tracker(tmp_path / "marker-fail"))
    opts = _options(shared_data, tmp_path / "failed", trackers=["sort", "crash_once"], seqs=seqs,
                    ray_address="local", ray_retries=0)
    with pytest.raises(SequenceFailures, match=r"1 sequence\(s\) failed on all 1 attempts: TUD-Campus"):
        run_many(opts)
    sort_folder, crash_folder = RunFolder(tmp_path / "failed" / "sort"), RunFolder(tmp_path / "failed" / "crash_once")
    assert sort_folder.verified_sequences() == crash_folder.verified_sequences() == {"KITTI-17"}
    assert not sort_folder.metrics_path.exists()
    # Resume (the marker now exists, so TUD-Campus runs): with sort's KITTI-17 record gone as well, KITTI-17
    # goes to a task for sort alone; crash_once's KITTI-17 is kept as it is.
    (sort_folder.complete_dir / "KITTI-17.json").unlink()
    kept = crash_folder.result_path("KITTI-17").stat().st_mtime_ns
    caplog.clear()
    res = run_many(opts)
    assert sorted(r.getMessage().split()[0] for r in caplog.records if " done on " in r.getMessage()) == seqs[::-1]
    assert crash_folder.result_path("KITTI-17").stat().st_mtime_ns == kept
    for r in res:
        assert r.folder.verified_sequences() == set(seqs)
        for seq in seqs:
            assert r.folder.result_path(seq).read_bytes() == local.folder.result_path(seq).read_bytes()
        assert r.metrics["combined"] == local.metrics["combined"]


def test_a_task_failure_is_one_line_naming_the_error_and_where():
    class RayTaskError(Exception):  # the shape of ray.exceptions.RayTaskError: the cause and Ray's header
        cause = FileNotFoundError("/data/MOT17-02/det.txt: no such file")

    header = "ray::_sequence_task() (pid=4242, ip=10.0.0.7)\n  File ...\nFileNotFoundError: ..."
    assert _task_error(RayTaskError(header)) == ("FileNotFoundError: /data/MOT17-02/det.txt: no such file "
                                                 "(pid=4242, ip=10.0.0.7)")
    lost = RuntimeError("The worker died unexpectedly while executing this task.\nCheck the logs.")
    assert _task_error(lost) == "RuntimeError: The worker died unexpectedly while executing this task."


def test_cli_exits_1_when_sequences_fail_on_every_attempt(monkeypatch, tmp_path):
    """Accepted input whose work failed is not a usage error (2): exit 1 with the failures named."""
    seen = {}

    def failing(options):
        seen.update(address=options.ray_address, gpus=options.ray_gpus_per_task, retries=options.ray_retries)
        raise SequenceFailures("1 sequence(s) failed on all 3 attempts: TUD-Campus: RuntimeError: boom")

    monkeypatch.setattr(runner, "run_many", failing)
    res = CliRunner().invoke(main, ["run", "--tracker", "sort", "--out", str(tmp_path / "r"), "--ray-address",
                                    "local", "--ray-gpus-per-task", "0.5", "--ray-retries", "2"])
    assert res.exit_code == 1, res.output
    assert "TUD-Campus: RuntimeError: boom" in res.output
    assert seen == {"address": "local", "gpus": 0.5, "retries": 2}
    res = CliRunner().invoke(main, ["run", "--ray-gpus-per-task", "-1"])
    assert res.exit_code == 2 and "--ray-gpus-per-task" in res.output
