"""Property test: the fast engine equals TrackEval on every field, for random gt and tracker files."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_parity import assert_identical, grid_sequence, random_sequence, write_results

from mot_bench.metrics import EvalError, evaluate
from mot_bench.types import SeqInfo


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 2**32 - 1),
    benchmark=st.sampled_from(["MOT15", "MOT17", "MOT20"]),
    n_seqs=st.integers(1, 3),
    length=st.integers(1, 30),
    crowd=st.floats(0.0, 1.0),
    half=st.booleans(),
)
def test_fast_equals_trackeval_on_random_data(seed, benchmark, n_seqs, length, crowd, half) -> None:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        seqs = []
        for i in range(n_seqs):
            first = length // 2 + 1 if half and length > 1 else 1
            seq, trk = random_sequence(rng, tmp, f"{benchmark}-{i:02d}", benchmark, length, crowd, first=first)
            write_results(tmp / "res" / f"{seq.name}.txt", trk)
            seqs.append(seq)
        fast = evaluate(seqs, tmp / "res", benchmark=benchmark, engine="fast")
        ref = evaluate(seqs, tmp / "res", benchmark=benchmark, engine="trackeval")
    assert_identical(fast, ref)


@pytest.mark.parametrize("gt_rows, res_rows", [
    ("", ""),
    ("", "1,5,10,20,30,40,1,-1,-1,-1\n"),
    ("2,1,10,20,30,40,1,1,1\n", ""),
    ("2,1,10,20,30,40,0,1,1\n2,2,10,20,30,40,1,7,1\n", "2,5,10,20,30,40,1,-1,-1,-1\n"),  # all removed
])
def test_empty_sides_equal(tmp_path: Path, gt_rows: str, res_rows: str) -> None:
    (tmp_path / "S-01" / "gt").mkdir(parents=True)
    (tmp_path / "S-01" / "gt" / "gt.txt").write_text(gt_rows, encoding="utf-8")
    (tmp_path / "res").mkdir()
    (tmp_path / "res" / "S-01.txt").write_text(res_rows, encoding="utf-8")
    seq = SeqInfo("S-01", tmp_path / "S-01", 3, 640, 480, 30.0)
    if not gt_rows:
        _assert_both_refuse_empty_gt([seq], tmp_path / "res", "MOT17")
        return
    fast = evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="fast")
    assert_identical(fast, evaluate([seq], tmp_path / "res", benchmark="MOT17", engine="trackeval"))


@settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), benchmark=st.sampled_from(["MOT15", "MOT17", "MOT20"]),
       length=st.integers(1, 25), half=st.booleans())
def test_fast_equals_trackeval_with_tied_scores(seed, benchmark, length, half) -> None:
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        seq, trk = grid_sequence(rng, tmp, "S-01", benchmark, length, first=1 + (length // 3 if half else 0))
        write_results(tmp / "res" / "S-01.txt", trk)
        if not seq.gt_path.read_text().strip():  # no box at all: both engines refuse the empty gt alike
            _assert_both_refuse_empty_gt([seq], tmp / "res", benchmark)
            return
        fast = evaluate([seq], tmp / "res", benchmark=benchmark, engine="fast")
        ref = evaluate([seq], tmp / "res", benchmark=benchmark, engine="trackeval")
    assert_identical(fast, ref)


def _assert_both_refuse_empty_gt(seqs, res_dir, benchmark) -> None:
    """An empty gt file scored MOTA -(false positives) silently; both engines refuse it, naming it."""
    messages = []
    for engine in ("fast", "trackeval"):
        with pytest.raises(EvalError, match="the gt file has no rows") as err:
            evaluate(seqs, res_dir, benchmark=benchmark, engine=engine)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and messages[0].startswith(f"{seqs[0].gt_path}:1: ")
