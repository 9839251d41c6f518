"""evaluate() (default engine: fast) equals TrackEval's own Evaluator + MotChallenge2DBox, field by field,
on Lif_T's MOT17 results."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate

REPO = Path(__file__).resolve().parents[1]
FAST_SEQS = ["MOT17-05-FRCNN", "MOT17-09-SDP"]  # two sequences and their combination, ~5 s


def _trackeval_direct():
    spec = importlib.util.spec_from_file_location("bench_eval", REPO / "benchmarks" / "bench_eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.trackeval_direct


def assert_same_as_trackeval(ours: dict, ref: dict) -> None:
    """Every field TrackEval reports, per sequence and COMBINED_SEQ, is equal (exactly: same code, same input)."""
    import trackeval

    quiet = {"PRINT_CONFIG": False}
    metric_objs = [trackeval.metrics.HOTA(quiet), trackeval.metrics.CLEAR(quiet), trackeval.metrics.Identity(quiet),
                   trackeval.metrics.Count()]
    keys = [*ours["per_sequence"], "COMBINED_SEQ"]
    assert sorted(ref) == sorted(keys)
    checked = 0
    for key in keys:
        got = ours["combined"] if key == "COMBINED_SEQ" else ours["per_sequence"][key]
        want = ref[key]["pedestrian"]
        for m in metric_objs:
            r = want[m.get_name()]
            for f in m.float_array_fields:
                assert got[f] == float(np.mean(r[f])), (key, f)
                assert got[f"{f}_alpha"] == [float(v) for v in r[f]], (key, f)
            for f in m.integer_array_fields:
                assert got[f"{f}_alpha"] == [int(v) for v in r[f]], (key, f)
            for f in m.float_fields + m.integer_fields:
                assert got[f] == r[f], (key, f)
            checked += len(m.fields)
    assert checked > 40 * len(keys)


def _run(shared_data: Path, names: list[str] | None) -> tuple[dict, dict]:
    seqs = find_sequences(shared_data, "MOT17", "train", names)
    ours = evaluate(seqs, shared_data / "trackers" / "MOT17" / "Lif_T")
    ref = _trackeval_direct()(shared_data / "MOT17" / "train", shared_data / "trackers" / "MOT17", "Lif_T",
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
