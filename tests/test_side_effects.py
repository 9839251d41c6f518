"""Library calls leave no process-wide state behind: registries after a test, torch switches after train()."""

from __future__ import annotations

import torch

from mot_bench.plugins import Tracker
from mot_bench.registry import DETECTORS, TRACKERS, Registry


class _Leaky(Tracker):
    name = "leaky-test-tracker"


def test_registry_snapshot_and_restore() -> None:
    reg = Registry("tracker", "mot_bench.no_such_group", {"sort": "mot_bench.trackers.sort:SortTracker"})
    snap = reg.snapshot()
    reg.register("extra")(_Leaky)
    assert "extra" in reg.names()
    reg.restore(snap)
    assert reg.names() == ["sort"]


def test_a_test_registers_a_plugin() -> None:
    TRACKERS.register("leaky-test-tracker")(_Leaky)
    DETECTORS.register("leaky-test-detector")(_Leaky)
    assert "leaky-test-tracker" in TRACKERS.names()


def test_registrations_do_not_outlive_their_test() -> None:
    # runs after the test above (same module, file order): the autouse fixture restored both registries
    assert "leaky-test-tracker" not in TRACKERS.names()
    assert "leaky-test-detector" not in DETECTORS.names()


def test_train_restores_deterministic_algorithms_and_threads(tmp_path) -> None:
    from mot_bench.data.synthetic import make_sequence
    from mot_bench.detectors.fairmot.training.trainer import TrainConfig, train

    make_sequence(tmp_path / "data", "SYN-01", length=4, width=64, height=32, num_people=2, seed=0)
    cfg = TrainConfig.from_dict(dict(
        datasets=[{"root": str(tmp_path / "data")}], out=str(tmp_path / "exp"), arch="dla_tiny", head_conv=8,
        reid_dim=8, dcn="fast", input_w=64, input_h=32, batch_size=2, num_epochs=1, num_workers=0, threads=1,
        progress=False, device="cpu"))
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert before == (False, False)
        train(cfg)
        assert (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled()) == before
        assert torch.get_num_threads() == 2
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.set_num_threads(threads)
