"""mot_bench.metrics.fast.lsap: scipy's own linear_sum_assignment, loaded without scipy.optimize.

TrackEval breaks ties the way scipy's solver does, so the fast engine must call that very solver: these
tests check that the function is the compiled function scipy.optimize exports (same extension file), and
that it returns the same assignment as ``scipy.optimize.linear_sum_assignment`` on tie-heavy matrices
(repeated rows and columns, few distinct values, -0.0 cells, wide and tall), as TrackEval calls it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize

from mot_bench.metrics.fast import lsap, preprocess


def test_the_solver_is_scipys_own_compiled_function() -> None:
    ours = lsap.linear_sum_assignment
    assert type(ours).__name__ == "builtin_function_or_method"  # the extension's C function, not a wrapper
    assert Path(ours.__self__.__file__).resolve() == Path(scipy.optimize._lsap.__file__).resolve()
    assert ours.__doc__ == scipy.optimize.linear_sum_assignment.__doc__


def test_same_assignments_as_scipy_optimize_on_tie_heavy_matrices() -> None:
    rng = np.random.default_rng(19)
    for case in range(3000):
        h, w = int(rng.integers(1, 12)), int(rng.integers(1, 12))
        levels = rng.choice([0.0, 0.5, 0.75, 1.0, 1000.5, 1.0 / 3.0], size=int(rng.integers(1, 5)))
        score = rng.choice(levels, size=(h, w)) * (rng.random((h, w)) < rng.random())
        if case % 3 == 0 and h > 1:
            score[1] = score[0]  # a repeated row: an exact tie between two gt boxes
        if case % 5 == 0 and w > 1:
            score[:, -1] = score[:, 0]  # a repeated column
        matrix = -score  # as TrackEval: linear_sum_assignment(-score), -0.0 in the empty cells
        want = scipy.optimize.linear_sum_assignment(matrix)
        got = lsap.linear_sum_assignment(matrix)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), matrix


def test_importing_the_fast_engine_loads_no_scipy_package() -> None:
    code = ("import sys; import mot_bench.metrics.fast as f; import numpy as np; "
            "f.lsap.linear_sum_assignment(np.zeros((2, 3))); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("kind", ["hota", "clear"])
def test_frames_settled_column_by_column_are_exactly_scipys_assignment(kind: str) -> None:
    """HOTA and CLEAR skip the solver where every tracker box's best score beats its second by the margin
    and no two share a best gt box: on such frames the positive cells must be scipy's, on random,
    tie-heavy and near-tie frames (HOTA: scores in (0, 1]; CLEAR: IoU >= 0.5 candidates, some continuing a
    match with +1000). Whatever the rule leaves unsettled goes to scipy anyway."""
    rng = np.random.default_rng(7)
    settled_count = 0
    for case in range(3000):
        h, w = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        score = rng.random((h, w)) * (rng.random((h, w)) < 0.4)
        if kind == "clear":
            score = np.where(score > 0, 0.5 + score / 2, 0.0)
        if case % 4 == 0:
            score = np.round(score, 1)  # exact ties
        if case % 4 == 1 and score.any():  # a near tie: just above or below the margin
            r, c = np.unravel_index(np.argmax(score), score.shape)
            score[(r + 1) % h, c] = score[r, c] - [0.5, 2.0, 1e3][case % 3] * preprocess.SETTLED_MARGIN
        if kind == "clear" and case % 2:  # continued matches: at most one per row and per column
            for r, c in zip(rng.permutation(h)[:2].tolist(), rng.permutation(w)[:2].tolist(), strict=False):
                if score[r, c] > 0:
                    score[r, c] += 1000
        rows, cols = np.nonzero(score > 0)  # the listed positive cells, row-major as in SeqData
        frame = np.zeros(len(rows), dtype=np.int64)
        settled, best = preprocess.settled_by_columns(score[rows, cols], np.arange(len(rows)), frame, rows, cols, 1)
        if not settled[0] or not len(rows):
            continue
        settled_count += 1
        r, c = scipy.optimize.linear_sum_assignment(-score)
        want = {(i, j) for i, j in zip(r.tolist(), c.tolist(), strict=True) if score[i, j] > 0}
        assert {(int(rows[b]), int(cols[b])) for b in best} == want, score
    assert settled_count > 500
