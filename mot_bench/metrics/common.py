"""What every scoring engine shares: names, benchmark choice, input checks and the result layout."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.data.benchmarks import BenchmarkError, get_benchmark
from mot_bench.data.gt import first_nonblank_line, gt_num_columns, infer_benchmark, length_source
from mot_bench.data.mottext import MOTFormatError, first_duplicate, read_mot_text
from mot_bench.types import SeqInfo

METRICS = ("HOTA", "CLEAR", "Identity")
ENGINES = ("fast", "trackeval")
DEFAULT_ENGINE = "fast"


class EvalError(ValueError):
    """Inputs that cannot be scored: names the file (and line) and what was expected."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(message)


# --------------------------------------------------------------------------------------------------
# benchmark name (the rules live in its declaration, mot_bench.data.benchmarks, applied by mot_bench.data.gt)


def resolve_benchmark(seqs: list[SeqInfo], benchmark: str | None) -> str:
    """The declared benchmark whose rules score ``seqs``: ``benchmark`` (any case), else the one every
    sequence belongs to (:func:`mot_bench.data.gt.infer_benchmark`)."""
    if benchmark is not None:
        try:
            return get_benchmark(benchmark).name
        except BenchmarkError as exc:
            raise EvalError(str(exc)) from None
    found: dict[str, list[str]] = {}
    for s in seqs:
        found.setdefault(infer_benchmark(s), []).append(s.name)
    if len(found) > 1:
        detail = "; ".join(f"{b}: {', '.join(names)}" for b, names in sorted(found.items()))
        raise EvalError(
            f"sequences belong to different benchmarks ({detail}); TrackEval scores one benchmark at a "
            "time: evaluate them separately or name the rules with --benchmark (benchmark=... in Python)"
        )
    return next(iter(found))


def check_metrics(metrics: tuple[str, ...]) -> tuple[str, ...]:
    """The requested metrics in TrackEval's order, without duplicates."""
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise EvalError(f"unknown metric(s) {unknown or list(metrics)}; available: {', '.join(METRICS)}")
    return tuple(m for m in METRICS if m in metrics)


def check_engine(engine: str) -> str:
    if engine not in ENGINES:
        raise EvalError(f"unknown scoring engine {engine!r}; expected one of {', '.join(ENGINES)}")
    return engine


def check_sequence(seq: SeqInfo, benchmark: str) -> None:
    """A sequence that can be scored: a sane frame range and gt in the benchmark's format."""
    if not 1 <= seq.first_frame <= seq.last_frame <= seq.length:
        raise EvalError(
            f"sequence {seq.name}: frame range {seq.first_frame}..{seq.last_frame} "
            f"is not inside 1..{seq.length}"
        )
    if get_benchmark(benchmark).gt_has_classes and seq.gt_path.is_file() and gt_num_columns(seq.gt_path) >= 10:
        line = first_nonblank_line(seq.gt_path)
        raise EvalError(
            f"{seq.gt_path}:{line}: 10 columns: MOT15's 3D format (columns 8-10 are world coordinates, not class and "
            f"visibility), but the benchmark is {benchmark}; score it with --benchmark MOT15 (benchmark='MOT15' in "
            "Python)",
            path=seq.gt_path, line=line,
        )
    if not seq.gt_path.is_file():
        raise EvalError(
            f"no ground truth for sequence {seq.name}: {seq.gt_path} does not exist "
            "(test sequences cannot be scored locally)",
            path=seq.gt_path,
        )


def check_unique_names(seqs: list[SeqInfo]) -> None:
    seen: set[str] = set()
    for seq in seqs:
        if seq.name in seen:
            raise EvalError(f"sequence {seq.name} is listed twice")
        seen.add(seq.name)


# --------------------------------------------------------------------------------------------------
# result rows: read from a file or given in memory, checked the same way


def check_result_rows(rows: np.ndarray, seq: SeqInfo, where: str, line_of=None) -> np.ndarray:
    """Refuse result rows the official kit would refuse; ``line_of(row)`` gives a file line for messages.

    Rows are (N, 10) float64 (shorter tables are padded with -1). Checks, all vectorised: integer frame in
    1..length, integer id >= 0, width/height >= 0, column 8 (class) <= 1, one id per frame.
    """
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or (len(rows) and not 6 <= rows.shape[1] <= 10):
        raise EvalError(f"{where}: result rows must be an (N, 6..10) array, got shape {rows.shape}")
    if rows.shape[1] < 10:
        rows = np.concatenate([rows, np.full((len(rows), 10 - rows.shape[1]), -1.0)], axis=1)
    if not len(rows):
        return rows

    def fail(row: int, message: str) -> EvalError:
        line = line_of(row) if line_of else None
        place = f"{where}:{line}" if line else f"{where} row {row + 1}"
        return EvalError(f"{place}: {message}", where if line_of else None, line)

    bad = np.flatnonzero(~np.isfinite(rows).all(axis=1))
    if len(bad):
        raise fail(int(bad[0]), "values must be finite numbers")
    frame, ids = rows[:, 0], rows[:, 1]
    bad = np.flatnonzero((frame != np.floor(frame)) | (frame < 1))
    if len(bad):
        raise fail(int(bad[0]), f"frame must be an integer >= 1, got {frame[bad[0]]:g}")
    bad = np.flatnonzero(frame > seq.length)
    if len(bad):
        raise fail(int(bad[0]), f"frame {int(frame[bad[0]])} is outside the sequence "
                                f"(seqLength={seq.length} in {length_source(seq)})")
    bad = np.flatnonzero(ids != np.floor(ids))
    if len(bad):
        raise fail(int(bad[0]), f"id must be an integer, got {ids[bad[0]]:g}")
    bad = np.flatnonzero(ids < 0)
    if len(bad):
        raise fail(int(bad[0]), f"track id must be >= 0, got {int(ids[bad[0]])}")
    bad = np.flatnonzero((rows[:, 4] < 0) | (rows[:, 5] < 0))
    if len(bad):
        raise fail(int(bad[0]), f"width and height must be >= 0, got {rows[bad[0], 4]:g}, {rows[bad[0], 5]:g}")
    bad = np.flatnonzero(rows[:, 7] > 1)
    if len(bad):
        raise fail(int(bad[0]), f"column 8 is read as the class by the official kit and must be -1 or 1 "
                                f"(pedestrian), got {rows[bad[0], 7]:g}")
    dup = first_duplicate(frame, ids)
    if dup is not None:
        count = int(np.count_nonzero((frame == frame[dup[1]]) & (ids == ids[dup[1]])))
        raise fail(dup[1], f"id {int(ids[dup[1]])} appears {count} times in frame {int(frame[dup[1]])}; "
                           "each id may appear once per frame")
    return rows


def load_results(path: Path, seq: SeqInfo) -> np.ndarray:
    """Read and check a result file, with errors naming file and line."""
    if not path.is_file():
        raise EvalError(f"missing result file {path} for sequence {seq.name}", path=path)
    try:
        text = read_mot_text(path, min_cols=6)
    except MOTFormatError as exc:
        raise EvalError(str(exc), path=exc.path, line=exc.line) from exc
    return check_result_rows(text.rows, seq, str(path), line_of=lambda row: int(text.lines[row]))


# --------------------------------------------------------------------------------------------------
# the result layout


def flatten_fields(res: dict[str, Any], float_array_fields, integer_array_fields, float_fields, integer_fields,
                   alphas=None) -> dict[str, Any]:
    """One metric's result -> plain floats/ints; per-alpha arrays become their mean (as TrackEval reports
    them) and are also kept whole under ``<field>_alpha``."""
    out: dict[str, Any] = {}
    for f in float_array_fields:
        arr = np.asarray(res[f], dtype=np.float64)
        out[f] = float(arr.mean())
        out[f"{f}_alpha"] = [float(v) for v in arr]
    for f in integer_array_fields:
        out[f"{f}_alpha"] = [int(round(float(v))) for v in res[f]]
    for f in float_fields:
        out[f] = float(res[f])
    for f in integer_fields:
        out[f] = int(round(float(res[f])))
    if float_array_fields and alphas is not None:
        out["alphas"] = [float(a) for a in alphas]
    return out
