"""``mot-bench tune``: hyper-parameter search for a tracker on cached detections (Optuna; local pool or Ray).

The pieces, in the order a study uses them:

- :func:`build_space`: the search space from the tracker's declared option ranges
  (:func:`mot_bench.options.search_space`), narrowed by a ``--space`` file and ``--fix`` values; every
  bound and fixed value is checked against the option's declaration before any trial runs. Options that the
  tracker's active per-sequence table sets are left out of the declared space (trial 0 is then the tracker's
  defaults, table included); ``--fix per_sequence=none`` or a ``--space`` file naming them searches them, a
  trial's value then applying to every sequence.
- :func:`resolve_objectives`: objectives are fields of the metric table (:mod:`mot_bench.metrics.fields`)
  with their direction.
- :class:`Workload`: what one worker holds for the whole study: the sequences' detections (run once
  through the detector: public, precomputed, or the FairMOT detection cache), each as read-only per-frame
  :class:`~mot_bench.types.Detections`, and the parsed gt (:class:`~mot_bench.metrics.fast.evaluator.
  FastEvaluator`). :meth:`Workload.run_trial` builds the tracker from the trial's options, tracks every
  sequence in memory and scores the arrays: no detector, no files, no run folder per trial. A tracker that
  needs camera motion gets the runner's warps as ``frame.camera_motion`` (``file`` via ``gmc_dir``, or
  computed from the pixels: ``ecc``, ``sparseOptFlow``, ``ecc_strongsort``), obtained once per worker and
  distinct request (method, downscale, gmc_dir) through :func:`mot_bench.runner.camera_motion_warps`, from
  the same cache as the confirmation runs (``<out>/confirm/.cache/cmc``, or ``cmc_cache``).
- Executors: :class:`LocalExecutor` (in-process, or a process pool whose workers each build one
  Workload) and :class:`RayExecutor` (long-lived Ray actors, each holding one Workload; CPUs and GPUs per
  trial declared; a dead actor is restarted and its trial retried by Ray).
- :func:`optimize`: the Optuna ask/tell loop. Trials are asked in batches of ``workers`` and told in trial
  order, so a fixed seed gives the same trials whichever executor runs them. Trial 0 is the tracker's
  defaults. The study lives in an RDB storage (SQLite file in the output folder by default): re-running the
  same command resumes it, trials left RUNNING by a killed process of this host are marked failed and
  their parameters re-queued (no trial lost, none counted twice). A resumed study's sampler is seeded from
  the seed and the number of trials already stored (:func:`resume_seed`): seeded as the first run was, it
  would replay that run's draws and repeat trials already scored.
- :func:`finish`: ``trials.csv``, ``best*.json`` (``mot-bench run --tracker-config`` reads them), the
  confirmation run folders (the best configuration(s) and the defaults re-run through the normal runner and
  scored with TrackEval, on the tuning and on the held-out report sequences), ``study.json``,
  ``summary.md`` and the tuning HTML report (``mot_bench.reports.tuning``).
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import socket
import time
import traceback
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np

from mot_bench.atomic import atomic_write_json, atomic_write_text
from mot_bench.cli_args import parse_kv, split_names
from mot_bench.data.sequences import BENCHMARKS, SPLITS, find_sequences
from mot_bench.metrics.fields import FIELDS, METRIC_FIELDS, resolve
from mot_bench.options import OptionError, describe, option_names, search_space, unknown_option

log = logging.getLogger(__name__)

SAMPLERS = ("tpe", "nsga2", "random", "grid")
# The MOT17 half-val protocol of ByteTrack/OC-SORT/BoT-SORT ablations, split so the reported sequences were
# never tuned on.
MOT17_TUNE = ("MOT17-02", "MOT17-04", "MOT17-05", "MOT17-09")
MOT17_REPORT = ("MOT17-10", "MOT17-11", "MOT17-13")
# Metrics stored with every trial (besides the objectives): the table's scored fields.
TRIAL_METRICS = tuple(f.name for f in FIELDS if f.kind in ("percent", "count"))


class TuneError(ValueError):
    """A bad search space, objective or study setting: one line, raised before any trial runs."""


# ------------------------------------------------------------------------------------------ the space


@dataclass(frozen=True)
class Param:
    """One searched option: ``kind`` int/float (``low``..``high``, optional ``log``/``step``) or
    categorical (``choices``)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple | None = None

    def distribution(self):
        import optuna

        if self.kind == "categorical":
            return optuna.distributions.CategoricalDistribution(list(self.choices))
        if self.kind == "int":
            return optuna.distributions.IntDistribution(int(self.low), int(self.high), log=self.log,
                                                        step=int(self.step or 1))
        return optuna.distributions.FloatDistribution(float(self.low), float(self.high), log=self.log,
                                                      step=self.step)

    def grid(self, points: int) -> list:
        """Values of a grid sampler: the choices, or ``points`` evenly spaced values (ints rounded, unique)."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.step:
            values = list(np.arange(self.low, self.high + self.step / 2, self.step))
        else:
            values = list(np.linspace(self.low, self.high, max(2, points)))
        if self.kind == "int":
            return sorted({int(round(v)) for v in values})
        return [float(round(v, 10)) for v in values]

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None and v is not False}


def _option_kind(type_name: str) -> str | None:
    parts = {p.strip() for p in type_name.split("|")} - {"None"}
    if parts == {"int"}:
        return "int"
    if parts == {"float"}:
        return "float"
    return None


def build_space(tracker: str, space: dict | str | Path | None = None,
                fix: dict[str, Any] | None = None) -> tuple[dict[str, Param], dict[str, Any]]:
    """``({option: Param}, {option: fixed value})`` for ``tracker``; TuneError for anything wrong.

    ``space`` (a dict or a JSON file) replaces the declared ranges: ``{option: [low, high]}``,
    ``{option: {"low", "high", "log", "step"}}`` or ``{option: {"choices": [...]}}``; options left out keep
    their defaults. ``fix`` takes options out of the search at the given values.
    """
    from mot_bench.registry import TRACKERS, UnknownNameError

    try:
        cls = TRACKERS.get(tracker)
    except UnknownNameError as exc:
        raise TuneError(str(exc)) from None
    rows = {r.name: r for r in describe(cls)}
    valid = option_names(cls) or list(rows)
    what = f"tracker {tracker!r}"
    if isinstance(space, str | Path):
        path = Path(space)
        try:
            space = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise TuneError(f"--space {path}: cannot read a JSON object: {exc}") from None
        if not isinstance(space, dict):
            raise TuneError(f"--space {path}: expected a JSON object {{option: [low, high] | {{...}}}}")
    fix = dict(fix or {})
    for key in fix:
        if key not in rows:
            raise TuneError(str(unknown_option(key, valid, what)))
    params: dict[str, Param] = {}
    if space is None:
        declared = search_space(cls)
        if not declared:
            raise TuneError(f"{what} declares no search ranges; give --space FILE")
        for name, (low, high) in declared.items():
            kind = _option_kind(rows[name].type)
            if kind is None:
                continue
            params[name] = Param(name, kind, low, high)
    else:
        for name, spec in space.items():
            if name not in rows:
                raise TuneError(f"search space: {unknown_option(name, valid, what)}")
            params[name] = _param_from_spec(name, spec, rows[name], what)
    for name in fix:
        params.pop(name, None)
    if space is None:
        tabled = sorted(set(params) & per_sequence_options(tracker, fix))
        for name in tabled:
            params.pop(name, None)
        if tabled:
            log.warning("%s: %s not searched: the tracker's per-sequence table sets them for each sequence (a trial's "
                        "one value would replace every row); --fix per_sequence=none searches them, or name them in "
                        "--space", what, ", ".join(tabled))
    if not params:
        raise TuneError(f"{what}: nothing left to search (every option of the space is fixed)")
    _check_values(tracker, params, fix)
    return params, fix


def per_sequence_options(tracker: str, fix: dict[str, Any]) -> set[str]:
    """The options the tracker's active per-sequence table sets (with the study's fixed options), if any."""
    from mot_bench.registry import TRACKERS

    try:
        table = getattr(TRACKERS.create(tracker, fix), "sequence_table", None) or {}
    except (OptionError, ValueError, TypeError) as exc:
        raise TuneError(f"--fix: {exc}") from None
    return {name for row in table.values() for name in row}


def _param_from_spec(name: str, spec: Any, row, what: str) -> Param:
    kind = _option_kind(row.type)
    if isinstance(spec, dict) and "choices" in spec:
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise TuneError(f"search space {what} {name}: 'choices' must be a non-empty list")
        return Param(name, "categorical", choices=tuple(choices))
    if isinstance(spec, list | tuple) and len(spec) == 2 and all(isinstance(v, int | float) for v in spec):
        spec = {"low": spec[0], "high": spec[1]}
    if not isinstance(spec, dict) or "low" not in spec or "high" not in spec:
        raise TuneError(f"search space {what} {name}: expected [low, high], {{\"low\", \"high\"[, \"log\", "
                        f"\"step\"]}} or {{\"choices\": [...]}}, got {spec!r}")
    if kind is None:
        raise TuneError(f"search space {what} {name}: a {row.type} option takes {{\"choices\": [...]}}, not a range")
    low, high = spec["low"], spec["high"]
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise TuneError(f"search space {what} {name}: bounds must be finite numbers, got {v!r}")
    if kind == "int" and not (float(low).is_integer() and float(high).is_integer()):
        raise TuneError(f"search space {what} {name}: an int option needs integer bounds, got {low}..{high}")
    if not low < high:
        raise TuneError(f"search space {what} {name}: low must be below high, got {low}..{high}")
    log_scale = bool(spec.get("log", False))
    if log_scale and low <= 0:
        raise TuneError(f"search space {what} {name}: a log range needs low > 0, got {low}")
    unknown = set(spec) - {"low", "high", "log", "step"}
    if unknown:
        raise TuneError(f"search space {what} {name}: unknown key(s) {sorted(unknown)}")
    return Param(name, kind, low, high, log_scale, spec.get("step"))


def _check_values(tracker: str, params: dict[str, Param], fix: dict[str, Any]) -> None:
    """Build the tracker at each corner of the space (and with the fixed values): the option declaration's
    own checks (type, bounds, choices) refuse a bad space before any trial runs."""
    from mot_bench.registry import TRACKERS

    try:
        TRACKERS.create(tracker, fix)
    except (OptionError, ValueError, TypeError) as exc:
        raise TuneError(f"--fix: {exc}") from None
    for p in params.values():
        values = list(p.choices) if p.kind == "categorical" else [p.low, p.high]
        for v in values:
            v = int(v) if p.kind == "int" else v
            try:
                TRACKERS.create(tracker, {**fix, p.name: v})
            except (OptionError, ValueError, TypeError) as exc:
                raise TuneError(f"search space {p.name}: {exc}") from None


def tracker_defaults(tracker: str, names) -> dict[str, Any]:
    """The tracker's default value of each option in ``names`` (trial 0 of a study)."""
    from mot_bench.registry import TRACKERS

    rows = {r.name: r.default for r in describe(TRACKERS.get(tracker))}
    return {n: rows[n] for n in names if rows[n] is not None}


# ------------------------------------------------------------------------------------------ objectives


@dataclass(frozen=True)
class Objective:
    name: str  # the metric field's name (HOTA, IDF1, IDSW, CLR_FP ...)
    direction: str  # maximize | minimize

    @property
    def title(self) -> str:
        return METRIC_FIELDS[self.name].title


def resolve_objectives(names: list[str] | tuple[str, ...]) -> list[Objective]:
    out = []
    for raw in names or ("HOTA",):
        try:
            name = resolve(raw)
        except KeyError as exc:
            raise TuneError(str(exc.args[0])) from None
        f = METRIC_FIELDS[name]
        if f.higher_is_better is None or name not in TRIAL_METRICS:
            raise TuneError(f"objective {raw!r}: {name} has no better direction or is not a score "
                            f"(objectives: {', '.join(TRIAL_METRICS)})")
        if any(o.name == name for o in out):
            raise TuneError(f"objective {name} given twice")
        out.append(Objective(name, "maximize" if f.higher_is_better else "minimize"))
    return out


# ------------------------------------------------------------------------------------------ the workload


def _readonly(dets):
    from mot_bench.runner import _read_only

    return _read_only(dets)


class Workload:
    """One worker's inputs, built once: per-frame detections of every sequence and the parsed gt.

    ``spec`` (plain data, so it travels to processes and Ray actors): ``tracker``, ``fixed``, ``data``,
    ``benchmark``, ``split``, ``seqs``, ``detector``, ``detector_options``, ``device``, ``cmc_cache``
    (camera-motion warps cache folder; None: no cache).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        from mot_bench.data.frames import iter_frames
        from mot_bench.metrics.fast.evaluator import FastEvaluator
        from mot_bench.registry import DETECTORS, TRACKERS
        from mot_bench.runtime import Runtime

        t0 = time.perf_counter()
        self.spec = spec
        self.tracker_cls = TRACKERS.get(spec["tracker"])
        self.seqs = find_sequences(spec["data"], spec.get("benchmark"), spec.get("split", "train"), spec["seqs"])
        detector = DETECTORS.create(spec["detector"], spec.get("detector_options") or {})
        detector.runtime = Runtime(device=spec.get("device", "cpu"))
        if getattr(self.tracker_cls, "needs_embeddings", False) and not getattr(detector, "provides_embeddings",
                                                                               False):
            raise TuneError(f"tracker {spec['tracker']!r} needs re-ID embeddings but detector "
                            f"{spec['detector']!r} provides none")
        self.frames: dict[str, list] = {}
        self.dets: dict[str, list] = {}
        for seq in self.seqs:
            detector.reset(seq)
            frames, dets = [], []
            for frame, _ in iter_frames(seq, decode=getattr(detector, "needs_images", False)):
                dets.append(_readonly(detector(frame)))
                frame.image = None  # trackers of a tuning study get boxes (and camera motion), not pixels
                frames.append(frame)
            self.frames[seq.name], self.dets[seq.name] = frames, dets
        self.evaluator = FastEvaluator(self.seqs, spec.get("benchmark") if spec.get("benchmark") in BENCHMARKS
                                       else None)
        self.warps: dict[tuple, np.ndarray] = {}  # (sequence, camera-motion request) -> read-only warps
        self.inputs: dict[tuple, Any] = {}  # (tracker class, kind, file) -> parsed per-sequence input
        self._check_tracker_inputs(spec)
        self.load_seconds = time.perf_counter() - t0

    def _check_tracker_inputs(self, spec: dict[str, Any]) -> None:
        """The per-sequence input files of the tracker with the study's fixed options: present and parsed
        before any trial (a trial whose own options point elsewhere reads its files when it runs)."""
        from mot_bench.data.validate import check_tracker_inputs

        tracker = self.tracker_cls(**spec.get("fixed", {}))
        for seq in self.seqs:
            check_tracker_inputs(tracker, seq)

    def camera_motion(self, seq, request: tuple) -> np.ndarray:
        """One sequence's warps for one camera-motion request, obtained once per worker (as the runner does)."""
        from mot_bench.runner import camera_motion_warps

        key = (seq.name, request)
        if key not in self.warps:
            cache = self.spec.get("cmc_cache")
            self.warps[key] = camera_motion_warps(seq, request, None if cache is None else Path(cache))[0]
        return self.warps[key]

    def track(self, options: dict[str, Any]) -> dict[str, np.ndarray]:
        """Result rows per sequence for one configuration (a fresh tracker, reset per sequence), as the
        runner makes them: per-sequence input files read once per worker and handed over before ``reset``,
        the tracker's ``finish`` applied to each sequence's online rows."""
        from mot_bench.runner import camera_motion_request, finish_rows, track_rows, tracker_inputs

        tracker = self.tracker_cls(**options)
        request = camera_motion_request(tracker)  # the trial's options decide it (cmc_method may be searched)
        out = {}
        for seq in self.seqs:
            warps = None if request is None else self.camera_motion(seq, request)
            inputs = tracker_inputs(tracker, seq, self.inputs)
            if inputs:
                tracker.provide_inputs(seq, inputs)
            tracker.reset(seq)
            rows = []
            for f, d in zip(self.frames[seq.name], self.dets[seq.name], strict=True):
                f.camera_motion = None if warps is None else warps[f.frame_id - seq.first_frame]
                rows.append(track_rows(f.frame_id, tracker.update(d, f)))
            rows = finish_rows(tracker, np.concatenate(rows) if rows else np.zeros((0, 10)))
            out[seq.name] = as_written(rows)
        return out

    def run_trial(self, params: dict[str, Any]) -> dict[str, Any]:
        """Track and score one configuration; never raises (an error is returned as text)."""
        from threadpoolctl import threadpool_limits

        t0 = time.perf_counter()
        try:
            with threadpool_limits(limits=1, user_api="blas"):
                rows = self.track({**self.spec.get("fixed", {}), **params})
                t1 = time.perf_counter()
                metrics = self.evaluator.score(rows)
            t2 = time.perf_counter()
        except Exception as exc:  # noqa: BLE001 - a trial's failure is recorded, the study goes on
            return {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(),
                    "worker": _owner()}
        combined = metrics["combined"]
        return {"metrics": {m: float(combined[m]) for m in TRIAL_METRICS if m in combined},
                "per_sequence": {s: {m: float(v[m]) for m in ("HOTA", "MOTA", "IDF1") if m in v}
                                 for s, v in metrics["per_sequence"].items()},
                "track_s": t1 - t0, "score_s": t2 - t1, "worker_s": time.perf_counter() - t0, "worker": _owner()}


def as_written(rows: np.ndarray) -> np.ndarray:
    """The rows as a result file gives them back (:func:`mot_bench.data.motfile.format_rows`: boxes to 2
    decimals, score to 6 significant digits), so a trial scores exactly what ``mot-bench run`` would."""
    out = np.array(rows, dtype=np.float64)
    if len(out):
        out[:, 2:6] = np.array([float(f"{v:.2f}") for v in out[:, 2:6].ravel()]).reshape(-1, 4)
        out[:, 6] = [float(f"{v:.6g}") for v in out[:, 6]]
    return out


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# ------------------------------------------------------------------------------------------ executors


_WORKLOAD: Workload | None = None


def _init_worker(spec: dict[str, Any]) -> None:
    global _WORKLOAD
    _WORKLOAD = Workload(spec)


def _worker_trial(params: dict[str, Any]) -> dict[str, Any]:
    assert _WORKLOAD is not None
    return _WORKLOAD.run_trial(params)


class LocalExecutor:
    """``workers`` = 1: the workload in this process; more: a process pool, one Workload per process."""

    def __init__(self, spec: dict[str, Any], workers: int = 1) -> None:
        self.workers = max(1, int(workers))
        self._pool: ProcessPoolExecutor | None = None
        self._local: Workload | None = None
        if self.workers == 1:
            self._local = Workload(spec)
        else:
            import multiprocessing

            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                             initargs=(spec,))

    def map(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self._local is not None:
            return [self._local.run_trial(p) for p in batch]
        assert self._pool is not None
        futures = [self._pool.submit(_worker_trial, p) for p in batch]
        out = []
        for f in futures:
            try:
                out.append(f.result())
            except Exception as exc:  # noqa: BLE001 - a worker died (BrokenProcessPool): the trial is retried
                out.append({"error": f"{type(exc).__name__}: {exc}", "infrastructure": True})
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class _TrialActor:
    """A Ray actor: one Workload for its whole life, one trial per call."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.workload = Workload(spec)

    def run_trial(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.workload.run_trial(params)

    def ready(self) -> float:
        return self.workload.load_seconds


class RayExecutor:
    """``workers`` long-lived Ray actors holding the cached inputs; trials dispatched one per actor.

    ``address``: a running cluster (``ray start --head`` on one machine, ``ray start --address`` on the
    others; every node needs mot-bench installed and the data at the same path) or None for a local cluster
    (``num_cpus`` CPUs, no dashboard). A crashed actor is restarted and its trial re-run by Ray
    (``max_restarts``/``max_task_retries``).
    """

    def __init__(self, spec: dict[str, Any], workers: int = 1, address: str | None = None,
                 cpus_per_trial: float = 1.0, gpus_per_trial: float = 0.0, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise TuneError("--ray-address needs Ray: pip install 'mot-bench[distributed]'") from None
        self.ray = ray
        self._started = False
        if not ray.is_initialized():
            if address in (None, "", "local"):
                ray.init(num_cpus=num_cpus or max(1, math.ceil(workers * cpus_per_trial)), include_dashboard=False,
                         log_to_driver=False, configure_logging=False)
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
            self._started = True
        actor = ray.remote(num_cpus=cpus_per_trial, num_gpus=gpus_per_trial, max_restarts=2,
                           max_task_retries=2)(_TrialActor)
        self.actors = [actor.remote(spec) for _ in range(max(1, int(workers)))]
        self.workers = len(self.actors)
        ray.get([a.ready.remote() for a in self.actors])  # a workload that cannot load fails here, once

    def map(self, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        refs = [self.actors[i % self.workers].run_trial.remote(p) for i, p in enumerate(batch)]
        out = []
        for ref in refs:
            try:
                out.append(self.ray.get(ref))
            except Exception as exc:  # noqa: BLE001 - retries exhausted (actor lost): the trial is re-queued
                out.append({"error": f"{type(exc).__name__}: {exc}", "infrastructure": True})
        return out

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []
        if self._started:
            self.ray.shutdown()


# ------------------------------------------------------------------------------------------ the study


@dataclass
class TuneOptions:
    """One ``mot-bench tune`` invocation (also what ``study.json`` records)."""

    tracker: str
    out: str
    data: str | None = None
    benchmark: str | None = None
    split: str = "train"
    seqs: list[str] | None = None
    tune_seqs: list[str] | None = None
    report_seqs: list[str] | None = None
    detector: str = "public"
    detector_options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    trials: int = 50
    objectives: list[str] = field(default_factory=lambda: ["HOTA"])
    sampler: str | None = None  # None: tpe (one objective) or nsga2 (several)
    space: Any = None  # dict or JSON file path
    fix: dict[str, Any] = field(default_factory=dict)
    storage: str | None = None  # None: sqlite:///<out>/study.db
    study: str | None = None  # None: tune-<tracker>
    workers: int = 1
    ray_address: str | None = None  # None: local process pool; "local": a local Ray cluster; else a cluster
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    seed: int = 0
    grid_points: int = 3
    confirm: bool = True
    confirm_engine: str = "trackeval"
    cmc_cache: str | None = None  # camera-motion warps cache; None: <out>/confirm/.cache/cmc; "off": none

    def __post_init__(self) -> None:
        if self.trials < 1:
            raise TuneError("--trials must be at least 1")
        if self.sampler is not None and self.sampler not in SAMPLERS:
            raise TuneError(f"unknown sampler {self.sampler!r}; valid: {', '.join(SAMPLERS)}")
        if self.split not in SPLITS:
            raise TuneError(f"unknown split {self.split!r}; valid: {', '.join(SPLITS)}")

    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(Path(self.out) / 'study.db').resolve()}"

    def study_name(self) -> str:
        return self.study or f"tune-{self.tracker}"

    def sampler_name(self, objectives: list[Objective]) -> str:
        return self.sampler or ("tpe" if len(objectives) == 1 else "nsga2")


def _match_seqs(wanted: list[str], available: list[str], what: str) -> list[str]:
    out = []
    for w in wanted:
        hits = [a for a in available if a == w] or [a for a in available if a.startswith(w)]
        if not hits:
            raise TuneError(f"{what}: no sequence {w!r}; available: {', '.join(available)}")
        out.extend(h for h in hits if h not in out)
    return out


def split_protocol(opts: TuneOptions) -> tuple[list[str], list[str], str]:
    """``(tune sequences, report sequences, a sentence saying which is which)``."""
    from mot_bench.runner import SAMPLE_ROOT

    root = opts.data or str(SAMPLE_ROOT)
    available = [s.name for s in find_sequences(root, opts.benchmark, opts.split, opts.seqs)]
    det_dir = (opts.detector_options or {}).get("det_dir")
    if det_dir and opts.seqs is None:  # detections for some folders only (e.g. MOT17's -SDP)
        ext = ".npy" if opts.detector == "precomputed" else ".txt"
        available = [a for a in available if (Path(det_dir) / f"{a}{ext}").is_file()] or available
    if opts.tune_seqs:
        tune = _match_seqs(opts.tune_seqs, available, "--tune-seqs")
        report = _match_seqs(opts.report_seqs, available, "--report-seqs") if opts.report_seqs else []
    elif (opts.benchmark or "").upper() == "MOT17" and opts.split == "half-val" and not opts.report_seqs:
        tune = [a for a in available if a.startswith(MOT17_TUNE)]
        report = [a for a in available if a.startswith(MOT17_REPORT)]
        if not tune:
            tune, report = available, []
    else:
        tune = available
        report = _match_seqs(opts.report_seqs, available, "--report-seqs") if opts.report_seqs else []
    overlap = sorted(set(tune) & set(report))
    if overlap:
        raise TuneError(f"sequence(s) {', '.join(overlap)} are both tuned on and reported on")
    if report:
        note = (f"tuned on {', '.join(tune)}; the best configuration is reported on {', '.join(report)}, "
                "which the search never saw")
    else:
        note = f"tuned and reported on {', '.join(tune)}: no held-out sequences (give --report-seqs)"
    return tune, report, note


def make_sampler(name: str, params: dict[str, Param], seed: int, grid_points: int):
    import optuna

    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # grid: every point is enqueued up front (optimize), so the grid resumes and scales like any study;
    # Optuna's GridSampler stops a study from inside optimize(), which an ask/tell loop does not run
    return optuna.samplers.RandomSampler(seed=seed)


def grid_points(params: dict[str, Param], points: int) -> list[dict[str, Any]]:
    """Every point of the grid, in a stable order (the first parameter varies slowest)."""
    import itertools

    names = list(params)
    return [dict(zip(names, values, strict=True))
            for values in itertools.product(*(params[n].grid(points) for n in names))]


def _study_config(opts: TuneOptions, params: dict[str, Param], objectives: list[Objective],
                  tune: list[str]) -> dict[str, Any]:
    """What a resumed study must share with the stored one."""
    return {"tracker": opts.tracker, "space": {k: p.to_dict() for k, p in params.items()},
            "fixed": {k: str(v) for k, v in opts.fix.items()}, "objectives": [asdict(o) for o in objectives],
            "tune_seqs": tune, "split": opts.split, "detector": opts.detector,
            "detector_options": {k: str(v) for k, v in opts.detector_options.items()}}


def resume_seed(seed: int, stored_trials: int) -> int:
    """The sampler seed of a study that already holds ``stored_trials`` trials: ``seed`` itself for a new
    study; otherwise a seed derived from both, so the run that resumes draws new parameters (with the
    first run's seed a seeded sampler replays its draws) and stays reproducible."""
    if stored_trials == 0:
        return seed
    return int(np.random.SeedSequence([seed, stored_trials]).generate_state(1)[0])


def open_study(opts: TuneOptions, params: dict[str, Param], objectives: list[Objective], tune: list[str]):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    Path(opts.out).mkdir(parents=True, exist_ok=True)
    name = opts.sampler_name(objectives)
    study = optuna.create_study(storage=opts.storage_url(), study_name=opts.study_name(),
                                sampler=make_sampler(name, params, opts.seed, opts.grid_points),
                                directions=[o.direction for o in objectives], load_if_exists=True)
    stored_trials = len(study.get_trials(deepcopy=False))
    if stored_trials:
        study.sampler = make_sampler(name, params, resume_seed(opts.seed, stored_trials), opts.grid_points)
    config = _study_config(opts, params, objectives, tune)
    stored = study.user_attrs.get("config")
    if stored is None:
        study.set_user_attr("config", config)
    elif stored != config:
        diff = sorted(k for k in config if stored.get(k) != config.get(k))
        raise TuneError(f"study {opts.study_name()!r} in {opts.storage_url()} was started with a different "
                        f"configuration ({', '.join(diff)} differ); use another --study or --out")
    return study


def _alive(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname():
        return True  # another machine's trial: its own process resumes or fails it
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError):
        return False
    except PermissionError:
        return True
    return True


def recover_stale(study, requeue: bool = True) -> int:
    """Trials left RUNNING by a dead process of this host: marked failed, their parameters re-queued.

    A trial records its owner (host:pid) right after it is asked; one still without an owner a second later
    was left by a process killed between the two storage writes."""
    from optuna.trial import TrialState

    def running():
        return study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))

    stale = [t for t in running() if t.user_attrs.get("owner", "") not in ("", _owner())
             and not _alive(t.user_attrs["owner"])]
    if any("owner" not in t.user_attrs for t in running()):
        time.sleep(1.0)
        stale += [t for t in running() if "owner" not in t.user_attrs]
    for t in stale:
        study.tell(t.number, state=TrialState.FAIL)
        if requeue and t.params:  # killed before its parameters were even drawn: nothing to repeat
            study.enqueue_trial(dict(t.params), user_attrs={"requeued_from": t.number})
    if stale:
        log.warning("tune: %d trial(s) interrupted by a killed run were failed and re-queued", len(stale))
    return len(stale)


def optimize(study, executor, opts: TuneOptions, params: dict[str, Param], objectives: list[Objective],
             progress: bool = False) -> dict[str, float]:
    """Ask/tell until the study holds ``opts.trials`` complete trials; returns wall-clock bookkeeping."""
    from optuna.trial import TrialState

    recover_stale(study)
    dists = {p.name: p.distribution() for p in params.values()}
    grid = opts.sampler_name(objectives) == "grid"
    if not study.trials:
        study.enqueue_trial(tracker_defaults(opts.tracker, params), user_attrs={"defaults": True})
        if grid:
            for point in grid_points(params, opts.grid_points):
                study.enqueue_trial(point, skip_if_exists=True)
    batch_size = max(1, int(executor.workers))
    wall = ask_tell = 0.0
    ran = 0
    while True:
        complete = len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))
        remaining = opts.trials - complete
        if remaining <= 0:
            break
        if grid and not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            log.warning("tune: the grid is exhausted after %d trial(s)", complete)
            break
        t0 = time.perf_counter()
        trials = []
        for _ in range(min(batch_size, remaining)):
            trial = study.ask(dists)
            trial.set_user_attr("owner", _owner())
            trials.append(trial)
        batch = [dict(t.params) for t in trials]
        t1 = time.perf_counter()
        try:
            results = executor.map(batch)
        except BaseException:
            for t, p in zip(trials, batch, strict=True):  # Ctrl-C: nothing lost, nothing counted twice
                study.tell(t, state=TrialState.FAIL)
                study.enqueue_trial(p, user_attrs={"requeued_from": t.number})
            raise
        t2 = time.perf_counter()
        for t, p, r in zip(trials, batch, results, strict=True):
            _tell(study, t, p, r, objectives)
        wall += time.perf_counter() - t0
        ask_tell += (t1 - t0) + (time.perf_counter() - t2)
        ran += len(trials)
        if progress:
            click.echo(f"trials {complete + len(trials)}/{opts.trials}", err=True)
    return {"wall_s": wall, "ask_tell_s": ask_tell, "trials_run": ran}


def _tell(study, trial, params: dict[str, Any], result: dict[str, Any], objectives: list[Objective]) -> None:
    from optuna.trial import TrialState

    for key in ("track_s", "score_s", "worker_s", "worker", "error", "per_sequence"):
        if key in result:
            trial.set_user_attr(key, result[key])
    if "error" in result:
        study.tell(trial, state=TrialState.FAIL)
        if result.get("infrastructure") and trial.user_attrs.get("retries", 0) < 2:
            study.enqueue_trial(params, user_attrs={"requeued_from": trial.number,
                                                    "retries": trial.user_attrs.get("retries", 0) + 1})
        else:
            log.warning("tune: trial %d failed: %s", trial.number, result["error"])
        return
    trial.set_user_attr("metrics", result["metrics"])
    study.tell(trial, [result["metrics"][o.name] for o in objectives])


def make_executor(opts: TuneOptions, spec: dict[str, Any]):
    if opts.ray_address is not None:
        return RayExecutor(spec, opts.workers, opts.ray_address, opts.cpus_per_trial, opts.gpus_per_trial)
    return LocalExecutor(spec, opts.workers)


def workload_spec(opts: TuneOptions, seqs: list[str]) -> dict[str, Any]:
    from mot_bench.runner import SAMPLE_BENCHMARK, SAMPLE_ROOT, RunOptions

    data = opts.data or str(SAMPLE_ROOT)
    # the confirmation runs' cache (their run folders sit under <out>/confirm/), unless chosen
    cmc_cache = RunOptions(out=str(Path(opts.out) / "confirm" / "x"), cmc_cache=opts.cmc_cache).cmc_cache_dir()
    bench = opts.benchmark or (SAMPLE_BENCHMARK if opts.data is None else None)
    return {"tracker": opts.tracker, "fixed": dict(opts.fix), "data": str(Path(data).resolve()), "benchmark": bench,
            "split": opts.split, "seqs": list(seqs), "detector": opts.detector,
            "detector_options": dict(opts.detector_options), "device": opts.device,
            "cmc_cache": None if cmc_cache is None else str(cmc_cache.resolve())}


def tune(opts: TuneOptions, progress: bool = False) -> dict[str, Any]:
    """The whole command: check, search, write the outputs. Returns ``study.json``'s content."""
    objectives = resolve_objectives(opts.objectives)
    params, fix = build_space(opts.tracker, opts.space, opts.fix)
    opts.fix = fix
    tune_seqs, report_seqs, note = split_protocol(opts)
    if opts.sampler_name(objectives) == "grid":
        log.info("tune: grid of %d point(s)", len(grid_points(params, opts.grid_points)))
    study = open_study(opts, params, objectives, tune_seqs)
    executor = make_executor(opts, workload_spec(opts, tune_seqs))
    try:
        clock = optimize(study, executor, opts, params, objectives, progress)
    finally:
        executor.close()
    return finish(study, opts, params, objectives, tune_seqs, report_seqs, note, clock)


# ------------------------------------------------------------------------------------------ outputs


def complete_trials(study) -> list:
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))


def best_trials(study, objectives: list[Objective]) -> dict[str, Any]:
    """The best complete trial for each objective (ties: the earlier trial)."""
    trials = complete_trials(study)
    out = {}
    for i, o in enumerate(objectives):
        sign = -1.0 if o.direction == "maximize" else 1.0
        out[o.name] = min(trials, key=lambda t, i=i, sign=sign: (sign * t.values[i], t.number))
    return out


def write_trials_csv(study, path: Path, params: dict[str, Param], objectives: list[Objective]) -> None:
    import io

    names = list(params)
    metric_cols = [o.name for o in objectives] + [m for m in TRIAL_METRICS if m not in {o.name for o in objectives}]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["trial", "state", *names, *metric_cols, "duration_s", "track_s", "score_s", "worker", "defaults",
                "requeued_from", "error"])
    for t in study.get_trials(deepcopy=False):
        m = t.user_attrs.get("metrics", {})
        dur = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete and t.datetime_start \
            else ""
        w.writerow([t.number, t.state.name, *[t.params.get(n, "") for n in names],
                    *[m.get(c, "") for c in metric_cols], dur, t.user_attrs.get("track_s", ""),
                    t.user_attrs.get("score_s", ""), t.user_attrs.get("worker", ""),
                    int(bool(t.user_attrs.get("defaults"))), t.user_attrs.get("requeued_from", ""),
                    t.user_attrs.get("error", "")])
    atomic_write_text(path, buf.getvalue())


def importance(study, params: dict[str, Param], objectives: list[Objective]) -> dict[str, dict[str, float]]:
    """Per objective, each parameter's share of the objective's variance over the complete trials
    (Optuna's PED-ANOVA; empty when there are too few trials)."""
    import optuna

    out: dict[str, dict[str, float]] = {}
    if len(complete_trials(study)) < 4 or len(params) < 2:
        return out
    for i, o in enumerate(objectives):
        sign = -1.0 if o.direction == "maximize" else 1.0  # PED-ANOVA explains how to reach low targets
        try:
            warnings.filterwarnings("ignore", message="PedAnovaImportanceEvaluator computes")  # handled by sign
            imp = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.PedAnovaImportanceEvaluator(),
                target=lambda t, i=i, sign=sign: sign * t.values[i])
        except Exception as exc:  # noqa: BLE001 - importance is a nicety; the study's results stand without it
            log.warning("tune: parameter importance unavailable: %s", exc)
            return {}
        out[o.name] = {k: float(v) for k, v in imp.items()}
    return out


def finish(study, opts: TuneOptions, params: dict[str, Param], objectives: list[Objective], tune_seqs: list[str],
           report_seqs: list[str], note: str, clock: dict[str, float]) -> dict[str, Any]:
    out = Path(opts.out)
    trials = complete_trials(study)
    if not trials:
        raise TuneError("no trial completed; see the errors in trials.csv")
    write_trials_csv(study, out / "trials.csv", params, objectives)
    best = best_trials(study, objectives)
    pareto = sorted(t.number for t in study.best_trials) if len(objectives) > 1 else [best[objectives[0].name].number]
    files = {}
    for i, o in enumerate(objectives):
        t = best[o.name]
        doc = {"tracker": opts.tracker, "options": {**opts.fix, **t.params},
               "objective": {"name": o.name, "direction": o.direction, "value": t.values[i]},
               "trial": t.number, "study": opts.study_name(), "tune_seqs": tune_seqs, "report_seqs": report_seqs,
               "detector": opts.detector, "split": opts.split, "metrics_tune": t.user_attrs.get("metrics", {})}
        name = "best.json" if i == 0 else f"best-{o.name}.json"
        atomic_write_json(out / name, doc)
        if len(objectives) > 1:
            atomic_write_json(out / f"best-{o.name}.json", doc)
        files[o.name] = name if i == 0 else f"best-{o.name}.json"
    defaults_trial = next((t for t in trials if t.user_attrs.get("defaults")), None)
    timing = _timing(trials, clock, opts)
    summary: dict[str, Any] = {
        "tracker": opts.tracker, "study": opts.study_name(), "storage": opts.storage_url(),
        "sampler": opts.sampler_name(objectives), "seed": opts.seed, "objectives": [asdict(o) for o in objectives],
        "space": {k: p.to_dict() for k, p in params.items()}, "fixed": opts.fix, "tune_seqs": tune_seqs,
        "report_seqs": report_seqs, "protocol": note, "split": opts.split, "detector": opts.detector,
        "detector_options": opts.detector_options, "trials_complete": len(trials),
        "trials_total": len(study.trials), "best": {o: {"trial": t.number, "params": t.params, "file": files[o],
                                                        "metrics_tune": t.user_attrs.get("metrics", {})}
                                                    for o, t in best.items()},
        "defaults_trial": None if defaults_trial is None else defaults_trial.number,
        "pareto": pareto, "importance": importance(study, params, objectives), "timing": timing,
        "executor": "ray" if opts.ray_address is not None else ("pool" if opts.workers > 1 else "in-process"),
        "workers": opts.workers,
    }
    if opts.confirm:
        summary["confirm"] = confirm(opts, best, defaults_trial, tune_seqs, report_seqs, objectives)
        summary["confirm_intervals"] = confirm_intervals(summary["confirm"])
    atomic_write_json(out / "study.json", summary)
    atomic_write_text(out / "summary.md", summary_markdown(summary))
    try:
        from mot_bench.reports.tuning import write_tuning_report

        write_tuning_report(out)
    except Exception as exc:  # noqa: BLE001 - the study's files are written; a plotting failure must not hide them
        log.warning("tune: HTML report not written: %s", exc)
    return summary


def _timing(trials, clock: dict[str, float], opts: TuneOptions) -> dict[str, Any]:
    ran = [t for t in trials if "track_s" in t.user_attrs]
    n = max(1, len(ran))
    track = sum(t.user_attrs["track_s"] for t in ran) / n
    score = sum(t.user_attrs["score_s"] for t in ran) / n
    worker = sum(t.user_attrs.get("worker_s", 0.0) for t in ran) / n
    out = {"track_s_mean": track, "score_s_mean": score, "worker_s_mean": worker}
    if clock.get("trials_run"):
        per = clock["wall_s"] * max(1, opts.workers) / clock["trials_run"]  # worker-seconds per trial
        out.update({"wall_s": clock["wall_s"], "trials_run": clock["trials_run"],
                    "trials_per_s": clock["trials_run"] / clock["wall_s"] if clock["wall_s"] else None,
                    "worker_seconds_per_trial": per, "overhead_s_mean": max(0.0, per - track - score),
                    "ask_tell_s": clock["ask_tell_s"]})
    return out


def confirm(opts: TuneOptions, best: dict[str, Any], defaults_trial, tune_seqs: list[str], report_seqs: list[str],
            objectives: list[Objective]) -> dict[str, Any]:
    """The defaults and each distinct best configuration re-run through the normal runner (run folders under
    ``confirm/``) and scored with ``opts.confirm_engine``; on the tuning sequences the runner's numbers
    must equal the trial's (``matches_trial``)."""
    from mot_bench.runner import RunOptions, run

    configs: dict[str, tuple[dict[str, Any], Any]] = {}
    if defaults_trial is not None:
        configs["default"] = ({**opts.fix, **defaults_trial.params}, defaults_trial)
    for o, t in best.items():  # one run per distinct trial (the defaults may well be the best)
        if not any(c[1].number == t.number for c in configs.values()):
            configs[f"best-{o}"] = ({**opts.fix, **t.params}, t)
    out: dict[str, Any] = {}
    for label, (options, trial) in configs.items():
        entry: dict[str, Any] = {"trial": trial.number, "options": options}
        for part, seqs in (("tune", tune_seqs), ("report", report_seqs)):
            if not seqs:
                continue
            folder = Path(opts.out) / "confirm" / f"{label}-{part}"
            res = run(RunOptions(detector=opts.detector, tracker=opts.tracker, data=opts.data,
                                 benchmark=opts.benchmark, split=opts.split, seqs=seqs,
                                 detector_options=dict(opts.detector_options),
                                 tracker_options={opts.tracker: options}, device=opts.device, out=str(folder),
                                 progress=False, label=f"{opts.tracker}-{label}-{part}",
                                 eval_engine=opts.confirm_engine, overwrite=True, cmc_cache=opts.cmc_cache,
                                 events=True))
            comb = res.metrics.get("combined", {})
            entry[part] = {"folder": str(folder), "metrics": {m: comb[m] for m in TRIAL_METRICS if m in comb}}
            if part == "tune":
                recorded = trial.user_attrs.get("metrics", {})
                entry["matches_trial"] = bool(recorded) and all(  # bit for bit, every scored field
                    float(comb[m]) == float(recorded[m]) for m in TRIAL_METRICS if m in comb and m in recorded)
        out[label] = entry
    return out


INTERVAL_COLUMNS = ("HOTA", "MOTA", "IDF1", "AssA", "DetA", "IDSW")


def confirm_intervals(conf: dict[str, Any]) -> dict[str, Any]:
    """Is the tuned configuration really better? Paired bootstrap intervals of (best - defaults) on the
    held-out sequences (on the tuning ones when there are none), from the confirmation runs' events."""
    from mot_bench.metrics.bootstrap import Settings
    from mot_bench.reports.explain import intervals, run_events, settings_text
    from mot_bench.reports.runs import ReportError, load_run

    default = conf.get("default")
    if not default:
        return {}
    part = "report" if "report" in default else "tune"
    settings = Settings()
    out: dict[str, Any] = {"part": part, "bootstrap": settings_text(settings), "configurations": {}}
    try:
        base = run_events(load_run(default[part]["folder"]))
        for label, entry in conf.items():
            if label == "default" or part not in entry:
                continue
            found = intervals(base, run_events(load_run(entry[part]["folder"])), settings, INTERVAL_COLUMNS)
            if found is not None:
                out["configurations"][label] = {m: iv.to_dict() for m, iv in found[0].items()}
    except ReportError as exc:  # a confirmation folder that cannot be read: the summary says so
        out["note"] = str(exc)
    return out


def _fmt(name: str, value: Any) -> str:
    if value is None or value == "":
        return "-"
    f = METRIC_FIELDS.get(name)
    if f is not None and f.percent:
        return f"{100 * float(value):.2f}"
    return f"{float(value):.0f}"


def summary_markdown(s: dict[str, Any]) -> str:
    objectives = [o["name"] for o in s["objectives"]]
    cols = list(dict.fromkeys([*objectives, "HOTA", "MOTA", "IDF1", "IDSW"]))
    lines = [f"# Tuning {s['tracker']}: {s['study']}", "",
             f"- protocol: {s['protocol']}",
             f"- objectives: {', '.join(o['name'] + ' (' + o['direction'] + ')' for o in s['objectives'])}; sampler "
             f"{s['sampler']}, seed {s['seed']}; {s['trials_complete']} complete trial(s) of "
             f"{s['trials_total']}",
             f"- detector {s['detector']} {s['detector_options'] or ''}, split {s['split']}; executor "
             f"{s['executor']} x{s['workers']}",
             "- space: " + ", ".join(f"{k} {v.get('low', '')}..{v.get('high', '')}" if 'low' in v
                                      else f"{k} {v.get('choices')}" for k, v in s["space"].items()),
             ]
    if s["fixed"]:
        lines.append("- fixed: " + ", ".join(f"{k}={v}" for k, v in s["fixed"].items()))
    t = s["timing"]
    if t.get("trials_per_s"):
        lines.append(f"- speed: {t['trials_per_s']:.2f} trials/s; per trial {t['track_s_mean']:.2f} s tracking, "
                     f"{t['score_s_mean']:.2f} s scoring, {t['overhead_s_mean']:.2f} s overhead")
    lines.append("")
    conf = s.get("confirm")
    if conf:
        parts = [p for p in ("tune", "report") if any(p in e for e in conf.values())]
        head = ["configuration", "trial"] + [f"{p}: {METRIC_FIELDS[c].title}" for p in parts for c in cols]
        lines += ["Confirmation: each configuration re-run by `mot-bench run` and scored with TrackEval "
                  "(`tune` = the tuning sequences, `report` = the held-out ones).", "",
                  "| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
        for label, e in conf.items():
            cells = [label, str(e["trial"])]
            for p in parts:
                m = e.get(p, {}).get("metrics", {})
                cells += [_fmt(c, m.get(c)) for c in cols]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        bad = [k for k, e in conf.items() if e.get("matches_trial") is False]
        lines.append("The runner's scores on the tuning sequences equal the trials' for every configuration."
                     if not bad else f"MISMATCH: the runner's scores differ from the trial's for {', '.join(bad)}.")
        lines.append("")
        lines += _intervals_markdown(s.get("confirm_intervals") or {})
    lines.append("Best configurations (`mot-bench run --tracker-config FILE`):")
    lines.append("")
    for o, b in s["best"].items():
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in b["params"].items())
        lines.append(f"- {o}: trial {b['trial']} (`{b['file']}`): {shown}")
    if len(objectives) > 1:
        lines.append(f"- Pareto front: trials {', '.join(map(str, s['pareto']))}")
    if s["importance"]:
        lines += ["", "Parameter importance (PED-ANOVA):", ""]
        for o, imp in s["importance"].items():
            lines.append(f"- {o}: " + ", ".join(f"{k} {v:.2f}" for k, v in imp.items()))
    return "\n".join(lines) + "\n"


def _intervals_markdown(found: dict[str, Any]) -> list[str]:
    from mot_bench.reports.format import interval_text

    if not found.get("configurations"):
        return []
    where = "held-out" if found["part"] == "report" else "tuning (there are no held-out ones)"
    lines = [f"Is it real? Each configuration minus the defaults on the {where} sequences, points for ratios, with "
             f"its {found['bootstrap']}; `*`: the interval excludes zero.", "",
             "| configuration | " + " | ".join(METRIC_FIELDS[m].title for m in INTERVAL_COLUMNS) + " |",
             "|---|" + "---:|" * len(INTERVAL_COLUMNS)]
    for label, ivs in found["configurations"].items():
        cells = [interval_text(m, ivs[m]["delta"], ivs[m]["low"], ivs[m]["high"])
                 + (" *" if ivs[m]["low"] > 0 or ivs[m]["high"] < 0 else "") for m in INTERVAL_COLUMNS]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


# ------------------------------------------------------------------------------------------ the command


@click.command("tune")
@click.option("--tracker", required=True, help="Tracker to tune (sort, bytetrack, ocsort, botsort, ...).")
@click.option("--data", type=click.Path(exists=True, file_okay=False), default=None,
              help="MOTChallenge root, as `mot-bench run` (default: the bundled sample).")
@click.option("--benchmark", type=click.Choice(BENCHMARKS, case_sensitive=False), default=None)
@click.option("--split", type=click.Choice(SPLITS), default="train", show_default=True)
@click.option("--seqs", default=None, help="Comma-separated sequences to draw the tune/report sets from.")
@click.option("--tune-seqs", default=None, help="Sequences (names or prefixes) the search scores trials on. "
              "Default for MOT17 half-val: MOT17-02/04/05/09; otherwise every sequence.")
@click.option("--report-seqs", default=None, help="Held-out sequences the best configuration is reported on. "
              "Default for MOT17 half-val: MOT17-10/11/13.")
@click.option("--detector", default="public", show_default=True)
@click.option("--det-dir", default=None, type=click.Path(exists=True, file_okay=False))
@click.option("--detector-opt", multiple=True, metavar="KEY=VALUE")
@click.option("--device", default="cpu", show_default=True)
@click.option("--trials", default=50, show_default=True, type=click.IntRange(min=1),
              help="Complete trials the study should hold (a resumed study runs only the missing ones).")
@click.option("--objective", "objectives", multiple=True, help="Metric to optimise, repeatable (HOTA, IDF1, MOTA, "
              "IDSW, FP ...; direction from the metric table). Default HOTA.")
@click.option("--sampler", type=click.Choice(SAMPLERS), default=None,
              help="Default: tpe for one objective, nsga2 for several.")
@click.option("--space", default=None, type=click.Path(exists=True, dir_okay=False),
              help='JSON search space {option: [low, high] | {"low","high","log","step"} | {"choices": [...]}} '
                   "(default: the tracker's declared ranges).")
@click.option("--fix", multiple=True, metavar="KEY=VALUE", help="Hold a tracker option at a value, repeatable.")
@click.option("--storage", default=None, help="Optuna storage URL (default: sqlite:///OUT/study.db; e.g. "
              "postgresql://... for several machines on one study).")
@click.option("--study", default=None, help="Study name (default: tune-<tracker>).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="Trials at once (local processes, or Ray actors with --ray-address).")
@click.option("--ray-address", default=None, help="Run trials on Ray: a cluster address (ray://... or host:port), "
              "'auto', or 'local' for a local cluster. Needs mot-bench[distributed].")
@click.option("--cpus-per-trial", default=1.0, show_default=True, type=float)
@click.option("--gpus-per-trial", default=0.0, show_default=True, type=float)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--grid-points", default=3, show_default=True, type=click.IntRange(min=2),
              help="Values per range of the grid sampler.")
@click.option("--no-confirm", is_flag=True, help="Skip re-running the best configuration(s) through the runner.")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output folder (the study resumes "
              "from it).")
def tune_cmd(tracker, data, benchmark, split, seqs, tune_seqs, report_seqs, detector, det_dir, detector_opt, device,
             trials, objectives, sampler, space, fix, storage, study, workers, ray_address, cpus_per_trial,
             gpus_per_trial, seed, grid_points, no_confirm, out) -> None:
    """Search a tracker's options on cached detections (Optuna), resumably; report the best on held-out
    sequences. Trial 0 is the tracker's defaults; re-running the command resumes the study."""
    det_opts = parse_kv(detector_opt, "--detector-opt")
    if det_dir:
        det_opts.setdefault("det_dir", det_dir)
    try:
        opts = TuneOptions(tracker=tracker, out=out, data=data, benchmark=benchmark, split=split,
                           seqs=split_names(seqs), tune_seqs=split_names(tune_seqs),
                           report_seqs=split_names(report_seqs), detector=detector,
                           detector_options=det_opts, device=device, trials=trials,
                           objectives=list(objectives) or ["HOTA"], sampler=sampler, space=space,
                           fix=parse_kv(fix, "--fix"), storage=storage, study=study, workers=workers,
                           ray_address=ray_address, cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial,
                           seed=seed, grid_points=grid_points, confirm=not no_confirm)
        summary = tune(opts, progress=True)
    except (TuneError, OptionError, ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from None
    except KeyboardInterrupt:  # as ``run``: say what was kept, exit 130 (not 1, which reads as a failure)
        click.echo(f"Aborted! every finished trial is kept in the study under {out}; re-run the same command to "
                   "resume (the interrupted trial is marked failed and its parameters run again)", err=True)
        raise click.exceptions.Exit(130) from None
    click.echo(Path(out, "summary.md").read_text(encoding="utf-8"))
    click.echo(f"study folder {out} ({summary['trials_complete']} complete trials)", err=True)
