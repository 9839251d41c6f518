"""FairMOT training: loss goes down, checkpoints in the official layout, resume, partial load, data rules."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from mot_bench.data.sequences import find_sequences
from mot_bench.data.synthetic import make_sequence
from mot_bench.detectors.fairmot.training.dataset import (
    JointDataset,
    collect_samples,
    load_sample,
    random_affine,
    training_rows,
)
from mot_bench.detectors.fairmot.training.trainer import TrainConfig, build_model_and_loss, partial_load, train


@pytest.fixture(scope="module")
def syn_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("syn")
    make_sequence(root, "SYN-01", length=8, width=128, height=64, num_people=3, seed=0)
    make_sequence(root, "SYN-02", length=8, width=128, height=64, num_people=3, seed=1)
    return root


def tiny_cfg(root: Path, out: Path, **kw) -> TrainConfig:
    base = dict(datasets=[{"root": str(root)}], out=str(out), arch="dla_tiny", head_conv=8, reid_dim=8,
                dcn="fast", input_w=128, input_h=64, batch_size=4, num_epochs=2, lr=1e-3, lr_step=[1],
                num_workers=0, threads=1, progress=False)
    base.update(kw)
    return TrainConfig.from_dict(base)


@pytest.mark.parametrize("head", ["anchor_free", "anchor_based"])
def test_training_steps_reduce_loss_on_a_fixed_batch(syn_root, tmp_path, head) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = tiny_cfg(syn_root, tmp_path, head=head, augment=False, input_w=64, input_h=32,
                   anchors={"heights": [0.3, 0.6]})
    from mot_bench.detectors.fairmot.training.trainer import ModelWithLoss, make_dataset

    ds = make_dataset(cfg)
    batch = torch.utils.data.default_collate([ds[i] for i in range(2)])
    model, loss = build_model_and_loss(cfg, ds.num_ids)
    wrapped = ModelWithLoss(model, loss)
    opt = torch.optim.Adam(list(model.parameters()) + list(loss.parameters()), 2e-3)
    losses = []
    for _ in range(12):
        _, value, _ = wrapped(batch)
        opt.zero_grad()
        value.backward()
        opt.step()
        losses.append(value.item())
    assert losses[-1] < 0.8 * losses[0], losses


@pytest.mark.slow
def test_train_checkpoints_log_and_resume_are_exact(syn_root, tmp_path) -> None:
    straight = train(tiny_cfg(syn_root, tmp_path / "a"))
    ck = torch.load(tmp_path / "a" / "model_last.pth", map_location="cpu", weights_only=False)
    assert {"epoch", "state_dict", "optimizer"} <= set(ck) and ck["epoch"] == 2
    assert ck["meta"]["heads"] == {"hm": 1, "wh": 4, "id": 8, "reg": 2}
    assert (tmp_path / "a" / "model_2.pth").is_file()
    # lr x0.1 after the lr step (epoch 1), as the official train.py
    assert [e["lr"] for e in straight["epochs"]] == pytest.approx([1e-3, 1e-4])
    assert (tmp_path / "a" / "model_1.pth").is_file()
    records = [json.loads(line) for line in (tmp_path / "a" / "train_log.jsonl").read_text().splitlines()]
    assert {r["type"] for r in records} == {"iter", "epoch"}
    assert all(np.isfinite(r["loss"]) for r in records)
    # one epoch, then --resume to two: same weights as the straight run (seeded, deterministic on CPU)
    train(tiny_cfg(syn_root, tmp_path / "b", num_epochs=1))
    resumed = train(tiny_cfg(syn_root, tmp_path / "b", resume=True))
    assert [e["epoch"] for e in resumed["epochs"]] == [2]
    assert resumed["epochs"][0]["loss"] == pytest.approx(straight["epochs"][1]["loss"], rel=1e-5)
    ck_b = torch.load(tmp_path / "b" / "model_last.pth", map_location="cpu", weights_only=False)
    for k, v in ck["state_dict"].items():
        torch.testing.assert_close(ck_b["state_dict"][k], v, rtol=1e-5, atol=1e-6)


def test_lr_schedule_matches_official_defaults() -> None:
    from mot_bench.detectors.fairmot.training.trainer import lr_at

    cfg = TrainConfig()
    assert (cfg.lr, cfg.batch_size, cfg.num_epochs, cfg.lr_step) == (1e-4, 12, 30, [20])
    assert (cfg.input_w, cfg.input_h, cfg.reid_dim, cfg.max_objs) == (1088, 608, 128, 500)
    assert lr_at(cfg, 20) == pytest.approx(1e-4) and lr_at(cfg, 21) == pytest.approx(1e-5)


def test_zero_epochs_saves_the_untrained_network(syn_root, tmp_path) -> None:
    train(tiny_cfg(syn_root, tmp_path, num_epochs=0))
    assert torch.load(tmp_path / "model_last.pth", map_location="cpu", weights_only=False)["epoch"] == 0


def test_partial_load_reports_what_it_skipped(syn_root, tmp_path) -> None:
    src, _ = build_model_and_loss(tiny_cfg(syn_root, tmp_path, reid_dim=8), 5)
    dst, _ = build_model_and_loss(tiny_cfg(syn_root, tmp_path, reid_dim=16), 5)
    state = {"module." + k: v for k, v in src.state_dict().items()}
    state["extra.weight"] = torch.zeros(1)
    report = partial_load(dst, state)
    assert report["unexpected"] == ["extra.weight"]
    assert {s.split(":")[0] for s in report["shape_mismatch"]} == {"id.2.weight", "id.2.bias"}
    torch.testing.assert_close(dst.state_dict()["hm.2.weight"], src.state_dict()["hm.2.weight"])


def test_anchor_head_starts_from_an_anchor_free_checkpoint(syn_root, tmp_path) -> None:
    """The two-stage ablation: the anchor network takes the backbone and re-ID head of an anchor-free
    checkpoint; its own heads keep their fresh initialisation (objectness prior included)."""
    src, _ = build_model_and_loss(tiny_cfg(syn_root, tmp_path), 5)
    dst, _ = build_model_and_loss(tiny_cfg(syn_root, tmp_path, head="anchor_based"), 5)
    prior = dst.state_dict()["anc_cls.2.bias"].clone()
    report = partial_load(dst, src.state_dict())
    assert {k.split(".")[0] for k in report["unexpected"]} == {"hm", "wh", "reg"}
    assert {k.split(".")[0] for k in report["missing"]} == {"anc_cls", "anc_box"}
    torch.testing.assert_close(dst.state_dict()["anc_cls.2.bias"], prior)
    for k in ("id.2.weight", next(k for k in src.state_dict() if k.startswith("base."))):
        torch.testing.assert_close(dst.state_dict()[k], src.state_dict()[k])


def test_identities_unique_across_sequences_and_datasets(tmp_path) -> None:
    for name, seed in (("A", 0), ("B", 1)):
        make_sequence(tmp_path / "d1", f"SYN-{name}", length=4, width=64, height=64, num_people=2, seed=seed)
    make_sequence(tmp_path / "d2", "SYN-C", length=4, width=64, height=64, num_people=3, seed=2)
    samples, n_ids, summary = collect_samples([{"root": str(tmp_path / "d1")}, {"root": str(tmp_path / "d2")}])
    ids = sorted({int(i) for s in samples for i in s.ids})
    # dataset 1: ids 1..4 (two sequences x two people, track id 1 and 2 in each); dataset 2 offset by 4+1
    assert ids == [1, 2, 3, 4, 6, 7, 8]
    assert n_ids == (4 + 1) + (3 + 1) + 1
    assert [s["identities"] for s in summary] == [4, 3]


def test_every_and_half_train_select_frames(tmp_path) -> None:
    make_sequence(tmp_path, "SYN-A", length=10, width=64, height=64, num_people=1)
    samples, _, _ = collect_samples([{"root": str(tmp_path), "split": "half-train", "every": 2}])
    assert [int(s.image.stem) for s in samples] == [1, 3, 5]  # half-train of 10 frames is 1..6


def test_gt_rules_on_real_data(shared_data) -> None:
    mot15 = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus"])[0]
    raw = np.loadtxt(mot15.gt_path, delimiter=",")
    assert len(training_rows(mot15, "MOT15")) == int((raw[:, 6] != 0).sum())
    mot17 = find_sequences(shared_data, "MOT17", "train")[0]
    raw = np.loadtxt(mot17.gt_path, delimiter=",")
    rows = training_rows(mot17)  # style detected from the columns
    assert len(rows) == int(((raw[:, 6] == 1) & (raw[:, 7] == 1)).sum()) < len(raw)
    pets = find_sequences(shared_data / "PETS2009", None, "train")[0]
    assert len(training_rows(pets)) == len(np.loadtxt(pets.gt_path, delimiter=","))  # world coords, not classes


def test_random_affine_moves_boxes_with_pixels() -> None:
    img = np.zeros((200, 300, 3), np.uint8)
    img[50:150, 100:140] = 255
    boxes = np.array([[100.0, 50.0, 140.0, 150.0]])
    out, new, keep = random_affine(img, boxes, random.Random(3))
    ys, xs = np.nonzero(out[:, :, 0] > 128)
    assert keep.all()
    hull = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    # JDE shrinks the rotated hull by sqrt(max(|sin|, |cos|)) (<3% at 5 degrees): within a few pixels
    np.testing.assert_allclose(new[0], hull, atol=6)


def test_aug_scale_sets_the_affine_scale_range(syn_root) -> None:
    """``aug_scale`` reaches the random affine: a fixed factor scales every box by it (up to JDE's <3 % rotation
    shrink and shear); JDE's range stays the default and keeps old training keys."""
    box = np.array([[140.0, 80.0, 160.0, 120.0]])  # 20x40 in the middle of 300x200
    _, twice, _ = random_affine(np.zeros((200, 300, 3), np.uint8), box, random.Random(1), scale=(2.0, 2.0))
    np.testing.assert_allclose(twice[0, 2:] - twice[0, :2], [40, 80], rtol=0.15)  # rotated hull: wider
    ds = JointDataset([{"root": str(syn_root)}], 128, 64, augment=False, aug_scale=(0.5, 0.5))
    _, plain = load_sample(ds.samples[0], 64, 128, False, random.Random(0))
    _, half = load_sample(ds.samples[0], 64, 128, True, random.Random(0), aug_scale=ds.aug_scale)
    assert np.median(half[:, 5]) == pytest.approx(0.5 * np.median(plain[:, 5]), rel=0.15)
    assert TrainConfig().aug_scale == [0.5, 1.2]
    assert TrainConfig(aug_scale=[0.5, 1.2]).key() == TrainConfig().key() != TrainConfig(aug_scale=[0.5, 3.0]).key()
    with pytest.raises(ValueError, match="aug_scale"):
        TrainConfig.from_dict({"aug_scale": [2.0, 1.0]})


def test_augmented_sample_labels_stay_normalised_and_flip(syn_root) -> None:
    ds = JointDataset([{"root": str(syn_root)}], 128, 64, augment=False)
    img, labels = load_sample(ds.samples[0], 64, 128, False, random.Random(0))
    assert img.shape == (64, 128, 3) and len(labels) == 3
    for seed in range(5):
        _, lab = load_sample(ds.samples[0], 64, 128, True, random.Random(seed))
        assert ((lab[:, 2:4] >= 0) & (lab[:, 2:4] <= 1)).all() and (lab[:, 4:] > 0).all()


def test_config_errors_are_clear(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown training option"):
        TrainConfig.from_dict({"learning_rate": 1})
    with pytest.raises(ValueError, match="head must be"):
        TrainConfig.from_dict({"head": "anchorfree"})
    bad = tmp_path / "c.json"
    bad.write_text('{"lr": 1e-4,\n "arch": }')
    with pytest.raises(ValueError, match="c.json:2"):
        TrainConfig.from_file(bad)
