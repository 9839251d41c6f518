"""Official FairMOT checkpoints in and out, unchanged in layout.

A checkpoint is what ``torch.save`` wrote in FairMOT's ``save_model``: ``{'epoch', 'state_dict',
optional 'optimizer'}``; a bare state dict is accepted too. Keys saved from ``DataParallel`` carry a
``module.`` prefix, which is dropped on load (as the official ``load_model`` does). Unlike the official
loader, which prints and silently keeps random weights for anything that does not match, loading here
is strict by default and fails with the list of missing, unexpected and mis-shaped keys.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mot_bench.atomic import atomic_write

StateDict = dict[str, torch.Tensor]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model."""


def _strip_module(state_dict: Mapping[str, Any]) -> StateDict:
    out: StateDict = {}
    for key, value in state_dict.items():
        if key.startswith("module.") and not key.startswith("module_list"):
            key = key[len("module.") :]
        out[key] = value
    return out


def read_checkpoint(source: str | Path | Mapping[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    """(state dict with ``module.`` dropped, the other top-level entries such as ``epoch``).

    ``source`` is a path to a ``.pth`` file, a checkpoint dict or a bare state dict.
    """
    origin = "the given state dict"
    if isinstance(source, (str, Path)):
        path = Path(source)
        origin = str(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: checkpoint file not found")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for a corrupt or foreign file
            raise CheckpointError(f"{path}: cannot read as a PyTorch checkpoint: {exc}") from None
    else:
        obj = source
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{origin}: expected a dict (checkpoint or state dict), got {type(obj).__name__}")
    if "state_dict" in obj:
        meta = {k: v for k, v in obj.items() if k != "state_dict"}
        state = obj["state_dict"]
        if not isinstance(state, Mapping):
            raise CheckpointError(f"{origin}: 'state_dict' is a {type(state).__name__}, expected a dict")
    else:
        meta, state = {}, obj
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{origin}: state dict entries that are not tensors: {bad[:5]}")
    return _strip_module(state), meta


def _short(keys: list[str], limit: int = 20) -> str:
    more = f" ... (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], strict: bool = True,
                    origin: str = "checkpoint") -> list[str]:  # fmt: skip
    """Copy weights into ``model``. Strict: any missing, unexpected or mis-shaped key is an error
    naming them all. Non-strict: loads what fits and returns the problems (one line each)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys ({len(missing)}): {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}): {_short(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches ({len(shapes)}): {_short(shapes)}")
    if problems and strict:
        raise CheckpointError(
            f"{origin} does not match the model (wrong arch, heads or head_conv?):\n  " + "\n  ".join(problems)
        )
    fitting = {k: v for k, v in state_dict.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict(fitting, strict=False)
    return problems


def save_checkpoint(path: str | Path, model: nn.Module, epoch: int = 0, optimizer: Any = None) -> None:
    """Write ``{'epoch', 'state_dict'[, 'optimizer']}`` atomically, loadable by the official code."""
    if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    data: dict[str, Any] = {"epoch": epoch, "state_dict": model.state_dict()}
    if optimizer is not None:
        data["optimizer"] = optimizer.state_dict()
    buf = io.BytesIO()
    torch.save(data, buf)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()), mode="wb")


def weights_hash(state_dict: Mapping[str, torch.Tensor]) -> str:
    """sha256 over (name, dtype, shape, bytes) of every tensor.

    Stable across processes and machines for the same values; keys are sorted so that the
    order a checkpoint happened to be saved in does not matter."""
    h = hashlib.sha256()
    for key in sorted(state_dict):
        t = state_dict[key].detach().to("cpu").contiguous()
        h.update(key.encode())
        h.update(str(t.dtype).encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()
