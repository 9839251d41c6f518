"""One runtime record per run: validated, handed to the detector, read by env.json, config.json and the timer."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from click.testing import CliRunner

from mot_bench.cli import main
from mot_bench.data.synthetic import make_sequence
from mot_bench.detectors.public import PublicDetector
from mot_bench.registry import DETECTORS
from mot_bench.results import RunFolder
from mot_bench.runner import RunOptions, run
from mot_bench.runtime import Runtime, RuntimeConfigError


@pytest.fixture()
def syn_root(tmp_path):
    make_sequence(tmp_path / "MOT17" / "train", "SYN-01", length=6, width=128, height=64, seed=0)
    return tmp_path


class RecordingDetector(PublicDetector):
    """Public detections; remembers the runtime and timer sync it ran with."""

    name = "recording"
    seen: list = []

    def __call__(self, frame):
        RecordingDetector.seen.append((self.runtime, self.timer.sync))
        return super().__call__(frame)


@pytest.fixture()
def recording(monkeypatch):
    monkeypatch.setitem(DETECTORS._targets, "recording", RecordingDetector)
    RecordingDetector.seen = []
    return RecordingDetector


def test_runtime_validates_and_derives_the_sync_policy():
    assert Runtime() == Runtime("cpu", "fp32", False, None)
    assert Runtime("CUDA:1").device == "cuda:1"
    for bad in ("tpu", "cuda:", "cuda:x", "gpu", ""):
        with pytest.raises(RuntimeConfigError, match="expected cpu, cuda, cuda:N"):
            Runtime(bad)
    with pytest.raises(RuntimeConfigError, match="fp16 .* needs a CUDA device"):
        Runtime("cpu", "fp16")
    with pytest.raises(RuntimeConfigError, match="unknown precision 'half'"):
        Runtime("cuda", "half")  # type: ignore[arg-type]
    with pytest.raises(RuntimeConfigError, match="threads must be a positive integer"):
        Runtime(threads=0)
    cpu, gpu = Runtime(), Runtime("cuda:0", "fp16", channels_last=True, threads=4)
    assert not cpu.sync and cpu.sync_fn() is None and "synchronous" in cpu.sync_policy
    assert gpu.sync and "synchronize" in gpu.sync_policy
    assert gpu.to_dict() == {"device": "cuda:0", "precision": "fp16", "channels_last": True, "threads": 4,
                             "sync": True, "sync_policy": gpu.sync_policy}
    assert Runtime.from_dict(gpu.to_dict()) == gpu


def test_unknown_device_is_refused_before_anything_is_written(syn_root, tmp_path):
    out = tmp_path / "r"
    result = CliRunner().invoke(main, ["run", "--data", str(syn_root), "--tracker", "sort", "--device", "tpu",
                                       "--out", str(out), "--no-progress"])
    assert result.exit_code == 2 and "unknown device 'tpu'" in result.output, result.output
    assert not out.exists()
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        RunOptions(device="tpu")


def test_cuda_device_not_present_is_refused(syn_root, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="CUDA is not available"):
        run(RunOptions(data=str(syn_root), device="cuda", out=str(tmp_path / "r"), progress=False))


@pytest.mark.parametrize(("option", "flag"), [("device=cuda", "--device"), ("fp16=true", "--precision"),
                                              ("channels_last=true", "--channels-last"),
                                              ("precision=fp16", "--precision")])
def test_detector_options_that_contradict_the_runtime_are_refused(syn_root, tmp_path, option, flag):
    """--device cpu --detector-opt device=cuda used to run the network on CUDA while env.json said cpu
    and the timer did not synchronise; --precision fp32 --detector-opt fp16=true reported fp32."""
    for det in (["--detector", "fairmot", "--detector-opt", "allow_random=true", "--detector-opt", "arch=dla_tiny",
                 "--detector-opt", "input_width=128", "--detector-opt", "input_height=64"],
                ["--detector", "public"]):
        out = tmp_path / det[1]
        result = CliRunner().invoke(main, ["run", "--data", str(syn_root), "--tracker", "sort", "--device", "cpu",
                                           "--precision", "fp32", *det, "--detector-opt", option,
                                           "--out", str(out), "--no-progress"])
        assert result.exit_code == 2, result.output
        assert "contradict the run's runtime" in result.output and f"use {flag}" in result.output, result.output
        assert not out.exists()


def test_one_record_reaches_detector_timer_env_and_config(syn_root, tmp_path, recording, monkeypatch):
    import torch

    syncs = []
    monkeypatch.setattr(Runtime, "check_available", lambda self: None)  # pretend this machine has a GPU
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: syncs.append(device))
    out = tmp_path / "r"
    run(RunOptions(detector="recording", tracker="sort", data=str(syn_root), device="cuda:0", channels_last=True,
                   out=str(out), progress=False, evaluate=False))
    runtime = Runtime("cuda:0", channels_last=True)
    assert {r for r, _ in recording.seen} == {runtime}
    assert all(sync is not None for _, sync in recording.seen)
    assert syncs and set(syncs) == {"cuda:0"}  # every stage boundary synchronised the run's device
    folder = RunFolder(out)
    env, cfg = folder.read_env(), folder.read_config()
    for key, value in runtime.to_dict().items():
        assert env[key] == value
    assert env["sync"] is True and "synchronize" in env["sync_policy"]
    assert (cfg["device"], cfg["precision"], cfg["channels_last"], cfg["threads"]) == ("cuda:0", "fp32", True, None)


def test_cpu_run_records_cpu_everywhere(syn_root, tmp_path, recording):
    out = tmp_path / "r"
    run(RunOptions(detector="recording", tracker="sort", data=str(syn_root), out=str(out), progress=False,
                   evaluate=False))
    assert {r for r, _ in recording.seen} == {Runtime()} and {s for _, s in recording.seen} == {None}
    env, cfg = RunFolder(out).read_env(), RunFolder(out).read_config()
    assert env["device"] == cfg["device"] == "cpu" and env["precision"] == cfg["precision"] == "fp32"
    assert env["sync"] is False


def test_fairmot_reads_the_runtime_and_has_no_device_or_precision_options():
    import inspect

    from mot_bench.detectors.fairmot.detector import FairMOTDetector

    params = inspect.signature(FairMOTDetector.__init__).parameters
    assert not {"device", "fp16", "amp", "precision", "channels_last"} & set(params)
    det = FairMOTDetector(arch="dla_tiny", allow_random=True, head_conv=16)
    assert det.runtime == Runtime() and det.dcn == "fast"
    cfg = det.config()
    assert (cfg["device"], cfg["precision"], cfg["channels_last"]) == ("cpu", "fp32", False) and "fp16" not in cfg
    det.runtime = Runtime("cuda", "fp16", channels_last=True)
    assert det.dcn == "torchvision"  # dcn=auto follows the run's device
    cfg = det.config()
    assert (cfg["device"], cfg["precision"], cfg["channels_last"]) == ("cuda", "fp16", True)
    # precision changes the detections, so it keys the detection cache
    fp32 = FairMOTDetector(arch="dla_tiny", allow_random=True, head_conv=16)
    assert fp32._config_hash() != det._config_hash()


def test_training_precision_has_the_run_name_and_old_amp_configs_still_load():
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig

    names = {f.name for f in fields(TrainConfig)}
    assert "precision" in names and "amp" not in names and "fp16" not in names
    assert TrainConfig().precision == "fp16"  # CUDA mixed precision by default, as amp=true was
    assert TrainConfig.from_dict({"amp": True}).precision == "fp16"
    assert TrainConfig.from_dict({"amp": False}).precision == "fp32"
    assert TrainConfig.from_dict({"amp": False}).key() == TrainConfig.from_dict({"precision": "fp32"}).key()
    # keys of trainings made before the rename are kept (this one: the default config on main 8300b4a)
    assert TrainConfig().key() == "c3fe5937b7a6"
    with pytest.raises(ValueError, match="disagree"):
        TrainConfig.from_dict({"amp": True, "precision": "fp32"})
    # bf16 is training-only (bfloat16 autocast, CPU or CUDA); it hashes apart from fp32
    assert TrainConfig.from_dict({"precision": "bf16"}).key() != TrainConfig.from_dict({"precision": "fp32"}).key()
    with pytest.raises(ValueError, match="precision must be one of"):
        TrainConfig.from_dict({"precision": "int8"})


def test_precision_flag_is_one_name_on_the_command_line():
    run_help = CliRunner().invoke(main, ["run", "--help"]).output
    assert "--precision" in run_help and "--channels-last" in run_help and "--fp16" not in run_help
    assert json.dumps(Runtime().to_dict())  # JSON-serialisable as written to env.json/config.json
