"""The ``fast`` engine: TrackEval's MotChallenge2DBox scores, vectorised, with the same numbers.

:class:`FastEvaluator` reads and indexes the gt of a list of sequences once and then scores any number
of result sets, from files or from arrays in memory (what a parameter tuner needs).
:func:`evaluate_fast` is :func:`mot_bench.metrics.evaluate` for ``engine="fast"``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mot_bench.data.gt import read_gt
from mot_bench.data.mottext import MOTFormatError, nonblank_line_numbers
from mot_bench.metrics.common import (
    METRICS,
    EvalError,
    check_metrics,
    check_result_rows,
    check_sequence,
    check_unique_names,
    flatten_fields,
    load_results,
    resolve_benchmark,
)
from mot_bench.metrics.fast import clear, count, hota, identity
from mot_bench.metrics.fast.preprocess import Boxes, PreprocessError, SeqData, preprocess
from mot_bench.types import SeqInfo

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

MODULES = {"HOTA": hota, "CLEAR": clear, "Identity": identity}


def load_gt(seq: SeqInfo, cache: dict | None = None) -> Boxes:
    """A sequence's gt restricted to its frame range, renumbered from 1 and sorted by frame.

    ``cache`` ((size, seqLength, frame range) -> [(bytes, gt boxes)]) reads identical files once: MOT17's
    three detector folders of a sequence hold the same gt (compared byte for byte: cheaper than hashing
    them), and share one read-only :class:`Boxes`.
    """
    data = seq.gt_path.read_bytes()
    key = (len(data), seq.length, seq.first_frame, seq.last_frame)
    same_size = cache.setdefault(key, []) if cache is not None else []
    boxes = next((parsed for raw, parsed in same_size if raw == data), None)
    if boxes is None:
        try:
            text = read_gt(seq, data, min_cols=8)
        except MOTFormatError as exc:
            raise EvalError(str(exc), path=exc.path, line=exc.line) from exc
        boxes = Boxes.from_rows(text.table, seq.first_frame, seq.last_frame)  # >= 8 columns: all it reads
        same_size.append((data, boxes))
    return boxes


def prepare(seq: SeqInfo, gt: Boxes, rows: np.ndarray, benchmark: str) -> SeqData:
    """The preprocessed sequence TrackEval's metrics see, for checked result rows (errors name the gt line)."""
    trk = Boxes.from_rows(rows, seq.first_frame, seq.last_frame)
    try:
        return preprocess(gt, trk, seq.num_frames, benchmark)
    except PreprocessError as exc:
        if exc.row is None:
            raise EvalError(f"{seq.name}: {exc}") from None
        line = int(nonblank_line_numbers(seq.gt_path.read_bytes())[exc.row])
        raise EvalError(f"{seq.gt_path}:{line}: {exc}", seq.gt_path, line) from None


def score_sequence(seq: SeqInfo, gt: Boxes, rows: np.ndarray, benchmark: str,
                   metrics: tuple[str, ...]) -> dict[str, dict]:
    """TrackEval's per-sequence result ``{metric name: {field: value}}`` for checked result rows."""
    data = prepare(seq, gt, rows, benchmark)
    out = {m: MODULES[m].eval_sequence(data) for m in metrics}
    out["Count"] = count.eval_sequence(data)
    return out


def _modules(metrics: tuple[str, ...]) -> list:
    return [MODULES[m] for m in metrics] + [count]


def flatten(seq_res: dict[str, dict], metrics: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mod in _modules(metrics):
        out.update(flatten_fields(seq_res[mod.NAME], mod.FLOAT_ARRAY_FIELDS, mod.INTEGER_ARRAY_FIELDS,
                                  mod.FLOAT_FIELDS, mod.INTEGER_FIELDS, getattr(mod, "ALPHAS", None)))
    return out


def assemble(seqs: list[SeqInfo], per_seq: dict[str, dict], benchmark: str, metrics: tuple[str, ...]) -> dict:
    """The evaluate() layout. Sequences are combined in sorted name order, as TrackEval's serial run."""
    ordered = [per_seq[name] for name in sorted(per_seq)]
    combined = {mod.NAME: mod.combine_sequences([r[mod.NAME] for r in ordered]) for mod in _modules(metrics)}
    flat_combined = flatten(combined, metrics)
    out: dict[str, Any] = {"benchmark": benchmark, "metrics": list(metrics)}
    if "alphas" in flat_combined:
        out["alphas"] = flat_combined["alphas"]
    out["per_sequence"] = {s.name: flatten(per_seq[s.name], metrics) for s in seqs}
    out["combined"] = flat_combined
    return out


def _process_pool(workers: int, **kwargs: Any) -> ProcessPoolExecutor:
    """Forked worker processes where fork exists. Imported here: a one-process evaluation (the default)
    does not pay for loading multiprocessing and concurrent.futures."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods and os.name == "posix" else None)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, **kwargs)


def _num_workers(workers: int, tasks: int) -> int:
    return max(1, min(int(workers), tasks))


def _pool(workers: int, tasks: int) -> ProcessPoolExecutor | None:
    n = _num_workers(workers, tasks)
    return None if n <= 1 else _process_pool(n)


_GT_CACHE: dict = {}  # per evaluate_fast() call (cleared after it), or per worker process


def _score_files(seq: SeqInfo, results_dir: Path, benchmark: str, metrics: tuple[str, ...]) -> dict[str, dict]:
    gt = load_gt(seq, _GT_CACHE)  # the gt first: a frame beyond seqLength is the gt's or seqinfo's fault
    return score_sequence(seq, gt, load_results(results_dir / f"{seq.name}.txt", seq), benchmark, metrics)


def _prepare(seqs, benchmark: str | None, metrics: tuple[str, ...]) -> tuple[list[SeqInfo], str, tuple[str, ...]]:
    seqs = list(seqs)
    if not seqs:
        raise EvalError("no sequences to evaluate")
    metrics = check_metrics(tuple(metrics))
    bench = resolve_benchmark(seqs, benchmark)
    check_unique_names(seqs)
    for seq in seqs:
        check_sequence(seq, bench)
    return seqs, bench, metrics


def evaluate_fast(
    seqs: list[SeqInfo],
    results_dir: str | Path,
    benchmark: str | None = None,
    metrics: tuple[str, ...] = METRICS,
    num_workers: int = 1,
) -> dict:
    """:func:`mot_bench.metrics.evaluate` with the fast engine; ``num_workers`` > 1 scores sequences in
    that many processes (sequences sharing a gt file, like MOT17's detector folders, in the same task)."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise EvalError(f"results folder {results_dir} does not exist", path=results_dir)
    seqs, bench, metrics = _prepare(seqs, benchmark, metrics)
    for seq in seqs:  # refuse a missing file before any work, as the trackeval engine does
        if not (results_dir / f"{seq.name}.txt").is_file():
            path = results_dir / f"{seq.name}.txt"
            raise EvalError(f"missing result file {path} for sequence {seq.name}", path=path)
    pool = _pool(num_workers, len(seqs))
    if pool is None:
        try:
            # every input read and checked before any scoring
            loaded = {s.name: (load_gt(s, _GT_CACHE), load_results(results_dir / f"{s.name}.txt", s)) for s in seqs}
            per_seq = {s.name: score_sequence(s, *loaded[s.name], bench, metrics) for s in seqs}
        finally:
            _GT_CACHE.clear()
    else:
        # one task per group of sequences sharing a gt file (parsed once in its worker), biggest first
        groups: dict[tuple, list[SeqInfo]] = {}
        for s in seqs:
            groups.setdefault((s.gt_path.stat().st_size, s.length), []).append(s)
        size = {key: sum(k[0] + (results_dir / f"{s.name}.txt").stat().st_size for s in g for k in [key])
                for key, g in groups.items()}
        order = sorted(groups, key=lambda key: -size[key])
        with pool:
            futures = [pool.submit(_score_group, groups[key], results_dir, bench, metrics) for key in order]
            per_seq = {}
            for fut in futures:
                per_seq.update(fut.result())
    return assemble(seqs, per_seq, bench, metrics)


def _score_group(seqs: list[SeqInfo], results_dir: Path, benchmark: str,
                 metrics: tuple[str, ...]) -> dict[str, dict[str, dict]]:
    try:
        return {s.name: _score_files(s, results_dir, benchmark, metrics) for s in seqs}
    finally:
        _GT_CACHE.clear()


class FastEvaluator:
    """Parse and index the gt once; score many result sets (files or in-memory arrays).

        ev = FastEvaluator(seq_infos, "MOT17")
        metrics = ev.score({"MOT17-02-SDP": rows, ...})   # rows: (N, 6..10) MOT result rows
        metrics = ev.score_dir("runs/x/results")
        ev.close()   # with workers > 1: ends the worker processes (or use ``with FastEvaluator(...) as ev``)

    Results use each sequence's own frame numbers (rows outside first_frame..last_frame are ignored),
    exactly like result files. Returns the same dict as :func:`mot_bench.metrics.evaluate`.
    """

    def __init__(self, seqs: list[SeqInfo], benchmark: str | None = None, metrics: tuple[str, ...] = METRICS,
                 workers: int = 1) -> None:
        self.seqs, self.benchmark, self.metrics = _prepare(seqs, benchmark, metrics)
        self.workers = int(workers)
        self._pool: ProcessPoolExecutor | None = None
        pool = _pool(self.workers, len(self.seqs))
        if pool is None:
            cache: dict = {}
            gts = [load_gt(s, cache) for s in self.seqs]
        else:
            with pool:
                gts = list(pool.map(load_gt, self.seqs))
        self.gt = {s.name: g for s, g in zip(self.seqs, gts, strict=True)}

    def score(self, results: Mapping[str, np.ndarray]) -> dict:
        missing = [s.name for s in self.seqs if s.name not in results]
        if missing:
            raise EvalError(f"no results for sequence(s) {', '.join(missing)}")
        rows = {s.name: check_result_rows(results[s.name], s, f"results for {s.name}") for s in self.seqs}
        return self._score(rows)

    def score_dir(self, results_dir: str | Path) -> dict:
        results_dir = Path(results_dir)
        rows = {s.name: load_results(results_dir / f"{s.name}.txt", s) for s in self.seqs}
        return self._score(rows)

    def _score(self, rows: dict[str, np.ndarray]) -> dict:
        if _num_workers(self.workers, len(self.seqs)) <= 1:
            per_seq = {s.name: score_sequence(s, self.gt[s.name], rows[s.name], self.benchmark, self.metrics)
                       for s in self.seqs}
        else:
            pool = self._worker_pool()
            futures = [pool.submit(_score_in_worker, id(self), s.name, rows[s.name]) for s in self.seqs]
            per_seq = {s.name: f.result() for s, f in zip(self.seqs, futures, strict=True)}
        return assemble(self.seqs, per_seq, self.benchmark, self.metrics)

    def _worker_pool(self) -> ProcessPoolExecutor:
        """One pool for the evaluator's life; its workers are forked with the parsed gt already in memory
        (no gt is sent per call; where fork is unavailable it is sent once per worker at start-up)."""
        if self._pool is None:
            state = (self.seqs, self.gt, self.benchmark, self.metrics)
            self._pool = _process_pool(_num_workers(self.workers, len(self.seqs)), initializer=_init_worker,
                                       initargs=(id(self), state))
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> FastEvaluator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=False)


_WORKER_STATE: dict[int, tuple] = {}


def _init_worker(key: int, state: tuple) -> None:
    _WORKER_STATE[key] = state


def _score_in_worker(key: int, name: str, rows: np.ndarray) -> dict[str, dict]:
    seqs, gt, benchmark, metrics = _WORKER_STATE[key]
    seq = next(s for s in seqs if s.name == name)
    return score_sequence(seq, gt[name], rows, benchmark, metrics)
