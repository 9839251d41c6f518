"""The frame loop: read -> detect -> track every tracker -> write, with a per-frame, per-stage timer.

One call of :func:`run_many` runs one detector over the sequences and feeds each frame's detections
to every tracker of the run: the detector runs once per frame however many trackers there are. Each
tracker fills its own run folder (see :mod:`mot_bench.results`): its ``config.json``, results,
per-frame timing (the detector's stages shared, ``track``/``write`` its own) and scores. Sequences
already complete in a folder are kept, so an interrupted run resumes where it stopped; a sequence
complete in every folder is skipped, otherwise the detector runs once for the folders that miss it.

The run's :class:`~mot_bench.runtime.Runtime` (device, precision, channels_last, threads) is built
once from the options and handed to the detector (``detector.runtime``), the stage timer (its sync)
and the run folders' ``config.json``/``env.json``.

Camera motion: a tracker declaring ``needs_camera_motion`` gets each frame's warp (previous ->
current pixels) as ``frame.camera_motion``. The runner obtains the warps of a whole sequence once,
before its frame loop, per (method, downscale, GMC folder) request with
:func:`mot_bench.trackers.common.cmc.sequence_warps`, cached under ``RunOptions.cmc_cache`` (default
``<parent of out>/.cache/cmc``, ``runs/.cache/cmc`` for the default run folders), so a second run, a
sweep or a tuner trial loads them instead of recomputing them. ``file`` and ``none`` touch no
pixels; ``ecc``/``ecc_strongsort``/``sparseOptFlow`` decode the frames only when the cache misses; ``orb``/``sift``
mask the tracker's own high-score detections, so their warps depend on the tracker and are left to
it (the runner then decodes frames for it and the time lands in ``track``). The time spent
obtaining the warps is the ``cmc`` timing column, shared evenly by the sequence's frames and by the
trackers of the run that use the same request.

Post-processing (``RunOptions.postprocess``, :mod:`mot_bench.postprocess`): applied per sequence to
each tracker's rows after its frame loop, in the order given; the tracker's own rows are kept in
``results_raw/`` and the post-processed ones written to ``results/`` (scored). The time it takes is
the ``track_post`` timing column, shared evenly by the sequence's frames. An option given as
``tracker.NAME`` takes that tracker's (per-sequence) value of its option ``NAME``.

Per-sequence tracker inputs (:meth:`mot_bench.plugins.Tracker.input_files`, e.g. UCMCTrack's camera
parameters): checked with every other input before any work, then read once per sequence and file
(:func:`sequence_inputs`, shared by the trackers of the run that read the same file) and handed to each
tracker before its ``reset``; like ``reset``, this setup is not timed. After a sequence's last frame
each tracker's :meth:`~mot_bench.plugins.Tracker.finish` turns its online rows into the rows it writes
(:func:`finish_rows`; UCMCTrack's head padding); that time is the tracker's, shared evenly by the
sequence's frames in the ``track`` column.

On a Ray cluster (``RunOptions.ray_address``, :func:`run_on_ray`) each sequence is one task running the
same :func:`track_sequence` on the machine it lands on; the tasks return their rows and timings and this
process writes them with the same :func:`write_sequence`, so the run folder is what a local run writes
(byte-identical results, the same ``config.json``), and each completion record names the machine that
ran, and timed, its sequence.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mot_bench import postprocess as post
from mot_bench.data.frames import iter_frames
from mot_bench.data.motfile import write_mot_file
from mot_bench.data.sequences import BENCHMARKS, find_sequences
from mot_bench.data.validate import check_run_inputs
from mot_bench.registry import DETECTORS, TRACKERS
from mot_bench.results import RunFolder
from mot_bench.runtime import Runtime, refuse_runtime_options
from mot_bench.timing import STAGES, StageTimer, hardware_stamp, machine_stamp
from mot_bench.types import Detections, Frame, SeqInfo, Tracks

log = logging.getLogger(__name__)

SAMPLE_ROOT = Path(__file__).resolve().parent / "data" / "sample"
SAMPLE_BENCHMARK = "MOT15"
DETECTOR_STAGES = ("read", "preprocess", "model", "postprocess")  # shared by every tracker of a run
TRACKER_STAGES = ("track", "write")  # each tracker's own


@dataclass
class RunOptions:
    """Everything one run needs; each run folder's ``config.json`` records it so the run can be repeated.

    Trackers: ``trackers`` (several, one detector pass feeds them all) or ``tracker`` (one; kept for
    single-tracker callers). After construction ``trackers`` is always the list and ``tracker`` the
    name when there is exactly one (else None); neither given: ``["sort"]``.
    ``tracker_options``: ``{tracker name: {options}}``; a flat ``{option: value}`` dict applies to
    every tracker (normalised to the per-tracker form on construction).
    ``device``/``precision``/``channels_last``/``threads``: the run's :class:`Runtime` (validated on
    construction; :meth:`runtime`).
    """

    detector: str = "public"
    tracker: str | None = None
    trackers: list[str] = field(default_factory=list)
    data: str | None = None  # None: the bundled sample
    benchmark: str | None = None
    split: str = "train"
    seqs: list[str] | None = None
    detector_options: dict[str, Any] = field(default_factory=dict)
    tracker_options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    precision: str = "fp32"
    channels_last: bool = False
    threads: int | None = None
    out: str | None = None  # one tracker: the run folder; several: the parent of one folder per tracker
    warmup_frames: int = 3
    prefetch: int = 4
    evaluate: bool = True
    progress: bool = True
    overwrite: bool = False
    label: str | None = None
    eval_engine: str = "fast"  # scoring engine: fast (bit-identical to TrackEval) or trackeval
    postprocess: list[str] = field(default_factory=list)  # mot_bench.postprocess methods, applied in order
    postprocess_options: dict[str, Any] = field(default_factory=dict)  # flat, or {method: {options}}
    cmc_cache: str | None = None  # camera-motion warps cache; None: <parent of out>/.cache/cmc; "off": none
    events: bool = False  # also write the scoring's error events to <run>/events (mot_bench.metrics.explain)
    # Sequences as Ray tasks (see run_on_ray): None: this process; "local": a local cluster; else an address
    ray_address: str | None = None
    ray_gpus_per_task: float | None = None  # None: 1 on a CUDA device, else 0
    ray_retries: int = 2  # a failed sequence task is submitted again this many times

    def __post_init__(self) -> None:
        names = list(self.trackers)
        if self.tracker is not None and names and names != [self.tracker]:
            raise ValueError(f"RunOptions: tracker={self.tracker!r} and trackers={names} disagree; give one of them")
        names = names or [self.tracker or "sort"]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"tracker(s) {', '.join(dupes)} given more than once (each gets one run folder)")
        self.trackers = names
        self.tracker = names[0] if len(names) == 1 else None
        opts = dict(self.tracker_options or {})
        per_tracker = bool(opts) and all(k in names and isinstance(v, dict) for k, v in opts.items())
        self.tracker_options = {n: dict(opts.get(n, {}) if per_tracker else opts) for n in names}
        self.postprocess, self.postprocess_options = resolve_postprocess(self.postprocess, self.postprocess_options)
        self.runtime()  # refuse an unknown device or precision before anything runs
        if self.ray_gpus_per_task is not None and not self.ray_gpus_per_task >= 0:
            raise ValueError(f"ray_gpus_per_task must be >= 0, got {self.ray_gpus_per_task!r}")
        if self.ray_retries < 0:
            raise ValueError(f"ray_retries must be >= 0, got {self.ray_retries!r}")

    def runtime(self) -> Runtime:
        """The run's one runtime record (device, precision, layout, threads; sync derived)."""
        return Runtime(device=self.device, precision=self.precision, channels_last=self.channels_last,  # type: ignore[arg-type]
                       threads=self.threads)

    def resolved_data(self) -> tuple[Path, str | None]:
        if self.data is None:
            return SAMPLE_ROOT, self.benchmark or SAMPLE_BENCHMARK
        return Path(self.data), self.benchmark

    def default_out(self, tracker: str | None = None) -> Path:
        _, bench = self.resolved_data()
        parts = [bench or "data", self.split, self.detector, tracker or self.trackers[0]]
        return Path("runs") / "-".join(parts)

    def out_for(self, tracker: str) -> Path:
        """A tracker's run folder: ``out`` (one tracker), ``out/<tracker>`` (several), else the default."""
        if self.out is None:
            return self.default_out(tracker)
        return Path(self.out) if len(self.trackers) == 1 else Path(self.out) / tracker

    def cmc_cache_dir(self) -> Path | None:
        """Where camera-motion warps are cached: ``cmc_cache``, else ``<parent of out>/.cache/cmc`` (``out``
        being the run folder with one tracker, the folder of the run folders with several), which is
        ``runs/.cache/cmc`` for the default run folders: every run under one parent shares it;
        ``off``/``none``/empty: no cache (warps computed every run)."""
        if self.cmc_cache is not None:
            return None if self.cmc_cache.strip().lower() in ("", "off", "none") else Path(self.cmc_cache)
        out = Path(self.out) if self.out is not None else self.default_out(self.trackers[0])
        return out.parent / ".cache" / "cmc"

    def label_for(self, tracker: str) -> str:
        if self.label is None:
            return f"{self.detector}+{tracker}"
        return self.label if len(self.trackers) == 1 else f"{self.label}+{tracker}"


def resolve_postprocess(names: list[str], options: dict[str, Any]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Check post-processing names and options; ``options`` flat (each key goes to every named method
    that has it, an error if none has) or ``{method: {options}}``. Returns the names and each method's
    full, typed option set (defaults filled in), as ``config.json`` records them."""
    names = list(names or [])
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"post-processing {', '.join(dupes)} given more than once")
    for name in names:
        post.resolve(name)  # unknown names name the known ones
    opts = dict(options or {})
    if opts and not names:
        raise ValueError(f"post-processing options {sorted(opts)} given without a post-processing method")
    per_method = bool(opts) and all(k in names and isinstance(v, dict) for k, v in opts.items())
    given: dict[str, dict[str, Any]] = {n: {} for n in names}
    if per_method:
        for n, o in opts.items():
            given[n] = dict(o)
    else:
        for key, value in opts.items():
            method, dot, bare = key.partition(".")
            if dot and method in post.METHODS:
                if method not in names:
                    raise ValueError(f"post-processing option {key}: {method} is not among {names}")
                given[method][bare] = value
                continue
            takers = [n for n in names if key in {o.name for o in post.METHODS[n].options}]
            if not takers:
                known = {n: [o.name for o in post.METHODS[n].options] for n in names}
                raise ValueError(f"post-processing option {key!r} belongs to none of {names}; known: {known}")
            for n in takers:
                given[n][key] = value
    return names, {n: post.resolve(n, **given[n]) for n in names}


@dataclass
class RunResult:
    folder: RunFolder
    sequences: list[SeqInfo]
    resumed: list[str]
    metrics: dict[str, Any]
    timing: dict[str, Any]
    tracker: str = ""


@dataclass
class _Lane:
    """One tracker of the run, its folder and the rows of the sequence being run."""

    name: str
    tracker: Any
    folder: RunFolder | None  # None inside a Ray task: the driver writes what the task returns
    done: set[str]
    rows: list[np.ndarray] = field(default_factory=list)
    timing_rows: list[dict[str, float]] = field(default_factory=list)
    cmc: tuple | None = None  # the camera-motion request the runner serves (see camera_motion_request)


def build(options: RunOptions, runtime: Runtime | None = None):
    """Create the detector (with the run's runtime) and every tracker, checking up front that they fit.

    Returns ``(detector, {tracker name: tracker})``.
    """
    runtime = runtime or options.runtime()
    detector = make_detector(options.detector, options.detector_options, runtime)
    trackers = {}
    for name in options.trackers:
        tracker_options = dict(options.tracker_options.get(name, {}))
        if name == "fairmot" and options.detector == "fairmot" and "conf_thres" not in tracker_options:
            # FairMOT's tracker starts tracks at the network's own threshold (one opt.conf_thres for both)
            tracker_options["conf_thres"] = detector.conf_thres
        tracker = TRACKERS.create(name, tracker_options)
        if getattr(tracker, "needs_embeddings", False) and not getattr(detector, "provides_embeddings", False):
            raise ValueError(
                f"tracker {name!r} needs re-ID embeddings but detector {options.detector!r} provides none. "
                f"Detectors that provide them: {EMBEDDING_PROVIDERS}"
            )
        trackers[name] = tracker
    return detector, trackers


# Named in the error a tracker that needs embeddings gives before the run starts.
EMBEDDING_PROVIDERS = (
    "fairmot (its re-ID head); precomputed (<SEQ>.npy files with embedding columns); "
    "oracle with with_embeddings=true (synthetic, from gt ids); "
    "reid (the 'reid' stage: any detector's boxes embedded by an OSNet/BoT model, e.g. --detector reid "
    "--detector-opt base=public --weights osnet_x0_25_msmt17.pth; see README 'Re-ID embeddings')"
)


def make_detector(name: str, options: dict[str, Any], runtime: Runtime):
    """A detector by name with the run's runtime; one that wraps others (``compose``) gets them built alike."""
    refuse_runtime_options(options, f"detector {name!r}")
    detector = DETECTORS.create(name, options)
    detector.runtime = runtime
    if hasattr(detector, "compose"):  # third-party detectors may not subclass mot_bench.plugins.Detector
        detector.compose(lambda n, o: make_detector(n, o, runtime))
    return detector


def run(options: RunOptions) -> RunResult:
    """Run one tracker (``RunOptions.tracker``): one run folder. Several trackers: :func:`run_many`."""
    if len(options.trackers) != 1:
        raise ValueError(f"run() runs one tracker, got {options.trackers}; use run_many() for several")
    return run_many(options)[0]


def run_many(options: RunOptions) -> list[RunResult]:
    """One detector pass over the sequences feeding every tracker; one RunResult per tracker, in order."""
    root, benchmark = options.resolved_data()
    seqs = find_sequences(root, benchmark, options.split, options.seqs)
    for s in seqs:
        if s.inferred:
            log.warning("%s: %s", s.name, "; ".join(s.inferred))
    runtime = options.runtime()
    if options.ray_address is None:
        runtime.check_available()  # on Ray each task checks the machine it lands on
    detector, trackers = build(options, runtime)
    seqs = sequences_with_detections(seqs, detector, options)
    has_gt = all(s.gt_path.is_file() for s in seqs)
    do_eval = options.evaluate and has_gt
    for tracker in trackers.values():  # tracker.NAME post-processing values name an option of each tracker
        for method in options.postprocess:
            post.bind(method, options.postprocess_options[method], tracker)
    # every file the run will read, before any work
    check_run_inputs(seqs, detector, score=do_eval, trackers=list(trackers.values()))
    if do_eval and options.eval_engine == "trackeval":
        from mot_bench.metrics import check_eval_dependencies

        check_eval_dependencies()

    runtime.apply()
    env = make_env(options, runtime)
    if any(camera_motion_request(t) for t in trackers.values()):
        cache = options.cmc_cache_dir()
        env["cmc_cache"] = None if cache is None else str(cache)
    if options.ray_address is not None:
        cpus, gpus = ray_task_resources(options, runtime)
        env["executor"] = {"kind": "ray", "address": options.ray_address, "cpus_per_task": cpus,
                           "gpus_per_task": gpus, "machines": "each sequence's machine is in complete/<SEQ>.json; "
                           "its timings were measured there (the hardware above is the driver's)"}
    lanes: list[_Lane] = []
    starts = []
    for name, tracker in trackers.items():
        folder = RunFolder(options.out_for(name))
        if options.overwrite and folder.exists():
            shutil.rmtree(folder.path)
        config = make_config(options, root, benchmark, seqs, detector, tracker, runtime, name)
        folder.check(config)  # every folder is checked before any is written
        starts.append((folder, config))
        lanes.append(_Lane(name, tracker, folder, set(), cmc=camera_motion_request(tracker)))
    for (folder, config), lane in zip(starts, lanes, strict=True):
        folder.start(config, env)
        lane.done = folder.verified_sequences()  # a file cut short or edited since is redone
        resumed = [s.name for s in seqs if s.name in lane.done]
        if resumed:
            log.warning("resuming %s: keeping %d completed sequence(s): %s", folder.path, len(resumed),
                        ", ".join(resumed))

    work = [(seq, [lane for lane in lanes if seq.name not in lane.done]) for seq in seqs]
    work = [(seq, todo) for seq, todo in work if todo]
    if options.ray_address is not None:
        if work:
            run_on_ray(work, options, runtime)
    else:
        timer = StageTimer(sync=runtime.sync_fn())
        detector.timer = timer
        # Trackers do many tiny numpy solves; BLAS worker threads only add wake-up latency to them
        # (milliseconds per 4x4 solve on a loaded machine). Torch's own thread pool is unaffected.
        with threadpool_limits(limits=1, user_api="blas"):
            for seq, todo in work:
                run_sequence(seq, detector, todo, timer, options)

    results = []
    for lane in lanes:
        metrics: dict[str, Any] = {}
        if do_eval:
            from mot_bench.metrics import evaluate

            metrics = evaluate(seqs, lane.folder.results_dir, benchmark if benchmark in BENCHMARKS else None,
                               engine=options.eval_engine)
            metrics["split"] = options.split
            lane.folder.write_metrics(metrics)
            if options.events:
                from mot_bench.metrics.explain import explain_results, write_explanations

                write_explanations(lane.folder.events_dir, explain_results(
                    seqs, lane.folder.results_dir, benchmark if benchmark in BENCHMARKS else None))
        resumed = [s.name for s in seqs if s.name in lane.done]
        results.append(RunResult(lane.folder, seqs, resumed, metrics, lane.folder.timing_summary(), lane.name))
    if options.evaluate and not has_gt:
        log.warning("no gt/gt.txt for some sequences (test split?): results written, not scored")
    return results


class SequenceFailures(RuntimeError):
    """Sequences whose Ray tasks failed on every attempt (the others are written and kept)."""


def ray_task_resources(options: RunOptions, runtime: Runtime) -> tuple[float, float]:
    """What one sequence task asks of Ray: the runtime's threads as CPUs (1 when unset), and
    ``ray_gpus_per_task`` GPUs (default: 1 on a CUDA device, else 0; a fraction shares a GPU)."""
    gpus = options.ray_gpus_per_task
    if gpus is None:
        gpus = 1.0 if runtime.is_cuda else 0.0
    return float(runtime.threads or 1), float(gpus)


def run_on_ray(work: list[tuple[SeqInfo, list[_Lane]]], options: RunOptions, runtime: Runtime) -> None:
    """Each sequence as one Ray task (its one detector pass feeding the trackers that miss it), written
    here into the run folders by :func:`write_sequence`, as a local run writes them, as each task ends.

    ``ray_address``: ``local`` starts a cluster on this machine (as many CPUs as the tasks can use, at
    most this machine's; GPUs detected) and stops it after; an address (or ``auto``) joins a running
    cluster, whose nodes need mot-bench installed and the data (and any relative path of the run) at
    the same place: each task works in this process's working directory when its node has it. A task
    that fails (an error, a lost worker or node) is reported and submitted again, ``ray_retries``
    times; sequences that fail every time are named at the end (:class:`SequenceFailures`), after the
    others are written.
    """
    try:
        import ray
    except ImportError:
        raise ValueError("--ray-address needs Ray: pip install 'mot-bench[distributed]'") from None
    cpus, gpus = ray_task_resources(options, runtime)
    started = not ray.is_initialized()
    if started:
        if options.ray_address in ("", "local"):
            local_cpus = max(math.ceil(cpus), min(os.cpu_count() or 1, math.ceil(cpus * len(work))))
            ray.init(num_cpus=local_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=options.ray_address, log_to_driver=False, configure_logging=False)
    pending: dict[Any, tuple[SeqInfo, list[_Lane], int]] = {}
    bar = None
    try:
        have = ray.cluster_resources()
        if cpus > have.get("CPU", 0) or gpus > have.get("GPU", 0):
            raise ValueError(f"each sequence task asks {cpus:g} CPU(s) (--threads) and {gpus:g} GPU(s) "
                             f"(--ray-gpus-per-task), but the Ray cluster has {have.get('CPU', 0):g} CPU(s) and "
                             f"{have.get('GPU', 0):g} GPU(s)")
        task = ray.remote(max_retries=0)(_sequence_task).options(num_cpus=cpus, num_gpus=gpus)
        shipped = ray.put(_TaskSpec(replace(options, progress=False), _plugin_classes(options), os.getcwd()))

        def submit(seq: SeqInfo, lanes: list[_Lane], attempt: int) -> None:
            pending[task.remote(shipped, seq, [lane.name for lane in lanes])] = (seq, lanes, attempt)

        for seq, lanes in work:
            submit(seq, lanes, 1)
        bar = _ray_progress(len(work), options.progress)
        failed: dict[str, str] = {}
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            seq, lanes, attempt = pending.pop(ref)
            try:
                outputs, machine = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - a task error, a lost worker or node: retried, then named
                error = _task_error(exc)
                if attempt <= options.ray_retries:
                    log.warning("%s failed (attempt %d of %d): %s; submitting it again", seq.name, attempt,
                                options.ray_retries + 1, error)
                    submit(seq, lanes, attempt + 1)
                else:
                    log.error("%s failed on all %d attempts: %s", seq.name, attempt, error)
                    failed[seq.name] = error
                continue
            for lane, output in zip(lanes, outputs, strict=True):
                write_sequence(lane.folder, seq.name, output, machine)
            done = len(work) - len(pending) - len(failed)
            log.info("%s done on %s (%d of %d sequences)%s", seq.name, machine.get("host"), done, len(work),
                     f" after {attempt - 1} failed attempt(s)" if attempt > 1 else "")
            if bar is not None:
                bar.update(1)
                bar.set_postfix(last=f"{seq.name}@{machine.get('host')}")
        if failed:
            raise SequenceFailures(
                f"{len(failed)} sequence(s) failed on all {options.ray_retries + 1} attempts: "
                + "; ".join(f"{name}: {error}" for name, error in failed.items())
                + ". The other sequences are written; re-run the same command to retry the failed ones")
    finally:
        if bar is not None:
            bar.close()
        for ref in pending:  # interrupted: nothing left running on the cluster for this run
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _task_error(exc: BaseException) -> str:
    """One line for a failed task: the error raised in it and where (Ray's ``pid=..., ip=...``), or what
    Ray says happened to the worker or node."""
    import re

    cause = getattr(exc, "cause", None)
    if cause is None:
        return f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    where = re.search(r"\((pid=\d+, ip=[^)]+)\)", str(exc))
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {message}" + (f" ({where.group(1)})" if where else "")


@dataclass
class _TaskSpec:
    """What every sequence task of a run shares (sent to the cluster once)."""

    options: RunOptions
    plugins: dict[str, dict[str, type]]  # the run's detector and tracker classes, registered on the worker
    cwd: str


def _plugin_classes(options: RunOptions) -> dict[str, dict[str, type]]:
    """The run's plugin classes by name: one registered in this process only (a notebook, a test) is
    pickled to the workers with the task; the others travel as import paths."""
    return {"detectors": {options.detector: DETECTORS.get(options.detector)},
            "trackers": {name: TRACKERS.get(name) for name in options.trackers}}


def _sequence_task(spec: _TaskSpec, seq: SeqInfo, names: list[str]) -> tuple[list[SequenceOutput], dict[str, Any]]:
    """A Ray task: one sequence through the detector and the trackers ``names``, as :func:`run_sequence`
    runs it locally; returns their outputs and the machine, for the driver to write."""
    if os.path.isdir(spec.cwd):
        os.chdir(spec.cwd)  # relative paths of the run (data, det_dir, gmc_dir, cmc cache) as on the driver
    for name, cls in spec.plugins["detectors"].items():
        DETECTORS.register(name)(cls)
    for name, cls in spec.plugins["trackers"].items():
        TRACKERS.register(name)(cls)
    options = spec.options
    runtime = options.runtime()
    runtime.check_available()
    runtime.apply()
    detector = make_detector(options.detector, options.detector_options, runtime)
    lanes = []
    for name in names:
        tracker = TRACKERS.create(name, options.tracker_options.get(name, {}))
        lanes.append(_Lane(name, tracker, None, set(), cmc=camera_motion_request(tracker)))
    timer = StageTimer(sync=runtime.sync_fn())
    detector.timer = timer
    with threadpool_limits(limits=1, user_api="blas"):
        outputs = track_sequence(seq, detector, lanes, timer, options)
    import ray

    machine = {**machine_stamp(runtime.device), "ray_node": ray.get_runtime_context().get_node_id()}
    return outputs, machine


def _ray_progress(total: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="sequences (Ray)", unit="seq", file=sys.stderr, dynamic_ncols=True, disable=None)


def sequences_with_detections(seqs: list[SeqInfo], detector, options: RunOptions) -> list[SeqInfo]:
    """With a detection folder (``det_dir``) and no ``seqs`` chosen, the sequences that have a file there.

    A folder of per-sequence detections usually covers part of a benchmark (the YOLOX-X half-val files
    name only the ``MOT17-XX-SDP`` folders of MOT17's 21); the others are left out with a warning
    rather than failing on the first missing file. Named ``seqs`` are kept as they are (a missing file
    is then an error).
    """
    det_file = getattr(detector, "det_file", None)
    if options.seqs is not None or det_file is None or getattr(detector, "det_dir", None) is None:
        return seqs
    kept = [s for s in seqs if Path(det_file(s)).is_file()]
    if not kept:
        raise FileNotFoundError(f"no detection file in {detector.det_dir} matches a sequence of the split "
                                f"({', '.join(s.name for s in seqs[:5])}{' ...' if len(seqs) > 5 else ''})")
    if len(kept) < len(seqs):
        log.warning("%d of %d sequences have a detection file in %s; running those: %s", len(kept), len(seqs),
                    detector.det_dir, ", ".join(s.name for s in kept))
    return kept


def camera_motion_request(tracker) -> tuple[str, int, str | None] | None:
    """``(method, downscale, gmc_dir)`` of the warps the runner computes and hands to ``tracker``, or None.

    None when the tracker does not declare ``needs_camera_motion``, declares no ``cmc_method``, or uses
    ``orb``/``sift``, whose official form masks the tracker's own high-score detections (the tracker
    estimates those itself from ``frame.image``, which the runner then decodes).
    """
    if not getattr(tracker, "needs_camera_motion", False):
        return None
    method = getattr(tracker, "cmc_method", None)
    if method is None:
        return None
    from mot_bench.trackers.common.cmc import FIXED_DOWNSCALE, check_method

    check_method(method)
    if method in ("orb", "sift"):
        return None
    # file: no pixels; ecc_strongsort: always StrongSORT's 0.1 scale (10), whatever cmc_downscale says
    downscale = FIXED_DOWNSCALE.get(method, int(getattr(tracker, "cmc_downscale", 2) or 1))
    gmc_dir = getattr(tracker, "gmc_dir", None) if method == "file" else None
    if method == "file" and gmc_dir is None:
        raise ValueError(f"tracker {getattr(tracker, 'name', tracker)!r}: cmc_method 'file' needs gmc_dir "
                         "(a folder of the official GMC-<SEQ>.txt files); or choose another cmc_method")
    return method, downscale, None if gmc_dir is None else str(gmc_dir)


def _tracker_needs_images(tracker) -> bool:
    if getattr(tracker, "needs_images", False):
        return True
    return (getattr(tracker, "needs_camera_motion", False) and camera_motion_request(tracker) is None
            and getattr(tracker, "cmc_method", None) in ("orb", "sift"))


def _cmc_cache_for(seq: SeqInfo, method: str, cache_root: Path | None) -> Path | None:
    """The cache folder of one sequence's warps: ``<cache>/<SEQ>-<hash of its folder>/`` (the same
    sequence name under two data roots must not share warps); ``none`` is never cached."""
    if cache_root is None or method == "none":
        return None
    import hashlib

    digest = hashlib.sha256(str(seq.path.resolve()).encode()).hexdigest()[:10]
    return cache_root / f"{seq.name}-{digest}"


def _load_image_for_cmc(seq: SeqInfo, frame_id: int) -> np.ndarray:
    from mot_bench.data import frames

    return frames.decode_image(seq, frame_id)  # looked up at call time (tests count the decodes)


def tracker_inputs(tracker, seq: SeqInfo, cache: dict[tuple, Any]) -> dict[str, Any]:
    """The parsed per-sequence input files of one tracker (:meth:`~mot_bench.plugins.Tracker.input_files`),
    each file read once per ``cache`` (key: tracker class, kind, path)."""
    files = tracker.input_files(seq) if hasattr(tracker, "input_files") else {}
    out = {}
    for kind, path in files.items():
        key = (type(tracker), kind, str(Path(path).resolve()))
        if key not in cache:
            cache[key] = type(tracker).read_input(kind, Path(path))
        out[kind] = cache[key]
    return out


def sequence_inputs(seq: SeqInfo, lanes: list[_Lane]) -> None:
    """Hand every lane's tracker its parsed input files for ``seq`` (before its ``reset``)."""
    cache: dict[tuple, Any] = {}
    for lane in lanes:
        inputs = tracker_inputs(lane.tracker, seq, cache)
        if inputs:
            lane.tracker.provide_inputs(seq, inputs)


def finish_rows(tracker, rows: np.ndarray) -> np.ndarray:
    """A tracker's rows for the sequence just tracked: its :meth:`~mot_bench.plugins.Tracker.finish` of the
    online rows (third-party trackers without one: the online rows)."""
    finish = getattr(tracker, "finish", None)
    return rows if finish is None else np.asarray(finish(rows), dtype=np.float64).reshape(-1, 10)


def sequence_camera_motion(seq: SeqInfo, lanes: list[_Lane], cache_root: Path | None) -> dict[tuple, tuple]:
    """Each distinct request of the lanes -> ``(warps (num_frames, 2, 3) read-only, seconds per frame)``."""
    return {request: camera_motion_warps(seq, request, cache_root)
            for request in dict.fromkeys(lane.cmc for lane in lanes if lane.cmc is not None)}


def camera_motion_warps(seq: SeqInfo, request: tuple, cache_root: Path | None) -> tuple[np.ndarray, float]:
    """One sequence's warps for one :func:`camera_motion_request`: ``(warps (num_frames, 2, 3) read-only,
    seconds per frame)``, computed from the pixels or loaded from ``cache_root`` (also used by ``mot-bench
    tune``, so a tuned tracker sees the warps a run hands it)."""
    from mot_bench.trackers.common.cmc import sequence_warps

    method, downscale, gmc_dir = request
    t0 = time.perf_counter()
    warps = sequence_warps(seq, method, _cmc_cache_for(seq, method, cache_root), downscale=downscale,
                           gmc_dir=gmc_dir, load_image=_load_image_for_cmc)
    seconds = time.perf_counter() - t0
    warps = np.ascontiguousarray(warps, dtype=np.float64)
    warps.flags.writeable = False  # one tracker must not change what another (or the cache) holds
    return warps, seconds / max(1, seq.num_frames)


def run_sequence(seq: SeqInfo, detector, lanes: list[_Lane], timer: StageTimer, options: RunOptions) -> None:
    """One sequence tracked (:func:`track_sequence`) and written into every lane's run folder."""
    machine = machine_stamp(options.device)
    for lane, output in zip(lanes, track_sequence(seq, detector, lanes, timer, options), strict=True):
        write_sequence(lane.folder, seq.name, output, machine)


@dataclass
class SequenceOutput:
    """What one tracker made of one sequence: what its run folder gets (plain data: it travels back
    from a Ray task). ``raw``: the tracker's rows; ``rows``: after post-processing (``raw`` without it)."""

    raw: np.ndarray
    rows: np.ndarray
    timing_rows: list[dict[str, float]]
    postprocessed: bool


def write_sequence(folder: RunFolder, seq_name: str, output: SequenceOutput, machine: dict[str, Any]) -> None:
    """Timing, (raw) results, then the completion record naming the machine: a sequence is complete
    only with its record, so a crash before it redoes the sequence."""
    folder.write_timing(seq_name, output.timing_rows)
    if output.postprocessed:
        write_mot_file(folder.raw_result_path(seq_name), output.raw)
    write_mot_file(folder.result_path(seq_name), output.rows)
    folder.mark_complete(seq_name, machine)


def track_sequence(seq: SeqInfo, detector, lanes: list[_Lane], timer: StageTimer,
                   options: RunOptions) -> list[SequenceOutput]:
    """One sequence: each frame read and detected once, then tracked by every lane's tracker; one
    :class:`SequenceOutput` per lane, in order (nothing written).

    Each lane's timing row: the detector's stages (``read``, ``preprocess``, ``model``,
    ``postprocess``, and ``decode``) are the shared detector times; ``track``/``write`` are the
    lane's own; ``cmc`` the lane's share of the sequence's camera-motion warps (computed or loaded
    once before the loop), ``track_post`` its share of the post-processing after it; ``total`` is the
    sum of all but ``decode``, what this detector+tracker pair costs per frame.
    """
    detector.reset(seq)
    sequence_inputs(seq, lanes)
    for lane in lanes:
        lane.tracker.reset(seq)
        lane.rows, lane.timing_rows = [], []
    motion = sequence_camera_motion(seq, lanes, options.cmc_cache_dir())
    shared_dets = len(lanes) > 1
    decode = getattr(detector, "needs_images", False) or any(_tracker_needs_images(lane.tracker) for lane in lanes)
    frames = iter_frames(seq, decode=decode, prefetch=options.prefetch)
    bar = _progress(seq, options.progress)
    done_frames, timed_seconds = 0, 0.0
    batch = max(1, int(getattr(detector, "batch_size", 1)))
    try:
        while done_frames < seq.num_frames:
            chunk, read_s = [], []
            for _ in range(min(batch, seq.num_frames - done_frames)):
                timer.new_frame()
                with timer.stage("read"):
                    chunk.append(next(frames))
                read_s.append(timer.current["read"])
            timer.new_frame()
            with timer.stage("model"):
                dets_list = detect_frames(detector, [f for f, _ in chunk])
            # A batch's detector time is shared evenly by its frames (honest totals, per-frame means).
            shared = {k: v / len(chunk) for k, v in timer.current.items()}
            for (frame, decode_s), dets, read in zip(chunk, dets_list, read_s, strict=True):
                det_stages = {k: shared.get(k, 0.0) for k in STAGES}
                det_stages["read"] += read
                warm = done_frames < options.warmup_frames
                if shared_dets:
                    dets = _read_only(dets)  # one tracker must not change what the next one sees
                pass_seconds = sum(det_stages.values()) + sum(m[1] for m in motion.values())
                index = frame.frame_id - seq.first_frame
                for lane in lanes:
                    warps, cmc_s = motion.get(lane.cmc, (None, 0.0))
                    frame.camera_motion = None if warps is None else warps[index]
                    timer.new_frame()
                    with timer.stage("track"):
                        tracks = lane.tracker.update(dets, frame)
                    with timer.stage("write"):
                        lane.rows.append(track_rows(frame.frame_id, tracks))
                    own = {k: timer.current.get(k, 0.0) for k in STAGES}
                    stages = {k: det_stages[k] + own[k] for k in STAGES}
                    stages["cmc"] = cmc_s
                    stages["track_post"] = 0.0  # filled in after the loop (post-processing needs every frame)
                    total = sum(stages.values())
                    pass_seconds += sum(own.values())
                    lane.timing_rows.append({"frame": frame.frame_id, "warmup": int(warm), **stages,
                                             "decode": decode_s, "total": total})
                done_frames += 1
                if not warm:
                    timed_seconds += pass_seconds
                if bar is not None:
                    bar.update(1)
                    if timed_seconds > 0:
                        timed_frames = done_frames - min(done_frames, options.warmup_frames)
                        bar.set_postfix(fps=f"{timed_frames / timed_seconds:.1f}")
    finally:
        frames.close()
        if bar is not None:
            bar.close()
    outputs = []
    for lane in lanes:
        raw = np.concatenate(lane.rows) if lane.rows else np.zeros((0, 10))
        t0 = time.perf_counter()
        raw = finish_rows(lane.tracker, raw)
        share = (time.perf_counter() - t0) / max(1, len(lane.timing_rows))
        for row in lane.timing_rows:
            row["track"] += share
            row["total"] += share
        rows = raw
        if options.postprocess:
            t0 = time.perf_counter()
            rows = postprocess_rows(raw, options, lane.tracker)
            share = (time.perf_counter() - t0) / max(1, len(lane.timing_rows))
            for row in lane.timing_rows:
                row["track_post"] = share
                row["total"] += share
        outputs.append(SequenceOutput(raw, rows, lane.timing_rows, bool(options.postprocess)))
        lane.rows, lane.timing_rows = [], []
    return outputs


def postprocess_rows(rows: np.ndarray, options: RunOptions, tracker=None) -> np.ndarray:
    """One sequence's result rows through the run's post-processing methods, in order (``tracker.NAME``
    values taken from ``tracker``, set to the sequence's options)."""
    for name in options.postprocess:
        rows = post.apply(name, rows, **post.bind(name, options.postprocess_options[name], tracker))
    return rows


def _read_only(dets: Detections) -> Detections:
    """A shallow copy whose arrays (and those of its looser-NMS set) refuse writes: a tracker that edits
    its input fails loudly."""
    out = copy.copy(dets)
    for name in ("tlbr", "scores", "embeddings", "classes"):
        arr = getattr(out, name)
        if isinstance(arr, np.ndarray):
            view = arr.view()
            view.flags.writeable = False
            setattr(out, name, view)
    if getattr(out, "loose", None) is not None:
        out.loose = _read_only(out.loose)
    return out


def detect_frames(detector, frames: list[Frame]) -> list:
    """Batch through ``detect_frames`` where the detector has it (plug-ins may offer only ``__call__``)."""
    if len(frames) > 1 and hasattr(detector, "detect_frames"):
        return detector.detect_frames(frames)
    return [detector(f) for f in frames]


def track_rows(frame_id: int, tracks: Tracks) -> np.ndarray:
    """MOTChallenge rows (frame, id, x, y, w, h, score, -1, -1, -1) for one frame's tracks."""
    n = len(tracks)
    out = np.full((n, 10), -1.0)
    if n:
        out[:, 0] = frame_id
        out[:, 1] = tracks.ids
        out[:, 2:4] = tracks.tlbr[:, :2]
        out[:, 4:6] = tracks.tlbr[:, 2:] - tracks.tlbr[:, :2]
        out[:, 6] = tracks.scores
    return out


def _progress(seq: SeqInfo, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=seq.num_frames, desc=seq.name, unit="frame", leave=False, file=sys.stderr, dynamic_ncols=True,
                disable=None)  # None: no bar when stderr is not a terminal (CI logs)


def make_config(options: RunOptions, root: Path, benchmark: str | None, seqs: list[SeqInfo], detector,
                tracker, runtime: Runtime | None = None, tracker_name: str | None = None) -> dict[str, Any]:
    """One tracker's ``config.json``: its own tracker and options, the shared detector, data and runtime."""
    runtime = runtime or options.runtime()
    name = tracker_name or options.trackers[0]
    opts = asdict(options)
    return {
        "label": options.label_for(name),
        "detector": detector.config(),
        "tracker": tracker.config(),
        "data": {
            "root": str(root),
            "benchmark": benchmark,
            "split": options.split,
            "sequences": [
                {"name": s.name, "first_frame": s.first_frame, "last_frame": s.last_frame, "fps": s.fps,
                 "inferred": s.inferred}
                for s in seqs
            ],
        },
        # the run's runtime record (the same one env.json, the timer and the detector read)
        "device": runtime.device,
        "precision": runtime.precision,
        "channels_last": runtime.channels_last,
        "threads": runtime.threads,
        "warmup_frames": options.warmup_frames,
        "options": {"detector_options": opts["detector_options"],
                    "tracker_options": opts["tracker_options"].get(name, {})},
        # only when used, so run folders made before these existed still resume
        **({"postprocess": [post.config(n, **options.postprocess_options[n]) for n in options.postprocess]}
           if options.postprocess else {}),
        **({"camera_motion": camera_motion_config(tracker)} if getattr(tracker, "needs_camera_motion", False)
           else {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": shlex.join(sys.argv),
    }


def camera_motion_config(tracker) -> dict[str, Any]:
    """How a tracker that needs camera motion got it (config.json's ``camera_motion``)."""
    request = camera_motion_request(tracker)
    if request is None:
        return {"method": getattr(tracker, "cmc_method", None), "provided_by": "tracker"}
    method, downscale, gmc_dir = request
    return {"method": method, "downscale": downscale, "gmc_dir": gmc_dir, "provided_by": "runner"}


def make_env(options: RunOptions, runtime: Runtime | None = None) -> dict[str, Any]:
    runtime = runtime or options.runtime()
    env = hardware_stamp(runtime.device)
    env.update(runtime.to_dict())
    env["timing"] = ("per-frame exclusive stage seconds; read/preprocess/model/postprocess/reid (and decode) are the "
                     "detector's, measured once per frame and shared by every tracker of the run; track/write are "
                     "this tracker's own; cmc (camera-motion warps, computed or loaded from the cache once per "
                     "sequence) and track_post (post-processing of the results, once per sequence) are shared "
                     f"evenly by the sequence's frames; total is their sum. The first {options.warmup_frames} "
                     "frame(s) of each sequence are warm-up, reported in timing/*.csv and excluded from FPS; "
                     "'decode' overlaps compute")
    return env
