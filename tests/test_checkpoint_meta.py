"""Checkpoint metadata drives construction: our checkpoints name their network, official ones keep options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mot_bench.data.synthetic import make_sequence
from mot_bench.detectors.fairmot import CheckpointError, build_model, load_model, read_network_spec, save_checkpoint
from mot_bench.detectors.fairmot.checkpoint import read_checkpoint
from mot_bench.registry import DETECTORS

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, Path]:
    """Checkpoints written by the trainer (0 epochs: the untrained network, with its metadata)."""
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig, train

    root = tmp_path_factory.mktemp("ck")
    make_sequence(root / "data", "SYN-01", length=4, width=128, height=64, num_people=2, seed=0)
    out = {}
    for head in ("anchor_free", "anchor_based"):
        cfg = TrainConfig.from_dict(dict(
            datasets=[{"root": str(root / "data")}], out=str(root / head), arch="dla_tiny", head_conv=8,
            reid_dim=8, dcn="fast", input_w=128, input_h=64, ltrb=False, head=head,
            anchors={"heights": [0.3, 0.6]} if head == "anchor_based" else {}, num_epochs=0, num_workers=0,
            progress=False, device="cpu"))
        out[head] = Path(train(cfg)["checkpoint"])
    return out


def test_trainer_writes_through_the_one_writer(trained) -> None:
    from mot_bench.detectors.fairmot import checkpoint
    from mot_bench.detectors.fairmot.training import trainer

    assert trainer.save_checkpoint is checkpoint.save_checkpoint
    state, extra = read_checkpoint(trained["anchor_free"])
    assert set(extra) == {"epoch", "optimizer", "loss_state", "meta"}
    meta = extra["meta"]
    assert meta["arch"] == "dla_tiny" and meta["head_conv"] == 8 and meta["head"] == "anchor_free"
    assert meta["heads"] == {"hm": 1, "wh": 2, "id": 8, "reg": 2} and (meta["input_w"], meta["input_h"]) == (128, 64)


@pytest.mark.parametrize("head", ["anchor_free", "anchor_based"])
def test_trainer_checkpoint_loads_from_its_path_alone(trained, head) -> None:
    path = trained[head]
    state, _ = read_checkpoint(path)
    model = load_model(path)
    for k, v in state.items():
        torch.testing.assert_close(model.state_dict()[k], v)
    spec = read_network_spec(path)
    assert (spec.arch, spec.head_conv, spec.head, spec.from_meta) == ("dla_tiny", 8, head, True)

    det = DETECTORS.create("fairmot", {"weights": str(path), "conf_thres": "0.01"})
    assert (det.arch, det.head_conv, det.head, det.input_width, det.input_height) == ("dla_tiny", 8, head, 128, 64)
    if head == "anchor_based":
        assert det.config()["anchors"] is not None and '"heights": [0.3, 0.6]' in det.config()["anchors"]
    out = det.detect(np.zeros((64, 128, 3), np.uint8))
    assert out.embeddings is not None and out.embeddings.shape[1] == 8
    for k, v in state.items():
        torch.testing.assert_close(det._ensure_model().state_dict()[k], v)
    # evaluating at another input size is an eval override, not a contradiction
    assert DETECTORS.create("fairmot", {"weights": str(path), "input_width": "64"}).input_width == 64


def test_options_that_contradict_the_metadata_are_refused(trained) -> None:
    path = trained["anchor_free"]
    with pytest.raises(CheckpointError, match=r"contradict.*arch='dla_34'.*trained with arch='dla_tiny'"):
        load_model(path, arch="dla34")
    with pytest.raises(CheckpointError, match="head_conv=256"):
        load_model(path, head_conv=256)
    with pytest.raises(ValueError, match="fairmot: .*contradict.*head='anchor_based'"):
        DETECTORS.create("fairmot", {"weights": str(path), "head": "anchor_based"})
    with pytest.raises(ValueError, match="contradict.*anchors"):
        DETECTORS.create("fairmot", {"weights": str(trained["anchor_based"]), "anchors": '{"heights": [0.5]}'})
    # options that agree with the metadata are fine
    assert load_model(path, arch="dla_tiny", head_conv=8) is not None


def test_official_checkpoint_without_metadata_keeps_explicit_options(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_model("dla_tiny", heads={"hm": 1, "wh": 4, "id": 16, "reg": 2}, head_conv=16)
    path = tmp_path / "official.pth"
    save_checkpoint(path, model, epoch=30)  # the official layout: no meta
    assert set(torch.load(path, weights_only=True)) == {"epoch", "state_dict"}
    with pytest.raises(CheckpointError, match="does not match the model"):
        load_model(path)  # defaults: dla34, head_conv 256
    loaded = load_model(path, arch="dla_tiny", head_conv=16)
    assert loaded.heads == {"hm": 1, "wh": 4, "id": 16, "reg": 2}
    assert not read_network_spec(path, arch="dla_tiny", head_conv=16).from_meta
    det = DETECTORS.create("fairmot", {"weights": str(path), "arch": "dla_tiny", "head_conv": "16"})
    assert (det.input_width, det.input_height, det.head) == (1088, 608, "anchor_free")  # today's defaults
    det._ensure_model()


def test_sweep_reads_the_epoch_through_the_reader(trained) -> None:
    from types import SimpleNamespace

    from mot_bench.sweep import is_trained

    folder = trained["anchor_free"].parent
    assert is_trained(SimpleNamespace(out=str(folder), num_epochs=0))
    assert not is_trained(SimpleNamespace(out=str(folder), num_epochs=1))


def test_detector_options_name_only_weights_and_eval_overrides(trained) -> None:
    from mot_bench.detectors.fairmot.training.trainer import detector_options

    folder = trained["anchor_based"].parent
    opts = detector_options(folder, {"eval_input_w": 64, "nms_thres": 0.5, "tracker": "sort"})
    assert opts == {"weights": str(folder / "model_last.pth"), "conf_thres": 0.4, "input_width": 64,
                    "nms_thres": 0.5}
    det = DETECTORS.create("fairmot", opts)
    assert det.head == "anchor_based" and det.input_width == 64 and det.input_height == 64
