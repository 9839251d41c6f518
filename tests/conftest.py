"""Shared fixtures: where the real MOTChallenge data lives, and tiny synthetic sequences."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _shared_data() -> Path | None:
    env = os.environ.get("MOT_BENCH_SHARED_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = _shared_data()
    if path is None:
        pytest.fail("real data not found: set MOT_BENCH_SHARED_DATA or place it at ../shared/data")
    return path


@pytest.fixture(autouse=True)
def _restore_registries():
    """Plugins a test registers (``DETECTORS.register(...)``) do not outlive the test."""
    from mot_bench.registry import DETECTORS, TRACKERS

    saved = [(r, r.snapshot()) for r in (DETECTORS, TRACKERS)]
    yield
    for registry, snap in saved:
        registry.restore(snap)


@pytest.fixture(scope="module")
def torch_one_thread():
    """One intra-op thread for small-model tests: on a shared, oversubscribed CPU, OpenMP's spinning
    threads make small models ten times slower with 2 threads than with 1."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
