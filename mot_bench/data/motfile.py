"""Read and write MOTChallenge text files (gt, det, results) with errors that name file and line.

Rows are ``frame, id, x, y, w, h, conf, x/class, y/visibility, z``. gt files of MOT16/17/20 have 9
columns, MOT15 gt, det and result files 10; some det files have 7. Short rows are padded with -1.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from mot_bench.atomic import atomic_write
from mot_bench.data.mottext import MOTFormatError, first_duplicate, nonblank_line_numbers, read_mot_text

__all__ = ["MIN_COLS", "NUM_COLS", "MOTFormatError", "check_unique_ids", "format_rows", "read_mot_file",
           "write_mot_file"]

NUM_COLS = 10
MIN_COLS = {"gt": 6, "det": 7, "result": 6}


def read_mot_file(
    path: str | os.PathLike,
    kind: str = "result",
    seq_length: int | None = None,
    length_from: str | None = None,
) -> np.ndarray:
    """Parse a MOTChallenge text file into an (N, 10) float64 array, validating every line.

    ``kind`` is ``gt``, ``det`` or ``result`` (the fewest columns each may have). With ``seq_length``,
    frames must lie in 1..seq_length. The rules are :mod:`mot_bench.data.mottext`'s (the one reader of
    these files), plus width and height >= 0. Errors raise :class:`MOTFormatError` naming path:line.
    """
    if kind not in MIN_COLS:
        raise ValueError(f"kind must be one of {sorted(MIN_COLS)}, got {kind!r}")
    text = read_mot_text(path, min_cols=MIN_COLS[kind], seq_length=seq_length, length_from=length_from)
    bad = np.flatnonzero((text.rows[:, 4] < 0) | (text.rows[:, 5] < 0))
    if len(bad):
        r = text.rows[bad[0]]
        raise text.error(int(bad[0]), f"width and height must be >= 0, got {r[4]:g}, {r[5]:g}")
    return text.rows


def check_unique_ids(rows: np.ndarray, path: str | os.PathLike) -> None:
    """A tracker may not report one id twice in a frame (the official kit refuses such files).

    ``rows`` are those :func:`read_mot_file` read from ``path`` (for the line number of the repeat)."""
    dup = first_duplicate(rows[:, 0], rows[:, 1]) if len(rows) else None
    if dup is None:
        return
    frame, tid = rows[dup[1], 0], rows[dup[1], 1]
    count = int(np.count_nonzero((rows[:, 0] == frame) & (rows[:, 1] == tid)))
    line = int(nonblank_line_numbers(Path(path).read_bytes())[dup[1]])
    raise MOTFormatError(path, line, f"id {int(tid)} appears {count} times in frame {int(frame)}; "
                                     "each id may appear once per frame")


def format_rows(rows: np.ndarray) -> str:
    """MOTChallenge result lines: integer frame and id, boxes with 2 decimals, conf, -1,-1,-1."""
    out = []
    for r in rows:
        out.append(
            f"{int(r[0])},{int(r[1])},{r[2]:.2f},{r[3]:.2f},{r[4]:.2f},{r[5]:.2f},{r[6]:.6g},-1,-1,-1\n"
        )
    return "".join(out)


def write_mot_file(path: str | os.PathLike, rows: np.ndarray) -> None:
    """Write result rows atomically (a reader never sees half a file)."""
    text = format_rows(np.asarray(rows).reshape(-1, NUM_COLS)) if len(rows) else ""
    atomic_write(path, lambda fh: fh.write(text))
