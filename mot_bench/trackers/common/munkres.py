"""The Munkres (Hungarian) solver of scikit-learn 0.19 (``sklearn.utils.linear_assignment_``), rewritten.

StrongSORT pinned that solver. On cost matrices with ties (DeepSORT-style matching clips every cost above
the threshold to the same value, threshold + 1e-5) it can return a different optimal assignment than
scipy's ``linear_sum_assignment``, and then new tracks take different ids. This module makes the same
choices step for step:

* a matrix with more rows than columns is solved transposed;
* rows are reduced by their minimum, then zeros are starred scanning row-major;
* the next uncovered zero is the first in row-major order (``argmax`` of the mask);
* the star in a row or column is the first one found;
* step 6 adds the smallest uncovered value to covered rows and subtracts it from uncovered columns.

The pairs come back sorted by row (then column), as ``linear_assignment`` returns them.
"""

from __future__ import annotations

import numpy as np

STAR, PRIME = 1, 2


def munkres(cost: np.ndarray) -> np.ndarray:
    """(K, 2) array of (row, col) pairs of a minimum-cost assignment, sorted, sklearn 0.19's choices."""
    cost = np.atleast_2d(np.asarray(cost, dtype=np.float64))
    if 0 in cost.shape:
        return np.zeros((0, 2), dtype=int)
    transposed = cost.shape[1] < cost.shape[0]
    solver = _Solver(cost.T.copy() if transposed else cost.copy())
    solver.solve()
    pairs = np.array(np.where(solver.marks == STAR)).T
    if transposed:
        pairs = pairs[:, ::-1]
    pairs = np.array(sorted(pairs.tolist()), dtype=int).reshape(-1, 2)
    return pairs


class _Solver:
    """State of one solve: reduced costs, stars/primes, covered lines (rows <= columns)."""

    def __init__(self, c: np.ndarray) -> None:
        self.c = c
        n, m = c.shape
        self.free_rows = np.ones(n, dtype=bool)
        self.free_cols = np.ones(m, dtype=bool)
        self.marks = np.zeros((n, m), dtype=int)
        self.z0 = (0, 0)

    def _uncover_all(self) -> None:
        self.free_rows[:] = True
        self.free_cols[:] = True

    def solve(self) -> None:
        self._reduce_and_star()
        while self._cover_starred_columns():
            while not self._prime_until_augmenting_path():
                self._shift_by_smallest_uncovered()
            self._augment()

    def _reduce_and_star(self) -> None:
        self.c -= self.c.min(axis=1)[:, None]
        for i, j in zip(*np.where(self.c == 0), strict=True):
            if self.free_cols[j] and self.free_rows[i]:
                self.marks[i, j] = STAR
                self.free_cols[j] = False
                self.free_rows[i] = False
        self._uncover_all()

    def _cover_starred_columns(self) -> bool:
        """Cover columns holding a star; True while the stars are not yet a complete assignment."""
        starred = self.marks == STAR
        self.free_cols[np.any(starred, axis=0)] = False
        return int(starred.sum()) < self.c.shape[0]

    def _prime_until_augmenting_path(self) -> bool:
        """Prime uncovered zeros; True when a primed zero without a star in its row is found."""
        zeros = (self.c == 0).astype(int)
        open_zeros = zeros * self.free_rows[:, None] * self.free_cols.astype(int)
        n, m = self.c.shape
        while True:
            row, col = np.unravel_index(np.argmax(open_zeros), (n, m))
            if open_zeros[row, col] == 0:
                return False
            self.marks[row, col] = PRIME
            star_col = int(np.argmax(self.marks[row] == STAR))
            if self.marks[row, star_col] != STAR:
                self.z0 = (int(row), int(col))
                return True
            self.free_rows[row] = False
            self.free_cols[star_col] = True
            open_zeros[:, star_col] = zeros[:, star_col] * self.free_rows.astype(int)
            open_zeros[row] = 0

    def _augment(self) -> None:
        """Flip stars and primes along the alternating path from the last primed zero; clear primes."""
        path = [self.z0]
        while True:
            col = path[-1][1]
            row = int(np.argmax(self.marks[:, col] == STAR))
            if self.marks[row, col] != STAR:
                break
            path.append((row, col))
            prime_col = int(np.argmax(self.marks[row] == PRIME))
            if self.marks[row, prime_col] != PRIME:
                prime_col = -1
            path.append((row, prime_col))
        for r, c in path:
            self.marks[r, c] = 0 if self.marks[r, c] == STAR else STAR
        self._uncover_all()
        self.marks[self.marks == PRIME] = 0

    def _shift_by_smallest_uncovered(self) -> None:
        if np.any(self.free_rows) and np.any(self.free_cols):
            smallest = np.min(np.min(self.c[self.free_rows], axis=0)[self.free_cols])
            self.c[~self.free_rows] += smallest
            self.c[:, self.free_cols] -= smallest
