"""End to end on a synthetic sequence: train, save, reload in the detector, track; and DDP on CPU (gloo)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mot_bench.data.synthetic import make_sequence
from mot_bench.detectors.fairmot.training.trainer import TrainConfig, train

REPO = Path(__file__).resolve().parents[1]


def _cfg(root: Path, out: Path, **kw) -> dict:
    base = dict(datasets=[{"root": str(root)}], out=str(out), arch="dla_tiny", head_conv=8, reid_dim=8,
                dcn="fast", input_w=128, input_h=64, batch_size=4, num_epochs=1, lr=1e-3, num_workers=0,
                threads=1, progress=False)
    base.update(kw)
    return base


@pytest.mark.slow
@pytest.mark.parametrize("head", ["anchor_free", "anchor_based"])
def test_train_save_reload_track(tmp_path, head) -> None:
    root = tmp_path / "data"
    make_sequence(root, "SYN-01", length=8, width=128, height=64, num_people=3)
    # enough steps for the size head to predict positive boxes (inverted boxes are dropped by the decoder)
    summary = train(TrainConfig.from_dict(_cfg(root, tmp_path / "exp", head=head, num_epochs=8, lr=5e-3)))
    weights = Path(summary["checkpoint"])
    assert weights.is_file()

    from mot_bench.detectors.fairmot.training.trainer import detector_options
    from mot_bench.registry import DETECTORS
    from mot_bench.runner import RunOptions, run

    name, opts = "fairmot", detector_options(tmp_path / "exp", {"conf_thres": 0.01})
    assert set(opts) == {"weights", "conf_thres"}  # the checkpoint names its network
    # the reloaded network is the trained one
    det = DETECTORS.create(name, opts)
    assert det.head == head
    model = det._ensure_model()
    ck = torch.load(weights, map_location="cpu", weights_only=False)
    for k, v in ck["state_dict"].items():
        torch.testing.assert_close(model.state_dict()[k], v)
    result = run(RunOptions(detector=name, detector_options=opts, tracker="fairmot",
                            tracker_options={"conf_thres": 0.01, "min_box_area": 0.0}, data=str(root),
                            out=str(tmp_path / "run"), progress=False, warmup_frames=0))
    rows = np.loadtxt(tmp_path / "run" / "results" / "SYN-01.txt", delimiter=",", ndmin=2)
    assert len(rows) > 0 and set(rows[:, 0].astype(int)) <= set(range(1, 9))
    assert (rows[:, 4] > 0).all() and (rows[:, 5] > 0).all()
    assert "MOTA" in result.metrics["combined"]  # the written results are valid for the official kit
    assert result.sequences[0].name == "SYN-01"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_ddp_two_processes_gloo(tmp_path) -> None:
    root = tmp_path / "data"
    make_sequence(root, "SYN-01", length=8, width=128, height=64, num_people=3)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(_cfg(root, tmp_path / "exp", batch_size=2, device="cpu")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
           "--master_port", str(_free_port()), "-m", "mot_bench.cli", "train", str(cfg)]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = json.loads((tmp_path / "exp" / "train_config.json").read_text())
    assert info["world_size"] == 2
    epochs = [json.loads(line) for line in (tmp_path / "exp" / "train_log.jsonl").read_text().splitlines()
              if '"epoch"' in line and '"type": "epoch"' in line]
    # 8 images, 2 processes x batch 2: each rank sees 4 images per epoch
    assert epochs[0]["images"] == 4 and epochs[0]["iters"] == 2
    ck = torch.load(tmp_path / "exp" / "model_last.pth", map_location="cpu", weights_only=False)
    assert ck["epoch"] == 1 and not any(k.startswith("module.") for k in ck["state_dict"])
