"""evaluate() (default engine: fast) equals TrackEval's own Evaluator + MotChallenge2DBox, field by field,
on Lif_T's MOT17 results."""

from __future__ import annotations

from pathlib import Path

import pytest
from metrics_parity import assert_same_as_trackeval, trackeval_direct

from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate

FAST_SEQS = ["MOT17-05-FRCNN", "MOT17-09-SDP"]  # two sequences and their combination, ~5 s


def _run(shared_data: Path, names: list[str] | None) -> tuple[dict, dict]:
    seqs = find_sequences(shared_data, "MOT17", "train", names)
    ours = evaluate(seqs, shared_data / "trackers" / "MOT17" / "Lif_T")
    ref = trackeval_direct()(shared_data / "MOT17" / "train", shared_data / "trackers" / "MOT17", "Lif_T",
                              [s.name for s in seqs], "MOT17")
    return ours, ref


def test_lift_two_sequences_equal_trackeval(shared_data: Path) -> None:
    ours, ref = _run(shared_data, FAST_SEQS)
    assert ours["benchmark"] == "MOT17"
    assert_same_as_trackeval(ours, ref)


@pytest.mark.slow
def test_lift_all_21_sequences_equal_trackeval(shared_data: Path) -> None:
    """About 15 s on one core (TrackEval's ~13 s, the fast engine's ~1 s): 21 folders, ~230k result and
    ~615k gt rows."""
    ours, ref = _run(shared_data, None)
    assert len(ours["per_sequence"]) == 21
    assert_same_as_trackeval(ours, ref)
