"""Official MOTChallenge scores: :func:`evaluate` and its ``trackeval`` engine, TrackEval 1.3.0 itself
(MotChallenge2DBox + HOTA, CLEAR, Identity).

:func:`evaluate` hands ``engine="fast"`` (the default) to :mod:`mot_bench.metrics.fast`, which gives the
same numbers bit for bit, and ``engine="trackeval"`` to :func:`evaluate_trackeval`, the reference, which
re-implements no metric. For that engine this module only
* validates result files first, so a user gets ``file:line`` errors instead of a TrackEval traceback,
* lays out gt and results in a temporary folder the way TrackEval expects (restricting both to a
  sequence's frame sub-range, e.g. half-val, and renumbering from 1 as ByteTrack/FairMOT do),
* runs TrackEval's own Evaluator silently (no printing, plotting or output files), and
* flattens its nested result into plain JSON-ready dicts with TrackEval's field names.

numpy 2: TrackEval 1.3.0 no longer uses the removed aliases (``np.float``, ``np.int`` ...), so no shim
is applied; :func:`check_eval_dependencies` runs a tiny evaluation so that a broken install (an older
TrackEval on numpy 2, a scipy built for another numpy) fails before a long run, not after it.
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from mot_bench.data.benchmarks import get_benchmark
from mot_bench.data.gt import BENCHMARKS, read_gt
from mot_bench.data.mottext import MOTFormatError
from mot_bench.metrics.common import (
    DEFAULT_ENGINE,
    METRICS,
    EvalError,
    check_engine,
    check_metrics,
    check_sequence,
    check_unique_names,
    infer_benchmark,
    load_results,
    resolve_benchmark,
)
from mot_bench.types import SeqInfo

__all__ = ["BENCHMARKS", "METRICS", "EvalError", "check_eval_dependencies", "evaluate", "infer_benchmark"]

_TRACKER = "mot_bench"  # folder name of our one "tracker" in the temporary TrackEval layout
_CLASS = "pedestrian"  # the only class MotChallenge2DBox evaluates


# --------------------------------------------------------------------------------------------------
# the temporary TrackEval layout


_LARGE_ID = 1_000_000  # TrackEval allocates arrays as long as the largest id: remap ids above this


def _remap_ids(rows: np.ndarray) -> np.ndarray:
    """Ids replaced by their rank among the file's ids (order kept, so TrackEval scores the same)."""
    if not len(rows) or rows[:, 1].max() <= _LARGE_ID:
        return rows
    rows = rows.copy()
    rows[:, 1] = np.unique(rows[:, 1], return_inverse=True)[1] + 1
    return rows


def _write_results(rows: np.ndarray, seq: SeqInfo, dest: Path, num_cols: int = 10) -> None:
    """Write the rows of the evaluated frame range, renumbered from 1, as ``num_cols`` comma-separated columns.

    Values are written with ``repr`` so TrackEval parses back exactly the floats we validated.
    """
    if len(rows):
        keep = (rows[:, 0] >= seq.first_frame) & (rows[:, 0] <= seq.last_frame)
        rows = rows[keep]
    offset = seq.first_frame - 1
    lines = []
    for r in rows[:, :num_cols].tolist():
        lines.append(f"{int(r[0]) - offset},{int(r[1])}," + ",".join(repr(v) for v in r[2:]) + "\n")
    dest.write_text("".join(lines), encoding="utf-8")


def _trackeval_readable(path: Path) -> bool:
    """Whether TrackEval's csv reader takes the file as it is: comma-separated, the same number (>= 7)
    of fields on every line, no blank line (a blank row makes TrackEval fail)."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines:
        return True
    n = lines[0].count(",")
    return n >= 6 and all(line.count(",") == n and line.strip() for line in lines)


def _link_frame_range(src: Path, seq: SeqInfo, dest: Path) -> None:
    """Link ``src``, or copy only the lines of the frame range with their frame renumbered from 1.

    Every other field is kept byte for byte, so TrackEval reads the same values as in the original.
    """
    if seq.first_frame == 1 and seq.last_frame == seq.length:
        try:
            os.symlink(src.resolve(), dest)
            return
        except OSError:
            pass  # no symlinks here (some filesystems): fall through to a copy
    offset = seq.first_frame - 1
    out = []
    with open(src, encoding="utf-8", errors="replace") as fh:
        for lineno, raw in enumerate(fh, start=1):
            text = raw.strip()
            if not text:
                continue
            if "," in text:
                sep = ","
                head, _, rest = text.partition(",")
            else:
                sep = " "
                head, rest = (text.split(None, 1) + [""])[:2]
            try:
                frame = int(float(head))
            except ValueError:
                raise EvalError(f"{src}:{lineno}: frame is not a number: {head!r}", src, lineno) from None
            if seq.first_frame <= frame <= seq.last_frame:
                out.append(f"{frame - offset}{sep}{rest}\n")
    dest.write_text("".join(out), encoding="utf-8")


def _prepare_layout(seqs: list[SeqInfo], results_dir: Path, benchmark: str, tmp: Path) -> dict[str, int]:
    gt_root, trk_root = tmp / "gt", tmp / "trackers" / _TRACKER
    trk_root.mkdir(parents=True)
    seq_lengths: dict[str, int] = {}
    check_unique_names(seqs)
    for seq in seqs:
        check_sequence(seq, benchmark)
        res_path = results_dir / f"{seq.name}.txt"
        rows = load_results(res_path, seq)
        try:  # the gt gets our checks (the fast engine's) before TrackEval sees it
            gt = read_gt(seq, min_cols=8)
        except MOTFormatError as exc:
            raise EvalError(str(exc), path=exc.path, line=exc.line) from exc
        (gt_root / seq.name / "gt").mkdir(parents=True)
        gt_rows = _remap_ids(gt.rows)
        if gt_rows is gt.rows:
            _link_frame_range(seq.gt_path, seq, gt_root / seq.name / "gt" / "gt.txt")
        else:
            _write_results(gt_rows, seq, gt_root / seq.name / "gt" / "gt.txt", gt.num_cols)
        trk_rows = _remap_ids(rows)
        if trk_rows is rows and _trackeval_readable(res_path):  # the common case: TrackEval reads the file
            _link_frame_range(res_path, seq, trk_root / f"{seq.name}.txt")
        else:  # e.g. 6 columns, spaces, blank lines, huge ids: hand TrackEval the validated rows instead
            _write_results(trk_rows, seq, trk_root / f"{seq.name}.txt")
        seq_lengths[seq.name] = seq.num_frames
    return seq_lengths


# --------------------------------------------------------------------------------------------------
# running TrackEval


def _flatten(metric_objs: list[Any], seq_res: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """TrackEval's nested per-metric dicts -> one flat dict of plain floats/ints (and per-alpha lists).

    Array fields (HOTA family, one value per alpha) become their mean, as TrackEval reports them,
    and are also kept whole under ``<field>_alpha``.
    """
    out: dict[str, Any] = {}
    for m in metric_objs:
        r = seq_res[m.get_name()]
        for f in m.float_array_fields:
            arr = np.asarray(r[f], dtype=np.float64)
            out[f] = float(arr.mean())
            out[f"{f}_alpha"] = [float(v) for v in arr]
        for f in m.integer_array_fields:
            out[f"{f}_alpha"] = [int(round(float(v))) for v in r[f]]
        for f in m.float_fields:
            out[f] = float(r[f])
        for f in m.integer_fields:
            out[f] = int(round(float(r[f])))
        if m.float_array_fields:
            out["alphas"] = [float(a) for a in m.array_labels]
    return out


def _run_trackeval(
    tmp: Path, seq_lengths: dict[str, int], benchmark: str, metrics: tuple[str, ...], num_workers: int
) -> tuple[list[Any], dict[str, Any]]:
    import trackeval
    from trackeval.utils import TrackEvalException

    workers = max(1, min(int(num_workers), len(seq_lengths)))
    eval_config = {
        "USE_PARALLEL": workers > 1,
        "NUM_PARALLEL_CORES": workers,
        "BREAK_ON_ERROR": True,
        "RETURN_ON_ERROR": False,
        "LOG_ON_ERROR": None,
        "PRINT_RESULTS": False,
        "PRINT_ONLY_COMBINED": False,
        "PRINT_CONFIG": False,
        "TIME_PROGRESS": False,
        "DISPLAY_LESS_PROGRESS": True,
        "OUTPUT_SUMMARY": False,
        "OUTPUT_EMPTY_CLASSES": False,
        "OUTPUT_DETAILED": False,
        "PLOT_CURVES": False,
    }
    rules = get_benchmark(benchmark)  # what the benchmark's official evaluation passes to TrackEval
    dataset_config = {
        "GT_FOLDER": str(tmp / "gt"),
        "TRACKERS_FOLDER": str(tmp / "trackers"),
        "OUTPUT_FOLDER": str(tmp / "output"),
        "TRACKERS_TO_EVAL": [_TRACKER],
        "CLASSES_TO_EVAL": [_CLASS],
        "BENCHMARK": rules.kit_benchmark,
        "SPLIT_TO_EVAL": "train",  # with SKIP_SPLIT_FOL and SEQ_INFO, a name only
        "INPUT_AS_ZIP": False,
        "PRINT_CONFIG": False,
        "DO_PREPROC": rules.do_preproc,
        "TRACKER_SUB_FOLDER": "",
        "OUTPUT_SUB_FOLDER": "",
        "SEQ_INFO": dict(seq_lengths),
        "SKIP_SPLIT_FOL": True,
    }
    metric_classes = {"HOTA": trackeval.metrics.HOTA, "CLEAR": trackeval.metrics.CLEAR,
                      "Identity": trackeval.metrics.Identity}
    captured = io.StringIO()
    try:
        with contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
            metric_objs = [metric_classes[m]({"PRINT_CONFIG": False}) for m in metrics]
            dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
            evaluator = trackeval.Evaluator(eval_config)
            output, _ = evaluator.evaluate([dataset], metric_objs)
    except TrackEvalException as exc:
        raise EvalError(f"TrackEval refused the input: {exc}") from exc
    res = output[dataset.get_name()][_TRACKER]
    return metric_objs + [trackeval.metrics.Count()], res


def evaluate(
    seqs: list[SeqInfo],
    results_dir: str | Path,
    benchmark: str | None = None,
    metrics: tuple[str, ...] = METRICS,
    num_workers: int = 1,
    engine: str = DEFAULT_ENGINE,
) -> dict:
    """Score ``<results_dir>/<SEQ>.txt`` against each sequence's gt, as the official kit (TrackEval) does.

    ``engine``: ``fast`` (mot_bench.metrics.fast: vectorised, the same numbers bit for bit) or
    ``trackeval`` (TrackEval 1.3.0 itself, the reference). ``num_workers``: processes over sequences.
    The return value has the same layout for both (see :func:`evaluate_trackeval`).
    """
    if check_engine(engine) == "fast":
        from mot_bench.metrics.fast import evaluate_fast

        return evaluate_fast(seqs, results_dir, benchmark, metrics, num_workers)
    return evaluate_trackeval(seqs, results_dir, benchmark, metrics, num_workers)


def evaluate_trackeval(
    seqs: list[SeqInfo],
    results_dir: str | Path,
    benchmark: str | None = None,
    metrics: tuple[str, ...] = METRICS,
    num_workers: int = 1,
) -> dict:
    """Score ``<results_dir>/<SEQ>.txt`` against each sequence's gt with TrackEval, as the official kit.

    Only frames ``first_frame..last_frame`` of each sequence count, all of them (frames without
    output are misses); result files use the sequence's own frame numbers (rows outside the range
    are ignored), and both gt and results are renumbered from 1 for TrackEval, as ByteTrack does.
    Returns ``{"benchmark", "metrics", "alphas", "per_sequence": {SEQ: fields}, "combined": fields}``
    with TrackEval's field names, fractions not percent; ``combined`` is TrackEval's COMBINED_SEQ.
    """
    seqs = list(seqs)
    if not seqs:
        raise EvalError("no sequences to evaluate")
    metrics = check_metrics(metrics)
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise EvalError(f"results folder {results_dir} does not exist", path=results_dir)
    bench = resolve_benchmark(seqs, benchmark)
    with tempfile.TemporaryDirectory(prefix="mot_bench_eval_") as tmp_name:
        tmp = Path(tmp_name)
        seq_lengths = _prepare_layout(seqs, results_dir, bench, tmp)
        metric_objs, res = _run_trackeval(tmp, seq_lengths, bench, metrics, num_workers)
    per_sequence = {s.name: _flatten(metric_objs, res[s.name][_CLASS]) for s in seqs}
    combined = _flatten(metric_objs, res["COMBINED_SEQ"][_CLASS])
    out: dict[str, Any] = {"benchmark": bench, "metrics": list(metrics)}
    if "alphas" in combined:
        out["alphas"] = combined["alphas"]
    out["per_sequence"] = per_sequence
    out["combined"] = combined
    return out


# --------------------------------------------------------------------------------------------------
# dependency check


def _selftest_case(root: Path) -> SeqInfo:
    """Two people over four frames; the "tracker" reports them exactly except frame 4 of person 2."""
    seq_dir = root / "SELFTEST-01"
    (seq_dir / "gt").mkdir(parents=True)
    gt = []
    res = []
    for f in range(1, 5):
        gt.append(f"{f},1,{10 + f},20,30,60,1,1,1.0\n")
        gt.append(f"{f},2,{100 + f},20,30,60,1,1,1.0\n")
        res.append(f"{f},7,{10 + f},20,30,60,1,-1,-1,-1\n")
        if f < 4:
            res.append(f"{f},8,{100 + f},20,30,60,1,-1,-1,-1\n")
    (seq_dir / "gt" / "gt.txt").write_text("".join(gt), encoding="utf-8")
    (root / "results").mkdir()
    (root / "results" / "SELFTEST-01.txt").write_text("".join(res), encoding="utf-8")
    return SeqInfo("SELFTEST-01", seq_dir, 4, 640, 480, 30.0)


def check_eval_dependencies() -> None:
    """Fail fast, with advice, when TrackEval/scipy/numpy cannot score (before a long run, not after).

    Runs a tiny evaluation whose exact answer is known (7 of 8 boxes found, no false positive).
    """
    versions = []
    for mod in ("numpy", "scipy", "trackeval"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except Exception as exc:  # ImportError, or a binary built for another numpy
            raise RuntimeError(
                f"cannot import {mod} ({type(exc).__name__}: {exc}); official metrics need trackeval>=1.3.0 "
                "with scipy and numpy installed together (pip install 'trackeval>=1.3.0' scipy numpy)"
            ) from exc
    try:
        with tempfile.TemporaryDirectory(prefix="mot_bench_selftest_") as tmp_name:
            tmp = Path(tmp_name)
            seq = _selftest_case(tmp)
            out = evaluate_trackeval([seq], tmp / "results", benchmark="MOT17")["combined"]
    except Exception as exc:
        raise RuntimeError(
            f"TrackEval cannot evaluate a tiny synthetic sequence ({type(exc).__name__}: {exc}) with "
            f"{', '.join(versions)}. TrackEval releases before 1.3.0 use aliases removed in numpy 2 "
            "(np.float, np.int): upgrade trackeval to >=1.3.0, or install 'numpy<2' for an older one."
        ) from exc
    expected = {"CLR_TP": 7, "CLR_FN": 1, "CLR_FP": 0, "IDSW": 0, "MOTA": 7 / 8, "IDF1": 14 / 15}
    wrong = {k: out.get(k) for k, v in expected.items()
             if not math.isclose(out.get(k, math.nan), v, abs_tol=1e-12)}
    if wrong or not 0 < out.get("HOTA", 0) < 1:
        raise RuntimeError(
            f"TrackEval gives wrong numbers on a tiny synthetic sequence with {', '.join(versions)}: "
            f"got {wrong or {'HOTA': out.get('HOTA')}}, expected {expected}"
        )
