"""benchmarks/gpu_check.py: the no-GPU exit, and every section in the CPU smoke mode (--device cpu --tiny)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "benchmarks" / "gpu_check.py"
SECTIONS = ["environment", "weights", "throughput", "accuracy", "train_step", "pipeline"]

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_gpu_exits_2_before_any_work(gpu_check, monkeypatch, tmp_path, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    ran = []
    monkeypatch.setattr(gpu_check, "SECTIONS", [("environment", lambda ck: ran.append(1) or {})])
    out = tmp_path / "out"
    assert gpu_check.main(["--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == gpu_check.NO_GPU_MESSAGE
    assert len(err.strip().splitlines()) == 1 and "no CUDA GPU" in err
    assert ran == [] and not out.exists()


def test_no_gpu_exit_status_as_a_command(tmp_path):
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, env=env, cwd=REPO, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith("gpu_check: no CUDA GPU available")
    assert proc.stdout == "" and not (tmp_path / "out").exists()


def test_cpu_needs_tiny(gpu_check, tmp_path):
    with pytest.raises(SystemExit) as exc:
        gpu_check.main(["--out", str(tmp_path), "--device", "cpu"])
    assert exc.value.code == 2  # argparse usage error, before any work


def test_smoke_mode_runs_every_section(gpu_check, tmp_path):
    out = tmp_path / "out"
    assert gpu_check.main(["--out", str(out), "--device", "cpu", "--tiny"]) == 0
    report = json.loads((out / "gpu_check.json").read_text())
    sections = report["sections"]
    assert list(sections) == SECTIONS
    for name in SECTIONS:
        assert sections[name]["status"] == "ok", (name, sections[name].get("error"), sections[name].get("traceback"))
        assert sections[name]["seconds"] >= 0 and "peak_mb" in sections[name]

    rows = sections["throughput"]["result"]["rows"]
    assert {(r["precision"], r["layout"], r["batch"]) for r in rows} == {
        (p, layout, b) for p in ("fp32", "bf16") for layout in ("NCHW", "channels_last") for b in (1, 2)
    }
    for r in rows:
        assert r["model_fps"] > 0 and r["model_decode_fps"] > 0 and len(r["warmup_ms_model"]) == 1
    acc = sections["accuracy"]["result"]
    assert [r["mode"] for r in acc["rows"]] == ["fp32", "fp32 (TF32 off)", "bf16", "bf16 channels_last"]
    for r in acc["rows"]:
        assert set(r["heads"]) == {"hm", "wh", "reg", "id"} and r["within"]
    train = sections["train_step"]["result"]
    assert train["loss_finite"] and train["params_finite"] and len(train["losses"]) == 2  # 1 warm-up + 1 timed
    seq = sections["pipeline"]["result"]["sequences"]["TUD-Campus"]
    assert seq["frames"] == 68 and seq["warmup_frames"] == 3
    assert seq["mean_ms"]["model"] > 0 and seq["mean_ms"]["total"] >= seq["mean_ms"]["model"]

    md = (out / "gpu_check.md").read_text()
    for name in SECTIONS:
        assert f"| {name} | ok |" in md
    for p in ("fp32", "bf16"):
        for layout in ("NCHW", "channels_last"):
            for b in (1, 2):
                assert f"| {p} | {layout} | {b} |" in md
    for mode in ("fp32", "fp32 (TF32 off)", "bf16", "bf16 channels_last"):
        for head in ("hm", "wh", "reg", "id"):
            assert f"| {mode} | {head} |" in md
    for stage in ("read", "preprocess", "model", "postprocess", "track", "write", "total"):
        assert f"| {stage} |" in md
    assert "| loss finite | yes |" in md and "Smoke mode" in md


def test_a_failing_section_is_recorded_and_the_rest_run(gpu_check, monkeypatch, tmp_path):
    def boom(ck):
        raise RuntimeError("simulated failure\nsecond line")

    sections = [(n, boom if n == "weights" else f) for n, f in gpu_check.SECTIONS if n != "pipeline"]
    monkeypatch.setattr(gpu_check, "SECTIONS", sections)
    out = tmp_path / "out"
    assert gpu_check.main(["--out", str(out), "--device", "cpu", "--tiny", "--batches", "1"]) == 1
    s = json.loads((out / "gpu_check.json").read_text())["sections"]
    assert s["weights"]["status"] == "error" and s["weights"]["error"] == "RuntimeError: simulated failure"
    assert s["environment"]["status"] == "ok" and s["train_step"]["status"] == "ok"
    # Sections that need the checkpoint record why instead of stopping the check.
    assert s["throughput"]["status"] == "partial" and "weights section failed" in s["throughput"]["error"]
    assert s["accuracy"]["status"] == "error" and "weights section failed" in s["accuracy"]["error"]
    md = (out / "gpu_check.md").read_text()
    assert "| weights | error |" in md and "simulated failure" in md
    assert "| pipeline | missing |" not in md  # only sections that were meant to run are listed
