"""FairMOT as a library: build or load the network, get its raw head outputs.

>>> model = load_model("fairmot_dla34.pth", arch="dla34", dcn="fast")   # eval mode, on CPU
>>> out = model(images)          # images: (N, 3, H, W) float, letterboxed RGB / 255
>>> out["hm"], out["wh"], out["reg"], out["id"]   # stride 4; hm before sigmoid, id before L2-norm

Pre/post-processing lives in :mod:`detectors.fairmot.preprocess` and :mod:`detectors.fairmot.decode`;
the runner-facing detector in :mod:`detectors.fairmot.detector`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from detectors.fairmot.checkpoint import (
    CheckpointError,
    load_state_dict,
    read_checkpoint,
    save_checkpoint,
    weights_hash,
)
from detectors.fairmot.dcn import BACKENDS, DCN, set_dcn_backend
from detectors.fairmot.networks import DEFAULT_HEADS, canonical_arch, create_network

__all__ = [
    "BACKENDS",
    "DCN",
    "DEFAULT_HEADS",
    "CheckpointError",
    "build_model",
    "canonical_arch",
    "heads_from_state_dict",
    "load_model",
    "save_checkpoint",
    "set_dcn_backend",
    "weights_hash",
]


def build_model(
    arch: str = "dla34", heads: Mapping[str, int] | None = None, head_conv: int = 256, dcn: str = "torchvision"
) -> nn.Module:
    """A randomly initialised FairMOT network (official init rules), in train mode, for training."""
    return create_network(arch, dict(heads) if heads is not None else None, head_conv, dcn)


def heads_from_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """The heads a checkpoint was trained with, read from its last head conv shapes."""
    heads: dict[str, int] = {}
    for name in ("hm", "wh", "id", "reg"):
        for key in (f"{name}.2.weight", f"{name}.weight"):
            if key in state_dict:
                heads[name] = int(state_dict[key].shape[0])
                break
    return heads


def load_model(
    checkpoint_path_or_state_dict: str | Path | Mapping[str, Any],
    arch: str = "dla34",
    dcn: str = "fast",
    device: str | torch.device = "cpu",
    heads: Mapping[str, int] | None = None,
    head_conv: int = 256,
    strict: bool = True,
) -> nn.Module:
    """Build ``arch`` and load an official checkpoint into it (strict by default), in eval mode.

    ``heads=None`` takes the heads from the checkpoint (e.g. ``wh`` 4 for ltrb, 2 for wh; ``id`` 128
    or 64). ``dcn``: ``"fast"`` (CPU, plain PyTorch) or ``"torchvision"``; on CUDA the torchvision
    kernel is used either way. The model's forward returns ``{'hm', 'wh', 'reg', 'id'}`` raw outputs.
    """
    state, _meta = read_checkpoint(checkpoint_path_or_state_dict)
    if heads is None:
        heads = heads_from_state_dict(state) or DEFAULT_HEADS
    model = create_network(arch, dict(heads), head_conv, dcn)
    origin = (
        str(checkpoint_path_or_state_dict)
        if isinstance(checkpoint_path_or_state_dict, (str, Path))
        else "the given state dict"
    )
    load_state_dict(model, state, strict=strict, origin=f"{origin} (arch {canonical_arch(arch)})")
    return model.to(device).eval()
