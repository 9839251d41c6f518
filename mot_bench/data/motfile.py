"""Read and write MOTChallenge text files (gt, det, results) with errors that name file and line.

Rows are ``frame, id, x, y, w, h, conf, x/class, y/visibility, z``. gt files of MOT16/17/20 have 9
columns, MOT15 gt, det and result files 10; some det files have 7. Short rows are padded with -1.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from mot_bench.atomic import atomic_write

NUM_COLS = 10
MIN_COLS = {"gt": 6, "det": 7, "result": 6}


class MOTFormatError(ValueError):
    """A malformed line: names the file, the 1-based line number and what was expected."""

    def __init__(self, path: str | os.PathLike, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        super().__init__(f"{path}:{line}: {message}")


def read_mot_file(
    path: str | os.PathLike,
    kind: str = "result",
    seq_length: int | None = None,
) -> np.ndarray:
    """Parse a MOTChallenge text file into an (N, 10) float64 array, validating every line.

    ``kind`` is ``gt``, ``det`` or ``result``. With ``seq_length``, frames must lie in
    1..seq_length. Blank lines are skipped; everything else malformed raises :class:`MOTFormatError`.
    """
    if kind not in MIN_COLS:
        raise ValueError(f"kind must be one of {sorted(MIN_COLS)}, got {kind!r}")
    path = Path(path)
    rows: list[list[float]] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text:
                continue
            rows.append(_parse_line(text, path, lineno, kind, seq_length))
    if not rows:
        return np.zeros((0, NUM_COLS), np.float64)
    return np.asarray(rows, dtype=np.float64)


def _parse_line(text: str, path: Path, lineno: int, kind: str, seq_length: int | None) -> list[float]:
    sep = "," if "," in text else None
    fields = [f.strip() for f in text.split(sep)]
    if len(fields) < MIN_COLS[kind] or len(fields) > NUM_COLS:
        raise MOTFormatError(
            path, lineno,
            f"expected {MIN_COLS[kind]} to {NUM_COLS} comma-separated columns "
            f"(frame,id,x,y,w,h,conf,...), got {len(fields)}",
        )
    values = []
    for col, field in enumerate(fields, start=1):
        try:
            v = float(field)
        except ValueError:
            raise MOTFormatError(path, lineno, f"column {col} is not a number: {field!r}") from None
        if math.isnan(v) or math.isinf(v):
            raise MOTFormatError(path, lineno, f"column {col} must be finite, got {field!r}")
        values.append(v)
    values += [-1.0] * (NUM_COLS - len(values))
    frame = values[0]
    if frame != int(frame) or frame < 1:
        raise MOTFormatError(path, lineno, f"frame must be an integer >= 1, got {fields[0]!r}")
    if seq_length is not None and frame > seq_length:
        raise MOTFormatError(path, lineno, f"frame {int(frame)} is outside the sequence (1..{seq_length})")
    if values[1] != int(values[1]):
        raise MOTFormatError(path, lineno, f"id must be an integer, got {fields[1]!r}")
    if values[4] < 0 or values[5] < 0:
        raise MOTFormatError(path, lineno, f"width and height must be >= 0, got {fields[4]}, {fields[5]}")
    return values


def check_unique_ids(rows: np.ndarray, path: str | os.PathLike) -> None:
    """A tracker may not report one id twice in a frame (the official kit refuses such files)."""
    if len(rows) == 0:
        return
    keys = rows[:, 0].astype(np.int64) * (1 << 32) + rows[:, 1].astype(np.int64)
    uniq, first, counts = np.unique(keys, return_index=True, return_counts=True)
    dup = np.flatnonzero(counts > 1)
    if len(dup):
        k = dup[0]
        frame, tid = int(rows[first[k], 0]), int(rows[first[k], 1])
        raise MOTFormatError(
            path, _line_of(path, frame, tid, occurrence=2),
            f"id {tid} appears {counts[k]} times in frame {frame}; each id may appear once per frame",
        )


def _line_of(path: str | os.PathLike, frame: int, tid: int, occurrence: int) -> int:
    seen = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, start=1):
            parts = raw.replace(",", " ").split()
            if len(parts) >= 2:
                try:
                    if int(float(parts[0])) == frame and int(float(parts[1])) == tid:
                        seen += 1
                        if seen == occurrence:
                            return lineno
                except ValueError:
                    continue
    return 0


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
