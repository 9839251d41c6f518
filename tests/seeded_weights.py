"""Seeded re-ID weights and inputs that a fixture can name instead of storing: the same (key, shape, seed)
give the same tensors in the driver that ran the official network and in the test that runs ours, so the
fixture holds the official key list and the official output, not a weights file.

Values are drawn with numpy's PCG64 (one generator per tensor, seeded ``[seed, index]``) and made float32;
every tensor is perturbed away from a freshly initialised network's (BatchNorm statistics and affine
parameters included), so the check exercises every layer. A sha256 over all tensors is stored beside the
output: a change of numpy's streams would show as a digest mismatch, not as a model difference.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch


def seeded_tensor(name: str, shape: list[int], dtype: str, seed: int, index: int) -> torch.Tensor:
    if dtype == "torch.int64":  # BatchNorm's num_batches_tracked
        return torch.zeros(shape, dtype=torch.int64)
    rng = np.random.default_rng([seed, index])
    leaf = name.rsplit(".", 1)[-1]
    if leaf == "running_var":
        values = rng.uniform(0.5, 1.5, shape)
    elif leaf == "weight" and len(shape) == 1:  # BatchNorm scale
        values = rng.uniform(0.5, 1.5, shape)
    elif leaf in ("bias", "running_mean"):
        values = rng.normal(0.0, 0.1, shape)
    else:  # conv and linear weights: unit-variance outputs
        values = rng.normal(0.0, 1.0 / math.sqrt(max(1, math.prod(shape[1:]))), shape)
    return torch.from_numpy(values.astype(np.float32))


def seeded_state(keys: list[list], seed: int) -> dict[str, torch.Tensor]:
    """``keys``: ``[name, shape, dtype]`` rows in state-dict order."""
    return {name: seeded_tensor(name, shape, dtype, seed, i) for i, (name, shape, dtype) in enumerate(keys)}


def seeded_input(shape: list[int], seed: int) -> torch.Tensor:
    return torch.from_numpy(np.random.default_rng([seed, 10**6]).normal(0.0, 1.0, shape).astype(np.float32))


def tensors_sha256(tensors: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name, t in tensors.items():
        digest.update(name.encode())
        digest.update(t.contiguous().numpy().tobytes())
    return digest.hexdigest()
