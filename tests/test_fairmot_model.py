"""FairMOT networks and checkpoints: the official key layout, strict loading, outputs, backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from mot_bench.detectors.fairmot import (
    CheckpointError,
    build_model,
    canonical_arch,
    load_model,
    save_checkpoint,
    set_dcn_backend,
    weights_hash,
)
from mot_bench.detectors.fairmot.checkpoint import read_checkpoint
from mot_bench.detectors.fairmot.dcn import DCN

_DTYPES = {"float32": torch.float32, "int64": torch.int64}


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def official_keys(shared_data: Path) -> dict:
    path = shared_data.parent / "fairmot" / "fairmot_dla34_keys.json"
    if not path.is_file():
        pytest.fail(f"{path} missing: the official FairMOT DLA-34 key list is needed for this test")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def dla34(official_keys: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(official_keys["arch"], official_keys["heads"], official_keys["head_conv"])


def _official_random_state(official_keys: dict, seed: int = 1) -> dict[str, torch.Tensor]:
    """A state dict built only from the official key list (names, shapes, dtypes), random values."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for name, shape, dtype in official_keys["state_dict"]:
        if _DTYPES[dtype] == torch.int64:
            out[name] = torch.randint(0, 1000, tuple(shape), generator=g, dtype=torch.int64)
        elif name.endswith("running_var"):
            out[name] = torch.rand(tuple(shape), generator=g) + 0.5
        else:
            out[name] = torch.randn(tuple(shape), generator=g) * 0.05
    return out


def test_dla34_state_dict_matches_official_keys(official_keys: dict, dla34: torch.nn.Module) -> None:
    ours = {k: (list(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in dla34.state_dict().items()}
    ref = {name: (shape, dtype) for name, shape, dtype in official_keys["state_dict"]}
    assert set(ours) == set(ref), (sorted(set(ref) - set(ours))[:10], sorted(set(ours) - set(ref))[:10])
    assert ours == ref
    assert official_keys["down_ratio"] == dla34.down_ratio == 4


def test_official_init_rules(dla34: torch.nn.Module) -> None:
    assert torch.allclose(dla34.hm[2].bias, torch.full_like(dla34.hm[2].bias, -2.19))
    for head in ("wh", "reg", "id"):
        assert torch.count_nonzero(getattr(dla34, head)[2].bias) == 0
        assert torch.count_nonzero(getattr(dla34, head)[0].bias) == 0
    up = dla34.ida_up.up_1.weight  # 4x4 bilinear kernel, same in every channel
    assert torch.allclose(up[0, 0, 0], torch.tensor([0.0625, 0.1875, 0.1875, 0.0625]))
    assert torch.equal(up[0], up[-1])


def test_official_layout_checkpoint_loads_strictly(official_keys: dict, tmp_path: Path) -> None:
    """Random weights written the way FairMOT's save_model does (and with DataParallel's prefix)."""
    state = _official_random_state(official_keys)
    path = tmp_path / "model_last.pth"
    torch.save({"epoch": 30, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    model = load_model(path, arch="dla_34", dcn="fast")
    assert not model.training
    loaded = model.state_dict()
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    assert weights_hash(loaded) == weights_hash(state)
    # a bare state dict (no 'epoch'/'state_dict' wrapper) in memory loads the same way
    model2 = load_model(state, arch="dla34", heads=official_keys["heads"])
    assert weights_hash(model2.state_dict()) == weights_hash(state)


def test_strict_loading_names_the_problems(official_keys: dict) -> None:
    state = _official_random_state(official_keys)
    del state["ida_up.node_2.conv.conv_offset_mask.bias"]
    state["base.fc.weight"] = torch.zeros(1000, 512, 1, 1)
    state["id.2.weight"] = torch.zeros(64, 256, 1, 1)
    state["id.2.bias"] = torch.zeros(64)
    with pytest.raises(CheckpointError) as err:
        load_model(state, arch="dla34", heads=official_keys["heads"])
    msg = str(err.value)
    assert "missing keys (1): ida_up.node_2.conv.conv_offset_mask.bias" in msg
    assert "unexpected keys (1): base.fc.weight" in msg
    assert "id.2.weight: checkpoint (64, 256, 1, 1) vs model (128, 256, 1, 1)" in msg


def test_heads_inferred_from_checkpoint(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_model("dla_tiny", heads={"hm": 1, "wh": 2, "id": 64, "reg": 2}, head_conv=16)
    path = tmp_path / "tiny.pth"
    save_checkpoint(path, model, epoch=3)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {"epoch", "state_dict"} and raw["epoch"] == 3
    loaded = load_model(path, arch="dla_tiny", head_conv=16)
    assert loaded.heads == {"hm": 1, "wh": 2, "id": 64, "reg": 2}


def test_weights_hash_is_stable_and_sensitive() -> None:
    torch.manual_seed(0)
    state = build_model("dla_tiny", head_conv=8).state_dict()
    h1 = weights_hash(state)
    reordered = dict(reversed(list(state.items())))
    assert weights_hash(reordered) == h1
    changed = dict(state)
    changed["hm.2.bias"] = state["hm.2.bias"] + 1e-6
    assert weights_hash(changed) != h1
    # a known value: 1 float32 tensor, so the digest format cannot drift silently
    assert weights_hash({"a": torch.zeros(1)}) == weights_hash({"a": torch.zeros(1)})
    assert len(h1) == 64


def test_read_checkpoint_errors(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "nope.pth")
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        read_checkpoint(bad)
    with pytest.raises(CheckpointError, match="expected a dict"):
        read_checkpoint([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("arch", ["dla_tiny", "resdcn_18"])
def test_output_shapes_stride_4(arch: str) -> None:
    torch.manual_seed(0)
    model = build_model(arch, head_conv=32 if arch == "dla_tiny" else 64, dcn="fast").eval()
    with torch.no_grad():
        out = model(torch.rand(2, 3, 64, 96))
    assert list(out) == ["hm", "wh", "id", "reg"]
    assert out["hm"].shape == (2, 1, 16, 24)
    assert out["wh"].shape == (2, 4, 16, 24)
    assert out["reg"].shape == (2, 2, 16, 24)
    assert out["id"].shape == (2, 128, 16, 24)


def test_resdcn_key_names() -> None:
    model = build_model("resdcn_34", head_conv=256)
    keys = model.state_dict().keys()
    assert "deconv_layers.0.conv_offset_mask.weight" in keys
    assert "deconv_layers.3.weight" in keys and "layer4.2.conv2.weight" in keys
    assert model.state_dict()["deconv_layers.0.weight"].shape == (256, 512, 3, 3)
    assert sum(isinstance(m, DCN) for m in model.modules()) == 3


def test_backends_agree_on_tiny_model() -> None:
    """Same weights (with non-zero learned offsets), fast vs torchvision DCN: same raw outputs."""
    torch.manual_seed(0)
    model = build_model("dla_tiny", head_conv=32).eval()
    for m in model.modules():
        if isinstance(m, DCN):
            torch.nn.init.normal_(m.conv_offset_mask.weight, std=0.3)
            torch.nn.init.normal_(m.conv_offset_mask.bias, std=1.0)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        ref = set_dcn_backend(model, "torchvision")(x)
        got = set_dcn_backend(model, "fast")(x)
    for k in ref:
        rel = float((got[k] - ref[k]).abs().max() / ref[k].abs().max())
        assert rel <= 1e-5, (k, rel)


def test_arch_names() -> None:
    assert canonical_arch("dla34") == canonical_arch("dla_34") == "dla_34"
    assert canonical_arch("resdcn_18") == "resdcn_18"
    with pytest.raises(ValueError, match="unknown FairMOT arch 'hrnet_18'"):
        canonical_arch("hrnet_18")
