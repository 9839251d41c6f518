"""The identity of a network's weights, shared by every detector that loads a weights file."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import torch


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
