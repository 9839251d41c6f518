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
"""

from __future__ import annotations

import copy
import logging
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from mot_bench.data.frames import iter_frames
from mot_bench.data.motfile import write_mot_file
from mot_bench.data.sequences import BENCHMARKS, find_sequences
from mot_bench.data.validate import check_run_inputs
from mot_bench.registry import DETECTORS, TRACKERS
from mot_bench.results import RunFolder
from mot_bench.runtime import Runtime, refuse_runtime_options
from mot_bench.timing import STAGES, StageTimer, hardware_stamp
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
        self.runtime()  # refuse an unknown device or precision before anything runs

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

    def label_for(self, tracker: str) -> str:
        if self.label is None:
            return f"{self.detector}+{tracker}"
        return self.label if len(self.trackers) == 1 else f"{self.label}+{tracker}"


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
    folder: RunFolder
    done: set[str]
    rows: list[np.ndarray] = field(default_factory=list)
    timing_rows: list[dict[str, float]] = field(default_factory=list)


def build(options: RunOptions, runtime: Runtime | None = None):
    """Create the detector (with the run's runtime) and every tracker, checking up front that they fit.

    Returns ``(detector, {tracker name: tracker})``.
    """
    runtime = runtime or options.runtime()
    refuse_runtime_options(options.detector_options, f"detector {options.detector!r}")
    detector = DETECTORS.create(options.detector, options.detector_options)
    detector.runtime = runtime
    trackers = {}
    for name in options.trackers:
        tracker = TRACKERS.create(name, options.tracker_options.get(name, {}))
        if getattr(tracker, "needs_embeddings", False) and not getattr(detector, "provides_embeddings", False):
            raise ValueError(
                f"tracker {name!r} needs re-ID embeddings but detector {options.detector!r} provides none; "
                "use a detector with embeddings (fairmot, precomputed, or oracle with_embeddings=true)"
            )
        trackers[name] = tracker
    return detector, trackers


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
    runtime.check_available()
    detector, trackers = build(options, runtime)
    has_gt = all(s.gt_path.is_file() for s in seqs)
    do_eval = options.evaluate and has_gt
    check_run_inputs(seqs, detector, score=do_eval)  # every file the run will read, before any work
    if do_eval and options.eval_engine == "trackeval":
        from mot_bench.metrics import check_eval_dependencies

        check_eval_dependencies()

    runtime.apply()
    env = make_env(options, runtime)
    lanes: list[_Lane] = []
    starts = []
    for name, tracker in trackers.items():
        folder = RunFolder(options.out_for(name))
        if options.overwrite and folder.exists():
            shutil.rmtree(folder.path)
        config = make_config(options, root, benchmark, seqs, detector, tracker, runtime, name)
        folder.check(config)  # every folder is checked before any is written
        starts.append((folder, config))
        lanes.append(_Lane(name, tracker, folder, set()))
    for (folder, config), lane in zip(starts, lanes, strict=True):
        folder.start(config, env)
        lane.done = folder.verified_sequences()  # a file cut short or edited since is redone
        resumed = [s.name for s in seqs if s.name in lane.done]
        if resumed:
            log.warning("resuming %s: keeping %d completed sequence(s): %s", folder.path, len(resumed),
                        ", ".join(resumed))

    timer = StageTimer(sync=runtime.sync_fn())
    detector.timer = timer
    # Trackers do many tiny numpy solves; BLAS worker threads only add wake-up latency to them
    # (milliseconds per 4x4 solve on a loaded machine). Torch's own thread pool is unaffected.
    with threadpool_limits(limits=1, user_api="blas"):
        for seq in seqs:
            todo = [lane for lane in lanes if seq.name not in lane.done]
            if todo:
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
        resumed = [s.name for s in seqs if s.name in lane.done]
        results.append(RunResult(lane.folder, seqs, resumed, metrics, lane.folder.timing_summary(), lane.name))
    if options.evaluate and not has_gt:
        log.warning("no gt/gt.txt for some sequences (test split?): results written, not scored")
    return results


def run_sequence(seq: SeqInfo, detector, lanes: list[_Lane], timer: StageTimer, options: RunOptions) -> None:
    """One sequence: each frame read and detected once, then tracked by every lane's tracker.

    Each lane's timing row: the detector's stages (``read``, ``preprocess``, ``model``,
    ``postprocess``, and ``decode``) are the shared detector times; ``track``/``write`` are the
    lane's own; ``total`` is their sum, what this detector+tracker pair costs per frame.
    """
    detector.reset(seq)
    for lane in lanes:
        lane.tracker.reset(seq)
        lane.rows, lane.timing_rows = [], []
    shared_dets = len(lanes) > 1
    frames = iter_frames(seq, decode=getattr(detector, "needs_images", False), prefetch=options.prefetch)
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
                pass_seconds = sum(det_stages.values())
                for lane in lanes:
                    timer.new_frame()
                    with timer.stage("track"):
                        tracks = lane.tracker.update(dets, frame)
                    with timer.stage("write"):
                        lane.rows.append(track_rows(frame.frame_id, tracks))
                    own = {k: timer.current.get(k, 0.0) for k in STAGES}
                    stages = {k: det_stages[k] + own[k] for k in STAGES}
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
    for lane in lanes:
        lane.folder.write_timing(seq.name, lane.timing_rows)
        all_rows = np.concatenate(lane.rows) if lane.rows else np.zeros((0, 10))
        write_mot_file(lane.folder.result_path(seq.name), all_rows)
        lane.folder.mark_complete(seq.name)  # after both files: a crash before this redoes the sequence
        lane.rows, lane.timing_rows = [], []


def _read_only(dets: Detections) -> Detections:
    """A shallow copy whose arrays refuse writes: a tracker that edits its input fails loudly."""
    out = copy.copy(dets)
    for name in ("tlbr", "scores", "embeddings", "classes"):
        arr = getattr(out, name)
        if isinstance(arr, np.ndarray):
            view = arr.view()
            view.flags.writeable = False
            setattr(out, name, view)
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
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": shlex.join(sys.argv),
    }


def make_env(options: RunOptions, runtime: Runtime | None = None) -> dict[str, Any]:
    runtime = runtime or options.runtime()
    env = hardware_stamp(runtime.device)
    env.update(runtime.to_dict())
    env["timing"] = (f"per-frame exclusive stage seconds; read/preprocess/model/postprocess (and decode) are the "
                     f"detector's, measured once per frame and shared by every tracker of the run; track/write are "
                     f"this tracker's own; total is their sum. The first {options.warmup_frames} frame(s) of each "
                     "sequence are warm-up, reported in timing/*.csv and excluded from FPS; 'decode' overlaps compute")
    return env
