"""FairMOT pre/post-processing: the JDE letterbox and mot_decode + inverse letterbox, on known inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mot_bench.detectors.fairmot.decode import decode_outputs, make_meta, mot_decode, post_process
from mot_bench.detectors.fairmot.preprocess import letterbox, preprocess


def test_letterbox_geometry_and_padding() -> None:
    img = np.full((480, 640, 3), 10, np.uint8)
    out, lb = letterbox(img, height=608, width=1088)
    assert out.shape == (608, 1088, 3)
    assert lb.ratio == pytest.approx(608 / 480)
    # 640 * 1.2667 = 810.67 -> 811 wide; (1088 - 811) / 2 = 138.5 -> 138 left, 139 right
    assert lb.dw == pytest.approx(138.5) and lb.dh == 0
    assert (out[:, :138] == 128).all() and (out[:, 138 + 811 :] == 128).all()  # 127.5 rounds to 128 in uint8
    assert (out[:, 138:949] == 10).all()
    blob = preprocess(img, 1088, 608)
    assert blob.shape == (3, 608, 1088) and blob.dtype == np.float32
    assert blob[0, 0, 0] == pytest.approx(128 / 255) and blob[0, 300, 500] == pytest.approx(10 / 255)


def test_preprocess_is_rgb_and_rejects_bad_sizes() -> None:
    img = np.zeros((64, 64, 3), np.uint8)
    img[..., 0] = 255  # blue in BGR
    blob = preprocess(img, 64, 64)
    assert blob[2].min() == 1.0 and blob[0].max() == 0.0  # blue ends up in channel 2 (RGB)
    with pytest.raises(ValueError, match="multiple of 32"):
        preprocess(img, 1000, 600)
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        preprocess(np.zeros((10, 10), np.uint8), 64, 64)


def _synthetic_outputs(h: int, w: int) -> dict[str, torch.Tensor]:
    hm = torch.full((1, 1, h, w), -12.0)
    wh = torch.zeros((1, 4, h, w))
    reg = torch.zeros((1, 2, h, w))
    ident = torch.randn((1, 128, h, w), generator=torch.Generator().manual_seed(0))
    hm[0, 0, 10, 20] = 3.0  # the peak: sigmoid(3) = 0.9526
    hm[0, 0, 10, 21] = 2.5  # a neighbour, suppressed by the 3x3 max-pool NMS
    hm[0, 0, 40, 100] = -1.0  # a separate peak below the 0.4 threshold (sigmoid = 0.269)
    wh[0, :, 10, 20] = torch.tensor([5.0, 10.0, 6.0, 12.0])  # left, top, right, bottom
    reg[0, :, 10, 20] = torch.tensor([0.25, 0.5])
    return {"hm": hm, "wh": wh, "reg": reg, "id": ident}


def test_mot_decode_on_grid() -> None:
    out = _synthetic_outputs(152, 272)
    dets, inds = mot_decode(out["hm"].sigmoid(), out["wh"], out["reg"], ltrb=True, K=500)
    assert dets.shape == (1, 500, 6) and inds.shape == (1, 500)
    top = dets[0, 0]
    assert top[:4].tolist() == pytest.approx([20.25 - 5, 10.5 - 10, 20.25 + 6, 10.5 + 12])
    assert float(top[4]) == pytest.approx(1 / (1 + np.exp(-3)), rel=1e-6)
    assert int(inds[0, 0]) == 10 * 272 + 20
    assert float(dets[0, 1, 4]) == pytest.approx(1 / (1 + np.exp(1)), rel=1e-6)  # NMS removed the neighbour


def test_decode_maps_back_to_original_pixels() -> None:
    """640x480 image letterboxed into 1088x608: the box found on the stride-4 grid comes back in
    image pixels by the affine centre/scale map: x = cx + (gx - out_w / 2) * s / out_w."""
    out = _synthetic_outputs(152, 272)
    meta = make_meta(640, 480, 1088, 608)
    tlbr, scores, emb = decode_outputs(out, meta, conf_thres=0.4, K=500)
    assert tlbr.shape == (1, 4) and scores.shape == (1,) and emb.shape == (1, 128)
    s = max(1088 / 608 * 480, 640)
    gx = np.array([15.25, 26.25])
    gy = np.array([0.5, 22.5])
    ex = 320 + (gx - 136) * s / 272
    ey = 240 + (gy - 76) * s / 272
    assert tlbr[0].tolist() == pytest.approx([ex[0], ey[0], ex[1], ey[1]], abs=1e-3)
    ref_emb = out["id"][0, :, 10, 20].numpy()
    assert emb[0] == pytest.approx(ref_emb / np.linalg.norm(ref_emb), abs=1e-6)
    assert np.linalg.norm(emb[0]) == pytest.approx(1.0, abs=1e-6)
    # the same map nearly undoes the letterbox (grid * 4 - padding, / ratio); the official map ignores
    # the rounding of the resized width (811 vs 810.67 px), hence a fraction of a pixel apart
    ratio = 608 / 480
    assert ex[0] == pytest.approx((gx[0] * 4 - 138.5) / ratio, abs=0.25)
    # threshold is strict '>' as the official tracker; lowering it admits the second peak
    tlbr2, scores2, _ = decode_outputs(out, meta, conf_thres=0.2, K=500)
    assert len(scores2) == 2 and scores2[1] == pytest.approx(1 / (1 + np.exp(1)), rel=1e-6)


def test_post_process_identity_when_no_letterbox() -> None:
    """An image already at the input size: grid coordinates times 4 are image pixels."""
    meta = make_meta(1088, 608, 1088, 608)
    dets = np.array([[1.0, 2.0, 30.5, 40.25, 0.9, 0.0]], np.float32)
    got = post_process(dets, meta)
    assert got[0].tolist() == pytest.approx([4.0, 8.0, 122.0, 161.0, 0.9], abs=1e-4)
