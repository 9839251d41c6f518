"""FairMOT as a library: build or load the network, get its raw head outputs.

>>> model = load_model("fairmot_dla34.pth", arch="dla34", dcn="fast")   # eval mode, on CPU
>>> model = load_model("exp/fairmot/model_last.pth")   # ours: the checkpoint names its network
>>> model = load_model(bundled_checkpoint())    # the MobileNetV2 FairMOT shipped in the package
>>> out = model(images)          # images: (N, 3, H, W) float, letterboxed RGB / 255
>>> out["hm"], out["wh"], out["reg"], out["id"]   # stride 4; hm before sigmoid, id before L2-norm

Pre/post-processing lives in :mod:`mot_bench.detectors.fairmot.preprocess` and
:mod:`mot_bench.detectors.fairmot.decode`;
the runner-facing detector in :mod:`mot_bench.detectors.fairmot.detector`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mot_bench.detectors.fairmot.checkpoint import (
    CheckpointError,
    NetworkSpec,
    checkpoint_meta,
    heads_from_state_dict,
    load_state_dict,
    read_checkpoint,
    resolve_network,
    save_checkpoint,
)
from mot_bench.detectors.fairmot.dcn import BACKENDS, DCN, set_dcn_backend
from mot_bench.detectors.fairmot.networks import DEFAULT_HEADS, MOBILENET_ARCHS, canonical_arch, create_network
from mot_bench.detectors.weights import weights_hash

__all__ = [
    "BACKENDS",
    "DCN",
    "DEFAULT_HEADS",
    "CheckpointError",
    "NetworkSpec",
    "build_from_spec",
    "build_model",
    "canonical_arch",
    "heads_from_state_dict",
    "load_model",
    "read_network_spec",
    "save_checkpoint",
    "set_dcn_backend",
    "weights_hash",
]


def build_model(
    arch: str = "dla34", heads: Mapping[str, int] | None = None, head_conv: int = 256, dcn: str = "torchvision", *,
    down_ratio: int = 4, input_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
) -> nn.Module:
    """A randomly initialised FairMOT network (official init rules), in train mode, for training.
    ``down_ratio``/``input_norm``: MobileNetV2 archs only (see ``create_network``)."""
    return create_network(arch, dict(heads) if heads is not None else None, head_conv, dcn, down_ratio=down_ratio,
                          input_norm=input_norm)


def build_from_spec(spec: NetworkSpec, dcn: str = "fast") -> nn.Module:
    """The (randomly initialised) network a :class:`NetworkSpec` describes: arch, heads, head_conv, and for the
    MobileNetV2 archs the output stride and input normalisation recorded in the checkpoint's meta."""
    mobile = canonical_arch(spec.arch) in MOBILENET_ARCHS
    return create_network(spec.arch, dict(spec.heads), spec.head_conv, dcn, down_ratio=spec.down_ratio if mobile else 4,
                          input_norm=spec.input_norm if mobile else None)


def _origin(source: str | Path | Mapping[str, Any]) -> str:
    return str(source) if isinstance(source, (str, Path)) else "the given state dict"


def read_network_spec(checkpoint_path_or_state_dict: str | Path | Mapping[str, Any], **options: Any) -> NetworkSpec:
    """The network a checkpoint fits (arch, heads, head_conv, head type, anchors, input size): from its
    metadata when ``mot-bench train`` wrote it, else from ``options`` and the official defaults."""
    state, extra = read_checkpoint(checkpoint_path_or_state_dict)
    origin = _origin(checkpoint_path_or_state_dict)
    return resolve_network(state, checkpoint_meta(extra, origin), origin=origin, **options)


def load_model(
    checkpoint_path_or_state_dict: str | Path | Mapping[str, Any],
    arch: str | None = None,
    dcn: str = "fast",
    device: str | torch.device = "cpu",
    heads: Mapping[str, int] | None = None,
    head_conv: int | None = None,
    strict: bool = True,
) -> nn.Module:
    """Build the checkpoint's network and load it (strict by default), in eval mode.

    A checkpoint written by ``mot-bench train`` names its network in its metadata: pass only the path
    (an option that contradicts the metadata is refused). An official checkpoint has none: ``arch``
    (default dla34) and ``head_conv`` (default 256) as given, ``heads=None`` takes the heads from the
    checkpoint's shapes (e.g. ``wh`` 4 for ltrb, 2 for wh; ``id`` 128 or 64). ``dcn``: ``"fast"`` (CPU,
    plain PyTorch) or ``"torchvision"``; on CUDA the torchvision kernel is used either way. The model's
    forward returns its raw head outputs (``{'hm', 'wh', 'reg', 'id'}`` for the anchor-free head).
    """
    state, extra = read_checkpoint(checkpoint_path_or_state_dict)
    origin = _origin(checkpoint_path_or_state_dict)
    spec = resolve_network(state, checkpoint_meta(extra, origin), arch=arch, heads=heads, head_conv=head_conv,
                           origin=origin)
    model = build_from_spec(spec, dcn)
    load_state_dict(model, state, strict=strict, origin=f"{origin} (arch {spec.arch})")
    return model.to(device).eval()
