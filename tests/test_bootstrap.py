"""Paired bootstrap (mot_bench.metrics.bootstrap): unit weights give the kit's combined metrics, a run
against itself gives exactly zero, a run against a degraded copy is centred on the true difference, and
the draws are seeded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import bootstrap as bs
from mot_bench.metrics import evaluate
from mot_bench.metrics.explain import FRAME_STATS, explain_results, frame_statistics

HALF_VAL = [f"MOT17-{n}-SDP" for n in ("02", "04", "05", "09", "10", "11", "13")]
EXACT = ("IDSW", "CLR_FP", "CLR_FN", "CLR_TP", "Frag")


def _blocks(explained: dict, block: int = bs.DEFAULT_BLOCK) -> dict[str, np.ndarray]:
    return {s: bs.block_sums(frame_statistics(e), block) for s, e in explained.items()}


@pytest.fixture(scope="module")
def lift_half_val(shared_data: Path):
    seqs = find_sequences(shared_data, "MOT17", "half-val", HALF_VAL)
    lift = shared_data / "trackers" / "MOT17" / "Lif_T"
    return seqs, lift, explain_results(seqs, lift), evaluate(seqs, lift)


@pytest.mark.slow
def test_unit_weights_give_the_kit(lift_half_val) -> None:
    """All weights 1: the combined metrics of the kit (counts exactly, ratios to float rounding)."""
    _, _, explained, kit = lift_half_val
    totals = sum(frame_statistics(e).sum(axis=0) for e in explained.values())
    got = bs.metrics_from_totals(totals[None])
    for m in bs.METRICS:
        if m in EXACT:
            assert got[m][0] == kit["combined"][m], m
        else:
            assert got[m][0] == pytest.approx(kit["combined"][m], rel=1e-12, abs=1e-15), m
    # and per sequence, through the block sums
    for name, expl in explained.items():
        one = bs.metrics_from_totals(bs.block_sums(frame_statistics(expl), 7).sum(axis=0)[None])
        assert one["HOTA"][0] == pytest.approx(kit["per_sequence"][name]["HOTA"], rel=1e-12)
        assert one["MOTA"][0] == pytest.approx(kit["per_sequence"][name]["MOTA"], rel=1e-12)


@pytest.mark.slow
def test_a_run_against_itself_is_exactly_zero(lift_half_val, shared_data: Path) -> None:
    seqs, lift, explained, _ = lift_half_val
    again = explain_results(seqs, lift)  # computed anew, not the same arrays
    found = bs.paired_intervals(_blocks(explained), _blocks(again), bs.Settings(replicates=300))
    for m, iv in found.items():
        assert (iv.delta, iv.low, iv.high, iv.mean, iv.std) == (0.0, 0.0, 0.0, 0.0, 0.0), m
    per_seq = bs.per_sequence_intervals(_blocks(explained), _blocks(again), bs.Settings(replicates=100))
    assert all(iv.low == iv.high == 0.0 for ivs in per_seq.values() for iv in ivs.values())


@pytest.mark.slow
def test_a_degraded_copy_is_centred_on_the_true_shift(lift_half_val, tmp_path: Path) -> None:
    """Lif_T with a seeded 10% of its boxes dropped: the true difference (the kit's, on the full data) lies
    inside every interval and the replicates' mean is within a third of their spread of it."""
    seqs, lift, explained, kit = lift_half_val
    rng = np.random.default_rng(0)
    for name in HALF_VAL:
        rows = np.loadtxt(lift / f"{name}.txt", delimiter=",")
        np.savetxt(tmp_path / f"{name}.txt", rows[rng.random(len(rows)) > 0.1], delimiter=",", fmt="%.6g")
    worse = evaluate(seqs, tmp_path)["combined"]
    found = bs.paired_intervals(_blocks(explained), _blocks(explain_results(seqs, tmp_path)),
                                bs.Settings(replicates=1000, seed=3))
    for m in ("HOTA", "DetA", "AssA", "MOTA", "MOTP", "IDF1", "IDP", "IDR", "IDSW", "CLR_FN", "CLR_FP"):
        iv, true = found[m], worse[m] - kit["combined"][m]
        assert iv.delta == pytest.approx(true, abs=1e-12), m
        assert iv.low <= true <= iv.high, m
        assert abs(iv.mean - true) <= 0.35 * iv.std, (m, iv)
    assert found["HOTA"].high < 0 and found["MOTA"].excludes_zero  # dropping a tenth of the boxes is real


def test_block_sums_and_draws() -> None:
    frames = np.arange(7 * len(FRAME_STATS), dtype=float).reshape(7, -1)
    blocks = bs.block_sums(frames, 3)
    assert blocks.shape == (3, len(FRAME_STATS))  # 3 + 3 + 1 frames
    np.testing.assert_array_equal(blocks.sum(axis=0), frames.sum(axis=0))
    np.testing.assert_array_equal(blocks[2], frames[6])
    s = bs.Settings(replicates=500, seed=1)
    w = bs.draw_weights([4, 2, 5], s)
    assert [x.shape for x in w] == [(500, 4), (500, 2), (500, 5)]
    # each replicate draws 3 sequence copies, each copy as many blocks as its sequence has
    copies = w[0].sum(axis=1) / 4 + w[1].sum(axis=1) / 2 + w[2].sum(axis=1) / 5
    np.testing.assert_array_equal(copies, np.full(500, 3.0))
    again = bs.draw_weights([4, 2, 5], s)
    assert all(np.array_equal(a, b) for a, b in zip(w, again, strict=True))
    other = bs.draw_weights([4, 2, 5], bs.Settings(replicates=500, seed=2))
    assert not all(np.array_equal(a, b) for a, b in zip(w, other, strict=True))
    fixed = bs.draw_weights([4, 2], s, resample_sequences=False)
    assert (fixed[0].sum(axis=1) == 4).all() and (fixed[1].sum(axis=1) == 2).all()


def test_seeded_and_paired_only(shared_data: Path) -> None:
    seqs = find_sequences(shared_data, "MOT15", "train", ["TUD-Campus", "TUD-Stadtmitte"])
    cem = explain_results(seqs, shared_data / "trackers" / "MOT15" / "CEM")
    a = _blocks(cem, 10)
    b = {s: x * np.where(np.arange(len(FRAME_STATS)) == 2, 0.9, 1.0) for s, x in a.items()}  # fewer CLEAR TPs
    one = bs.paired_intervals(a, b, bs.Settings(replicates=200, seed=5), ["MOTA"])
    two = bs.paired_intervals(a, b, bs.Settings(replicates=200, seed=5), ["MOTA"])
    assert one == two and one["MOTA"].high < 0
    with pytest.raises(bs.BootstrapError, match="different sequences"):
        bs.paired_intervals(a, {"TUD-Campus": a["TUD-Campus"]})
    with pytest.raises(bs.BootstrapError, match="shape"):
        bs.paired_intervals(a, _blocks(cem, 20))
    with pytest.raises(bs.BootstrapError, match="no bootstrap for"):
        bs.paired_intervals(a, a, metrics=["MT"])
    with pytest.raises(bs.BootstrapError):
        bs.Settings(level=1.5)
