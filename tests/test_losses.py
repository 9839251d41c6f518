"""FairMOT losses on hand-computed cases."""

from __future__ import annotations

import math

import pytest
import torch

from mot_bench.detectors.fairmot.training.losses import (
    MotLoss,
    ReIDLoss,
    UncertaintyWeighting,
    emb_scale_for,
    focal_loss,
    reg_l1_loss,
)


def test_focal_loss_hand_computed() -> None:
    gt = torch.tensor([[[[1.0, 0.5], [0.0, 0.0]]]])
    pred = torch.tensor([[[[0.9, 0.2], [0.1, 0.3]]]])
    pos = math.log(0.9) * 0.1**2
    neg = math.log(0.8) * 0.2**2 * 0.5**4 + math.log(0.9) * 0.1**2 + math.log(0.7) * 0.3**2
    assert focal_loss(pred, gt).item() == pytest.approx(-(pos + neg), rel=1e-5)


def test_focal_loss_without_positives_is_the_negative_sum() -> None:
    gt = torch.zeros(1, 1, 1, 2)
    pred = torch.tensor([[[[0.2, 0.4]]]])
    expected = -(math.log(0.8) * 0.04 + math.log(0.6) * 0.16)
    assert focal_loss(pred, gt).item() == pytest.approx(expected, rel=1e-5)


def test_reg_l1_loss_hand_computed() -> None:
    out = torch.arange(8, dtype=torch.float32).view(1, 2, 2, 2)  # channel 0: 0..3, channel 1: 4..7
    ind = torch.tensor([[3, 0]])
    mask = torch.tensor([[1, 0]])
    target = torch.tensor([[[1.0, 10.0], [100.0, 100.0]]])
    # valid object at flat index 3: pred (3, 7) vs (1, 10) -> |2| + |3| = 5 over 2 valid elements
    assert reg_l1_loss(out, mask, ind, target).item() == pytest.approx(5 / (2 + 1e-4), rel=1e-6)


def test_uncertainty_weighting_formula_and_fixed_option() -> None:
    w = UncertaintyWeighting()
    det, idl = torch.tensor(2.0), torch.tensor(3.0)
    expected = 0.5 * (math.exp(1.85) * 2 + math.exp(1.05) * 3 + (-1.85 - 1.05))
    assert w(det, idl).item() == pytest.approx(expected, rel=1e-6)
    w(det, idl).backward()
    # d/ds_det = 0.5 * (1 - e^{-s_det} det)
    assert w.s_det.grad.item() == pytest.approx(0.5 * (1 - math.exp(1.85) * 2), rel=1e-6)
    assert UncertaintyWeighting("fixed")(det, idl).item() == pytest.approx(2.3)
    with pytest.raises(ValueError):
        UncertaintyWeighting("sum")


def test_reid_loss_scales_normalised_embeddings() -> None:
    assert emb_scale_for(10) == pytest.approx(math.sqrt(2) * math.log(9))
    with pytest.raises(ValueError, match="nID"):
        emb_scale_for(2)
    loss = ReIDLoss(emb_dim=2, num_ids=10)
    with torch.no_grad():
        loss.classifier.weight.zero_()
        loss.classifier.bias.zero_()
        loss.classifier.weight[3] = torch.tensor([1.0, 0.0])
    emb = torch.tensor([[5.0, 0.0], [0.0, 2.0]])  # norms differ; normalisation removes it
    target = torch.tensor([3, -1])  # -1 ignored
    s = loss.emb_scale
    expected = -(s - math.log(math.exp(s) + 9))
    assert loss(emb, target).item() == pytest.approx(expected, rel=1e-5)


def test_mot_loss_combines_terms() -> None:
    torch.manual_seed(0)
    b, h, w = 2, 8, 8
    out = {"hm": torch.randn(b, 1, h, w), "wh": torch.randn(b, 4, h, w), "reg": torch.randn(b, 2, h, w),
           "id": torch.randn(b, 16, h, w)}
    batch = {"hm": torch.zeros(b, 1, h, w), "ind": torch.tensor([[9, 0], [20, 0]]),
             "reg_mask": torch.tensor([[1, 0], [1, 0]]), "wh": torch.rand(b, 2, 4), "reg": torch.rand(b, 2, 2),
             "ids": torch.tensor([[1, 0], [2, 0]])}
    batch["hm"][0, 0, 1, 1] = 1
    batch["hm"][1, 0, 2, 4] = 1
    crit = MotLoss(16, 5, multi_loss="fixed")
    loss, stats = crit(out, batch)
    det = stats["hm_loss"] + 0.1 * stats["wh_loss"] + stats["off_loss"]
    assert loss.item() == pytest.approx((det + 0.1 * stats["id_loss"]).item(), rel=1e-6)
    assert stats["id_loss"].item() > 0
