"""Anchor-based head: IoU assignment thresholds, delta round trip, loss and decode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mot_bench.detectors.fairmot.anchor_head import AnchorConfig, anchor_heads, decode_anchor_based, decode_deltas
from mot_bench.detectors.fairmot.training.anchor import AnchorLoss, assign_anchors, encode_deltas

# input 64x64, stride 4 -> 16x16 map; one anchor 4 wide, 12 tall (output units)
CFG = AnchorConfig(heights=(48 / 64,), aspect=1 / 3)


def _labels(cx, cy, w, h, tid=5):
    return np.array([[0, tid, cx / 16, cy / 16, w / 16, h / 16]])


def test_assignment_thresholds_hand_computed() -> None:
    t = assign_anchors(_labels(8, 8, 4, 12), CFG, 64, 64)
    conf = t["anc_conf"][0]
    assert conf[8, 8] == 1  # IoU 1
    assert conf[8, 9] == 1  # x shift 1: IoU 36/60 = 0.6
    assert conf[8, 10] == 0  # x shift 2: IoU 24/72 = 0.33 < 0.4
    assert conf[11, 8] == 1  # y shift 3: IoU 36/60 = 0.6
    assert conf[12, 8] == -1  # y shift 4: IoU 32/64 = 0.5, neither > 0.5 nor < 0.4: ignored
    assert conf[0, 0] == 0
    np.testing.assert_allclose(t["anc_box"][0, 8, 8], 0, atol=1e-6)
    np.testing.assert_allclose(t["anc_box"][0, 8, 9], [-0.25, 0, 0, 0], atol=1e-6)
    assert t["emb_mask"][8, 8] == 1 and t["emb_ids"][8, 8] == 5
    assert t["emb_mask"][8, 10] == 0 and t["emb_ids"][8, 10] == -1


def test_empty_image_is_all_background() -> None:
    t = assign_anchors(np.zeros((0, 6)), CFG, 64, 64)
    assert (t["anc_conf"] == 0).all() and t["emb_mask"].sum() == 0


def test_delta_round_trip() -> None:
    anchors = np.array([[5.0, 6.0, 4.0, 12.0], [1.0, 2.0, 3.0, 9.0]])
    boxes = np.array([[5.5, 5.0, 5.0, 10.0], [2.0, 2.5, 2.0, 12.0]])
    d = encode_deltas(anchors, boxes)
    back = decode_deltas(torch.tensor(anchors), torch.tensor(d)).numpy()
    np.testing.assert_allclose(back, boxes, atol=1e-9)


def _perfect_outputs(targets, reid_dim=4):
    """Logits/deltas that reproduce the targets exactly (objectness = fg where conf == 1)."""
    conf = torch.from_numpy(targets["anc_conf"])[None]  # (1, A, H, W)
    a, h, w = conf.shape[1:]
    logits = torch.zeros(1, a, 2, h, w)
    logits[:, :, 1] = torch.where(conf == 1, 10.0, -10.0)
    box = torch.from_numpy(targets["anc_box"])[None].permute(0, 1, 4, 2, 3).reshape(1, 4 * a, h, w)
    emb = torch.zeros(1, reid_dim, h, w)
    emb[:, 0] = 1
    return {"anc_cls": logits.reshape(1, 2 * a, h, w), "anc_box": box, "id": emb}


def test_decode_recovers_the_box_after_nms() -> None:
    t = assign_anchors(_labels(8, 8, 4, 12), CFG, 64, 64)
    (boxes, scores, emb), = decode_anchor_based(_perfect_outputs(t), CFG, input_h=64, conf_thres=0.5)
    assert len(boxes) == 1  # every positive anchor decodes to the same box; NMS keeps one
    np.testing.assert_allclose(boxes[0].numpy(), [(8 - 2) * 4, (8 - 6) * 4, (8 + 2) * 4, (8 + 6) * 4], atol=1e-4)
    assert scores[0] > 0.99
    assert emb.shape == (1, 4) and emb[0].norm().item() == pytest.approx(1.0)


def test_anchor_loss_small_for_perfect_prediction_and_grad_flows() -> None:
    t = assign_anchors(_labels(8, 8, 4, 12), CFG, 64, 64)
    batch = {k: torch.from_numpy(v)[None] for k, v in t.items()}
    crit = AnchorLoss(CFG, emb_dim=4, num_ids=8, multi_loss="fixed")
    _, good = crit(_perfect_outputs(t), batch)
    out = {k: torch.zeros_like(v, requires_grad=True) for k, v in _perfect_outputs(t).items()}
    loss, bad = crit(out, batch)
    assert good["conf_loss"] < 1e-3 and good["box_loss"] < 1e-9
    assert bad["conf_loss"] > 0.5 and bad["box_loss"] > 0
    loss.backward()
    assert out["anc_box"].grad.abs().sum() > 0


def test_heads_default_four_anchors_of_aspect_one_third() -> None:
    cfg = AnchorConfig()
    assert cfg.num_anchors == 4 and cfg.aspect == pytest.approx(1 / 3)
    assert anchor_heads(cfg, 128) == {"anc_cls": 8, "anc_box": 16, "id": 128}


def test_anchor_foreground_weight_is_a_weighted_mean_over_anchors() -> None:
    """fg_weight w: sum(w_i * CE_i) / sum(w_i) over non-ignored anchors (w_i = w on foreground, 1 on
    background); w = 1 is JDE's plain mean."""
    t = assign_anchors(_labels(8, 8, 4, 12), CFG, 64, 64)
    batch = {k: torch.from_numpy(v)[None] for k, v in t.items()}
    out = {k: torch.randn_like(v) for k, v in _perfect_outputs(t).items()}
    logits = out["anc_cls"].view(1, CFG.num_anchors, 2, 16, 16).permute(0, 1, 3, 4, 2).reshape(-1, 2)
    conf = batch["anc_conf"].reshape(-1)
    keep = conf >= 0
    ce = F.cross_entropy(logits[keep], conf[keep], reduction="none")
    for w in (1.0, 50.0):
        weights = torch.where(conf[keep] == 1, w, 1.0)
        expected = (weights * ce).sum() / weights.sum()
        _, stats = AnchorLoss(CFG, emb_dim=4, num_ids=8, multi_loss="fixed", fg_weight=w)(out, batch)
        assert stats["conf_loss"].item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="foreground weight"):
        AnchorLoss(CFG, emb_dim=4, num_ids=8, fg_weight=0.0)


def test_anchor_focal_loss_on_a_hand_computed_case() -> None:
    """Three anchors: foreground at p=0.8, background at p(person)=0.2, one ignored.
    Loss = [0.25 * 0.2^2 * -log 0.8 + 0.75 * 0.2^2 * -log 0.8] / 1 foreground."""
    import math

    from mot_bench.detectors.fairmot.training.anchor import anchor_focal_loss

    logit = math.log(0.8 / 0.2)  # softmax([0, logit]) = [0.2, 0.8]
    logits = torch.tensor([[[0.0, logit, 5.0]], [[logit, 0.0, -5.0]]]).permute(1, 0, 2)  # (1, 2, 3)
    target = torch.tensor([[1, 0, -1]])
    expected = (0.25 + 0.75) * 0.2**2 * -math.log(0.8)
    assert anchor_focal_loss(logits, target).item() == pytest.approx(expected, rel=1e-5)
    # no foreground: divided by 1, not 0
    assert anchor_focal_loss(logits, torch.tensor([[0, 0, -1]])).item() == pytest.approx(
        0.75 * 0.8**2 * -math.log(0.2) + 0.75 * 0.2**2 * -math.log(0.8), rel=1e-5)


def test_anchor_loss_focal_option_is_used_and_validated() -> None:
    from mot_bench.detectors.fairmot.training.anchor import anchor_focal_loss
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig

    t = assign_anchors(_labels(8, 8, 4, 12), CFG, 64, 64)
    batch = {k: torch.from_numpy(v)[None] for k, v in t.items()}
    out = {k: torch.randn_like(v) for k, v in _perfect_outputs(t).items()}
    _, stats = AnchorLoss(CFG, emb_dim=4, num_ids=8, multi_loss="fixed", conf_loss="focal")(out, batch)
    logits = out["anc_cls"].view(1, CFG.num_anchors, 2, 16, 16).permute(0, 2, 1, 3, 4)
    assert stats["conf_loss"].item() == pytest.approx(anchor_focal_loss(logits, batch["anc_conf"]).item(), rel=1e-6)
    with pytest.raises(ValueError, match="'ce' or 'focal'"):
        AnchorLoss(CFG, emb_dim=4, num_ids=8, conf_loss="hinge")
    with pytest.raises(ValueError, match="anchor_conf_loss"):
        TrainConfig.from_dict({"head": "anchor_based", "anchor_conf_loss": "hinge"})
    with pytest.raises(ValueError, match="alpha"):
        TrainConfig.from_dict({"head": "anchor_based", "anchor_conf_loss": "focal", "anchor_fg_weight": 5.0})


def test_anchor_options_do_not_change_the_anchor_free_training_key() -> None:
    """An ablation sharing one base config across heads retrains the anchor-free head only when
    something it uses changes."""
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig

    base = TrainConfig(head="anchor_free")
    assert TrainConfig(head="anchor_free", anchors={"heights": [0.1]}, anchor_fg_weight=9.0).key() == base.key()
    anchor = TrainConfig(head="anchor_based")
    assert TrainConfig(head="anchor_based", anchor_fg_weight=9.0).key() != anchor.key()
    assert TrainConfig(head="anchor_based", anchors={"heights": [0.1]}).key() != anchor.key()
    assert TrainConfig(head="anchor_based", anchor_conf_loss="focal").key() != anchor.key()
    assert TrainConfig(head="anchor_free", anchor_conf_loss="focal").key() == base.key()
    assert TrainConfig(head="anchor_based", anchor_box_weight=10.0).key() != anchor.key()
    assert TrainConfig(head="anchor_free", anchor_box_weight=10.0).key() == base.key()


def test_anchor_box_weight_reaches_the_loss() -> None:
    """``anchor_box_weight`` w: the fixed-weight detection loss is conf + w * box."""
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig, build_model_and_loss

    t = assign_anchors(_labels(8, 8, 4, 12), CFG, 64, 64)
    batch = {k: torch.from_numpy(v)[None] for k, v in t.items()}
    out = {k: torch.randn_like(v) for k, v in _perfect_outputs(t).items()}
    for w in (1.0, 10.0):
        cfg = TrainConfig(head="anchor_based", arch="dla_tiny", head_conv=8, reid_dim=4, dcn="fast",
                          anchors=CFG.to_dict(), anchor_box_weight=w, id_weight=0.0, multi_loss="fixed")
        _, crit = build_model_and_loss(cfg, 8)
        loss, stats = crit(out, batch)
        assert stats["box_loss"].item() > 0
        assert loss.item() == pytest.approx((stats["conf_loss"] + w * stats["box_loss"]).item(), rel=1e-5)


def test_delta_std_scales_targets_and_decoding_undoes_it() -> None:
    """Faster R-CNN-style delta normalisation: targets are the JDE deltas over std; decoding gives the same box."""
    scaled = AnchorConfig(heights=CFG.heights, aspect=CFG.aspect, delta_std=(0.1, 0.1, 0.2, 0.2))
    labels = _labels(8.5, 8.25, 5, 10)
    raw, t = assign_anchors(labels, CFG, 64, 64), assign_anchors(labels, scaled, 64, 64)
    np.testing.assert_array_equal(t["anc_conf"], raw["anc_conf"])
    pos = raw["anc_conf"] == 1
    assert np.abs(raw["anc_box"][pos]).max() > 0.1
    np.testing.assert_allclose(t["anc_box"][pos], raw["anc_box"][pos] / [0.1, 0.1, 0.2, 0.2], rtol=1e-5)
    (boxes, _, _), = decode_anchor_based(_perfect_outputs(t), scaled, input_h=64, conf_thres=0.5)
    want = [(8.5 - 2.5) * 4, (8.25 - 5) * 4, (8.5 + 2.5) * 4, (8.25 + 5) * 4]
    np.testing.assert_allclose(boxes[0].numpy(), want, atol=1e-4)
    assert AnchorConfig.from_dict(scaled.to_dict()) == scaled
    with pytest.raises(ValueError, match="delta_std"):
        AnchorConfig(delta_std=(0.1, 0.1, 0.2))
