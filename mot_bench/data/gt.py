"""The gt rule, written once: which gt style a sequence has, which rows are scored, and which benchmark a
sequence belongs to. Read by the oracle detector, FairMOT training and both scoring engines; what each
benchmark's rule is comes from its declaration (:mod:`mot_bench.data.benchmarks`).

Two styles of ``gt.txt``:

- MOT16/17/20, SportsMOT, DanceTrack: ``frame, id, x, y, w, h, consider, class, visibility`` (9 columns).
  With the class rule (TrackEval's preprocessing, on for every benchmark but MOT15) rows with a non-zero
  consider flag and class 1 (pedestrian) are scored; other classes are distractors or ignored.
- MOT15 (and PETS2009): ``frame, id, x, y, w, h, active, X, Y, Z`` (10 columns: world coordinates, or
  -1, where MOT16 has class and visibility). No classes: every row whose column 7 is non-zero counts
  (TrackEval's MotChallenge2DBox for MOT15; FairMOT's ``gen_labels_15.py``).

Flag and class are read as TrackEval reads them, truncated to integers (``astype(int)``).

A sequence's benchmark is the one it was found as (``SeqInfo.benchmark``); else MOT15 when its gt is
MOT15-style (10 fields, or columns 8-9 that cannot be a class (an integer 1..12) and a visibility (0..1));
else the declaration whose sequence names it matches (``MOT20-01``, ``v_..._c001``, ``dancetrack0004``);
else MOT17.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mot_bench.data.benchmarks import (
    BENCHMARKS,
    CLASS_IDS,
    DECLARATIONS,
    DEFAULT_BENCHMARK,
    Benchmark,
    declared,
    get_benchmark,
)
from mot_bench.data.mottext import MOTFormatError, MOTText, parse_mot_text, read_mot_text
from mot_bench.types import SeqInfo

__all__ = ["BENCHMARKS", "PEDESTRIAN", "considered_rows", "gt_num_columns", "infer_benchmark", "is_mot15_style",
           "length_source", "pedestrian_rows", "read_gt", "scored_mask"]

PEDESTRIAN = CLASS_IDS["pedestrian"]  # the class id the kit evaluates


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
    """Whether ``seq``'s gt is MOT15-style (no classes), by benchmark (given, else the one ``seq`` was found
    as), column count, then content. A given name no declaration has (a folder name) is not MOT15-style."""
    if benchmark:
        return bool(declared(benchmark)) and not get_benchmark(benchmark).gt_has_classes
    if seq.benchmark:
        return not get_benchmark(seq.benchmark).gt_has_classes
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


def scored_mask(consider: np.ndarray, classes: np.ndarray, bench: Benchmark) -> np.ndarray:
    """TrackEval's ``gt_to_keep_mask`` for integer flags and classes: flag non-zero, and with ``bench``'s
    class rule, class pedestrian (``mot_challenge_2d_box.py``: ``np.not_equal(gt_zero_marked, 0) &
    np.equal(gt_classes, cls_id)``, the classes only when ``do_preproc and benchmark != 'MOT15'``)."""
    keep = consider != 0
    if bench.class_rule:
        keep &= classes == PEDESTRIAN
    return keep


def considered_rows(rows: np.ndarray, mot15: bool | Benchmark) -> np.ndarray:
    """The gt rows the kit counts as pedestrians to track under ``mot15`` (a benchmark's declaration, or
    True for MOT15's rule and False for MOT17's)."""
    if not len(rows):
        return rows
    bench = mot15 if isinstance(mot15, Benchmark) else DECLARATIONS["MOT15" if mot15 else DEFAULT_BENCHMARK]
    return rows[scored_mask(rows[:, 6].astype(np.int64), rows[:, 7].astype(np.int64), bench)]


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
    """``seq``'s gt rows (every frame of the file) that count as pedestrians under the rule of ``benchmark``
    (else the one ``seq`` was found as, else the one inferred from its gt and name); the file must exist."""
    rows = read_gt(seq).rows
    bench = declared(benchmark) or declared(seq.benchmark)
    if bench is None:
        bench = get_benchmark("MOT15" if is_mot15_style(seq, benchmark, rows) else _by_name(seq.name))
    return considered_rows(rows, bench)


def _by_name(name: str) -> str:
    return next((b.name for b in DECLARATIONS.values() if b.matches_name(name)), DEFAULT_BENCHMARK)


def infer_benchmark(seq: SeqInfo) -> str:
    """The benchmark ``seq`` was found as; else MOT15 for MOT15-style gt; else the declaration whose
    sequence names ``seq.name`` matches; else MOT17.

    What changes scores is the declaration's rule: MOT15 (no class-based preprocessing) and MOT20 (one
    more distractor class) differ; MOT16, MOT17, SportsMOT and DanceTrack are scored alike.
    """
    if seq.benchmark:
        return get_benchmark(seq.benchmark).name
    if is_mot15_style(seq):
        return "MOT15"
    return _by_name(seq.name)
