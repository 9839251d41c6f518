"""The gt rule, written once: which gt style a sequence has, which rows are pedestrians to track, and
which benchmark a sequence belongs to. Read by the oracle detector, FairMOT training and the metrics.

Two styles of ``gt.txt``:

- MOT16/17/20: ``frame, id, x, y, w, h, consider, class, visibility`` (9 columns). The kit scores
  rows with consider flag 1 and class 1 (pedestrian); other classes are distractors or ignored.
- MOT15 (and PETS2009): ``frame, id, x, y, w, h, active, X, Y, Z`` (10 columns: world coordinates, or
  -1, where MOT16 has class and visibility). No classes: every row whose column 7 is non-zero counts
  (TrackEval's MotChallenge2DBox for MOT15; FairMOT's ``gen_labels_15.py``).

A sequence is MOT15-style when its benchmark says so; else when its gt lines have 10 fields; else when
columns 8-9 cannot be a class (an integer 1..12) and a visibility (0..1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_bench.data.mottext import MOTFormatError, MOTText, parse_mot_text, read_mot_text
from mot_bench.types import SeqInfo

BENCHMARKS = ("MOT15", "MOT16", "MOT17", "MOT20")
# Names of MOT15-style data (benchmark names and dataset folders)
MOT15_NAMES = ("MOT15", "2DMOT2015", "PETS2009")
PEDESTRIAN = 1  # the class id the kit evaluates (MOT16/17/20)


def gt_num_columns(gt_path: str | Path) -> int:
    """Fields in the first non-blank line of a gt file: 10 is MOT15's 3D format, 9 MOT16/17/20's.

    0 when that line is not a line of numbers (a header, say): what is wrong with it is the strict
    reader's to say, at its line, not a guess about the format."""
    with open(gt_path, encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            text = raw.strip()
            if text:
                fields = [f.strip() for f in (text.split(",") if "," in text else text.split())]
                if fields and not fields[-1]:  # a trailing comma (dropped by the reader, as by the kit)
                    fields.pop()
                return len(fields) if all(_is_number(f) for f in fields) else 0
    return 0


def first_nonblank_line(path: str | Path) -> int:
    """1-based number of the first line of ``path`` holding more than whitespace (1 if none)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        return next((lineno for lineno, raw in enumerate(fh, start=1) if raw.strip()), 1)


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _class_and_visibility(rows: np.ndarray) -> bool:
    """Columns 8-9 read as a class id (integer 1..12) and a visibility (0..1) on every row."""
    cls, vis = rows[:, 7], rows[:, 8]
    return bool(np.all(cls == np.round(cls)) and np.all((cls >= 1) & (cls <= 12)) and np.all((vis >= 0) & (vis <= 1)))


def is_mot15_style(seq: SeqInfo, benchmark: str | None = None, rows: np.ndarray | None = None) -> bool:
    """Whether ``seq``'s gt is MOT15-style (no classes), by benchmark name, column count, then content."""
    if benchmark:
        return benchmark.upper() in MOT15_NAMES
    if not seq.gt_path.is_file():
        return False
    if gt_num_columns(seq.gt_path) >= 10:
        return True
    if rows is None:
        try:  # the vectorised reader: this runs for every sequence whose benchmark is inferred
            rows = read_mot_text(seq.gt_path, seq_length=seq.length).rows
        except MOTFormatError:
            return False  # a malformed file is reported by whoever reads it for real
    return len(rows) > 0 and not _class_and_visibility(rows)


def considered_rows(rows: np.ndarray, mot15: bool) -> np.ndarray:
    """The gt rows the kit counts as pedestrians to track: consider/active flag non-zero, and (MOT16/17/20)
    class pedestrian."""
    if not len(rows):
        return rows
    keep = rows[:, 6] != 0
    if not mot15:
        keep &= rows[:, 7] == PEDESTRIAN
    return rows[keep]


def length_source(seq: SeqInfo) -> str:
    """Where ``seq.length`` came from, for messages about a frame beyond it."""
    ini = seq.path / "seqinfo.ini"
    return str(ini) if ini.is_file() else f"{seq.path} (no seqinfo.ini; length inferred)"


def read_gt(seq: SeqInfo, data: bytes | None = None, min_cols: int = 6) -> MOTText:
    """``seq``'s gt file read by the strict reader, with the checks results get and gt needs besides:
    frames in 1..seqLength (blaming the file or seqinfo.ini), ids >= 0, width/height >= 0, at least one
    row (an empty gt would score every tracker as all false positives). Errors name path:line."""
    if data is None:
        data = seq.gt_path.read_bytes()
    text = parse_mot_text(seq.gt_path, data, min_cols=min_cols, seq_length=seq.length,
                          length_from=length_source(seq))
    if not len(text.table):
        raise MOTFormatError(seq.gt_path, 1, "the gt file has no rows; expected one line per annotated box "
                                             "(frame,id,x,y,w,h,...)")
    rows = text.table  # at least 6 columns: the ones checked here
    bad = np.flatnonzero(rows[:, 1] < 0)
    if len(bad):
        raise text.error(int(bad[0]), f"gt id must be >= 0, got {rows[bad[0], 1]:g}")
    bad = np.flatnonzero((rows[:, 4] < 0) | (rows[:, 5] < 0))
    if len(bad):
        raise text.error(int(bad[0]), f"width and height must be >= 0, got {rows[bad[0], 4]:g}, {rows[bad[0], 5]:g}")
    return text


def pedestrian_rows(seq: SeqInfo, benchmark: str | None = None) -> np.ndarray:
    """``seq``'s gt rows (every frame of the file) that count as pedestrians; the file must exist."""
    rows = read_gt(seq).rows
    return considered_rows(rows, is_mot15_style(seq, benchmark, rows))


def infer_benchmark(seq: SeqInfo) -> str:
    """MOT15 for MOT15-style gt, MOT20/MOT16 by name, else MOT17.

    Only MOT15 (no class-based preprocessing) and MOT20 (one more distractor class) change how
    TrackEval scores; MOT16 and MOT17 are scored alike.
    """
    if is_mot15_style(seq):
        return "MOT15"
    name = seq.name.upper()
    for bench in ("MOT20", "MOT16", "MOT15"):
        if name.startswith(bench):
            return bench
    return "MOT17"
