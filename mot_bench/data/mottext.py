"""One strict, vectorised reader for MOTChallenge text files (gt, det, results).

Every check runs on whole arrays (the file's bytes, then the parsed table); Python only walks the
lines of a file to phrase the error once a check has failed. Rules:

* fields are separated by commas (by whitespace when the file has no comma at all);
* a line may end with one comma (then spaces): that empty last field is dropped, as the official kit
  (TrackEval's csv reader) drops it, so ``1,2,...,-1,`` scores as ``1,2,...,-1``;
* every non-blank line has the same number of fields, between ``min_cols`` and ``max_cols``;
  blank lines are skipped (their numbers still count for ``path:line``);
* every field is a finite decimal number (digits, one optional sign, point and exponent): no
  ``nan``, ``inf``, hexadecimal or ``1_000``; values are parsed correctly rounded, as ``float()``
  (numpy's C text reader, which converts each field with CPython's own ``float`` conversion);
* every value is of sane magnitude (``|v| <= MAX_ABS``): ``347.e67`` is a typo, not a coordinate;
* frame (column 1) is an integer >= 1 (and <= ``seq_length`` when given), id (column 2) an integer in
  -1..``MAX_ID`` (scorers remap ids to 0..K-1, so memory never grows with the largest id).

Errors are :class:`MOTFormatError` naming ``path:line`` (also importable from ``mot_bench.data.motfile``).
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path

import numpy as np

NUM_COLS = 10
MAX_ABS = 1e9  # no coordinate, size, score or frame number of a real file comes near this
MAX_ID = 2**31 - 1  # the declared id range: -1 (detections) or 0..MAX_ID


class MOTFormatError(ValueError):
    """A malformed line: names the file, the 1-based line number and what was expected."""

    def __init__(self, path: str | os.PathLike, line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        super().__init__(f"{path}:{line}: {message}")

# bytes a MOT text file may contain: digits, sign, point, exponent, separators, line ends
_ALLOWED_BYTES = b"0123456789+-.eE, \t\r\n"
_SPACE_BYTES = b" \t\r\n"
_SPACE = np.zeros(256, dtype=bool)
_SPACE[list(_SPACE_BYTES)] = True


class MOTText:
    """A parsed file: ``table`` (N, ``num_cols``) float64 as the file has it, and ``rows`` (N, ``NUM_COLS``)
    padded with -1 (made when first asked for: a scorer reading 9-column gt needs no padded copy).
    ``lines`` (the 1-based file line of each row) is worked out only when asked for, i.e. for an error
    message."""

    def __init__(self, path: Path, table: np.ndarray, num_cols: int) -> None:
        self.path = path
        self.table = table
        self.num_cols = num_cols
        self._rows: np.ndarray | None = table if table.shape[1] == NUM_COLS else None
        self._lines: np.ndarray | None = None

    @property
    def rows(self) -> np.ndarray:
        if self._rows is None:
            self._rows = np.full((len(self.table), NUM_COLS), -1.0)
            self._rows[:, :self.num_cols] = self.table
        return self._rows

    @property
    def lines(self) -> np.ndarray:
        if self._lines is None:
            self._lines = nonblank_line_numbers(self.path.read_bytes())
        return self._lines

    def error(self, row: int, message: str) -> MOTFormatError:
        return MOTFormatError(self.path, int(self.lines[row]), message)


def nonblank_line_numbers(data: bytes) -> np.ndarray:
    """1-based numbers of the lines of ``data`` that hold more than whitespace."""
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(buf)]))
    solid = np.concatenate(([0], np.cumsum(~_SPACE[buf])))
    return np.flatnonzero(solid[ends] - solid[starts] > 0).astype(np.int64) + 1


# one comma, then spaces only, at the end of a line: TrackEval's csv reader (skipinitialspace) makes it an
# empty last field and drops it; a tab after the comma is a field it cannot convert, so it is not matched
_TRAILING_COMMA = re.compile(rb",[ ]*(\r?)$", re.MULTILINE)
_BLANK_LINE = re.compile(rb"^[ \t\r]*\n", re.MULTILINE)


def _fields_of(line: str) -> list[str]:
    """The fields of one line (without its newline), after the kit's trailing-comma rule."""
    line = line.rstrip("\r")
    if "," in line:
        stripped = line.rstrip(" ")
        if stripped.endswith(","):
            line = stripped[:-1]
        return [f.strip() for f in line.split(",")]
    return line.split()


def _explain(path: Path, data: bytes, min_cols: int, max_cols: int) -> MOTFormatError:
    """The slow path, taken only when the fast parse failed: find the first bad line and say why."""
    if data.startswith(b"\xef\xbb\xbf"):
        return MOTFormatError(path, 1, "the file starts with a UTF-8 byte-order mark (BOM); expected plain "
                                       "comma-separated numbers: save it without the BOM")
    width, width_line = None, 0
    for lineno, raw in enumerate(data.decode("utf-8", errors="replace").split("\n"), start=1):
        text = raw.strip()
        if not text:
            continue
        fields = _fields_of(raw)
        if not min_cols <= len(fields) <= max_cols:
            return MOTFormatError(path, lineno, f"expected {min_cols} to {max_cols} comma-separated columns "
                                                f"(frame,id,x,y,w,h,conf,...), got {len(fields)}")
        if width is None:
            width, width_line = len(fields), lineno
        if len(fields) != width:
            return MOTFormatError(path, lineno, f"{len(fields)} columns, but earlier lines have {width}; "
                                                "every line of a file must have the same number of columns")
        for col, field in enumerate(fields, start=1):
            try:
                value = float(field)
            except ValueError:
                value = None
            if value is None or not np.isfinite(value) or not set(field) <= set("0123456789+-.eE"):
                hint = " (a header line? MOT text files have none)" if width_line == lineno and any(
                    c.isalpha() and c not in "eE" for c in text) else ""
                return MOTFormatError(path, lineno, f"column {col} is not a number (finite, decimal): {field!r}{hint}")
    return MOTFormatError(path, 0, "cannot be parsed as a MOTChallenge text file")


def _parse_table(data: bytes, comma: bool) -> np.ndarray | None:
    """All numbers of the file as an (N, C) float64 array, or None when a field is missing or not a number.

    numpy's C reader (no pandas: importing it costs more than parsing every file of MOT17). A file it
    refuses is tried once more with trailing commas and whitespace-only lines taken out (both rare, and
    both accepted by the rules above), so the common file is read in one pass.
    """
    table = _load_table(data, comma)
    if table is None and comma:
        table = _load_table(_BLANK_LINE.sub(b"", _TRAILING_COMMA.sub(rb"\1", data)), comma)
    if table is None or not np.isfinite(table).all():  # 1e999 parses as inf
        return None
    return table


def _load_table(data: bytes, comma: bool) -> np.ndarray | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": an empty table
            return np.loadtxt(io.BytesIO(data), delimiter="," if comma else None, dtype=np.float64, ndmin=2,
                              comments=None, encoding="latin-1")  # bytes checked to be ASCII before
    except ValueError:  # a field that is not a number, or a line with another number of fields
        return None


def read_mot_text(
    path: str | os.PathLike,
    min_cols: int = 6,
    max_cols: int = NUM_COLS,
    seq_length: int | None = None,
    length_from: str | None = None,
) -> MOTText:
    """Read and check one MOTChallenge text file (see the module docstring for the rules).

    ``length_from`` names where ``seq_length`` came from (e.g. the seqinfo.ini), for the message of a
    frame beyond it: either file may be the wrong one.
    """
    path = Path(path)
    return parse_mot_text(path, path.read_bytes(), min_cols, max_cols, seq_length, length_from)


def parse_mot_text(path: Path, data: bytes, min_cols: int = 6, max_cols: int = NUM_COLS,
                   seq_length: int | None = None, length_from: str | None = None) -> MOTText:
    """:func:`read_mot_text` on the bytes of ``path`` already read."""
    if data.translate(None, _ALLOWED_BYTES):  # e.g. nan, inf, 0x1f, 1_000, letters: the slow path says where
        raise _explain(path, data, min_cols, max_cols)
    if not data or data.isspace():  # (only " \t\r\n" can be left: other bytes were refused above)
        return MOTText(path, np.zeros((0, NUM_COLS), np.float64), 0)
    table = _parse_table(data, comma=b"," in data)
    if table is None or not min_cols <= table.shape[1] <= max_cols:
        raise _explain(path, data, min_cols, max_cols)
    out = MOTText(path, table, table.shape[1])
    frame, ids = table[:, 0], table[:, 1]
    huge = np.abs(table) > MAX_ABS
    huge[:, 1] = False  # ids have their own range
    bad = np.flatnonzero(huge.any(axis=1))
    if len(bad):
        col = int(np.flatnonzero(huge[bad[0]])[0])
        raise out.error(bad[0], f"column {col + 1} is {table[bad[0], col]:g}; expected a value of magnitude "
                                f"<= {MAX_ABS:g} (a typo such as 347.e67?)")
    bad = np.flatnonzero((frame != np.floor(frame)) | (frame < 1))
    if len(bad):
        raise out.error(bad[0], f"frame must be an integer >= 1, got {frame[bad[0]]:g}")
    if seq_length is not None:
        bad = np.flatnonzero(frame > seq_length)
        if len(bad):
            source = f"seqLength={seq_length} in {length_from}" if length_from else f"1..{seq_length}"
            raise out.error(bad[0], f"frame {int(frame[bad[0]])} is outside the sequence ({source}); "
                                    "this file or the sequence length is wrong")
    bad = np.flatnonzero(ids != np.floor(ids))
    if len(bad):
        raise out.error(bad[0], f"id must be an integer, got {ids[bad[0]]:g}")
    bad = np.flatnonzero((ids < -1) | (ids > MAX_ID))
    if len(bad):
        raise out.error(bad[0], f"id {ids[bad[0]]:.0f} is outside the declared range -1..{MAX_ID}")
    return out


def first_duplicate(frames: np.ndarray, ids: np.ndarray) -> tuple[int, int] | None:
    """Rows (first, second) of the first repeated (frame, id) pair in file order, or None.

    Sorted on the exact values (no packed key: ids 0 and 2**32 are different ids)."""
    if len(frames) < 2:
        return None
    order = np.lexsort((np.arange(len(frames)), ids, frames))  # by frame, id, then file order
    f, i = frames[order], ids[order]
    same = np.flatnonzero((f[1:] == f[:-1]) & (i[1:] == i[:-1]))
    if not len(same):
        return None
    second = order[same + 1]
    k = int(np.argmin(second))
    return int(order[same[k]]), int(second[k])
