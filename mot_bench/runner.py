"""The frame loop: read -> detect -> track -> write, with a per-frame, per-stage timer.

One call of :func:`run` fills one run folder (see :mod:`mot_bench.results`). Sequences already
complete in that folder are kept, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import inspect
import logging
import shlex
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
from mot_bench.registry import DETECTORS, TRACKERS
from mot_bench.results import RunFolder
from mot_bench.timing import STAGES, StageTimer, cuda_sync_for, hardware_stamp
from mot_bench.types import Frame, SeqInfo, Tracks

log = logging.getLogger(__name__)

SAMPLE_ROOT = Path(__file__).resolve().parent / "data" / "sample"
SAMPLE_BENCHMARK = "MOT15"


@dataclass
class RunOptions:
    """Everything one run needs; ``config.json`` records it so the run can be repeated."""

    detector: str = "public"
    tracker: str = "sort"
    data: str | None = None  # None: the bundled sample
    benchmark: str | None = None
    split: str = "train"
    seqs: list[str] | None = None
    detector_options: dict[str, Any] = field(default_factory=dict)
    tracker_options: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    precision: str = "fp32"
    out: str | None = None
    warmup_frames: int = 3
    prefetch: int = 4
    evaluate: bool = True
    progress: bool = True
    overwrite: bool = False
    label: str | None = None
    eval_engine: str = "fast"  # scoring engine: fast (bit-identical to TrackEval) or trackeval

    def resolved_data(self) -> tuple[Path, str | None]:
        if self.data is None:
            return SAMPLE_ROOT, self.benchmark or SAMPLE_BENCHMARK
        return Path(self.data), self.benchmark

    def default_out(self) -> Path:
        _, bench = self.resolved_data()
        parts = [bench or "data", self.split, self.detector, self.tracker]
        return Path("runs") / "-".join(parts)


@dataclass
class RunResult:
    folder: RunFolder
    sequences: list[SeqInfo]
    resumed: list[str]
    metrics: dict[str, Any]
    timing: dict[str, Any]


def _with_device(cls: type, opts: dict[str, Any], device: str, precision: str) -> dict[str, Any]:
    """Pass the run's device/precision to a detector that takes them (unless set explicitly)."""
    params = inspect.signature(cls.__init__).parameters
    opts = dict(opts)
    if "device" in params:
        opts.setdefault("device", device)
    if "fp16" in params and precision == "fp16":
        opts.setdefault("fp16", True)
    return opts


def build(options: RunOptions):
    """Create the detector and tracker, checking up front that they fit together."""
    det_cls = DETECTORS.get(options.detector)
    detector = DETECTORS.create(
        options.detector, _with_device(det_cls, options.detector_options, options.device, options.precision)
    )
    tracker = TRACKERS.create(options.tracker, options.tracker_options)
    if getattr(tracker, "needs_embeddings", False) and not getattr(detector, "provides_embeddings", False):
        raise ValueError(
            f"tracker {options.tracker!r} needs re-ID embeddings but detector {options.detector!r} provides none; "
            "use a detector with embeddings (fairmot, precomputed, or oracle with_embeddings=true)"
        )
    return detector, tracker


def run(options: RunOptions) -> RunResult:
    root, benchmark = options.resolved_data()
    seqs = find_sequences(root, benchmark, options.split, options.seqs)
    for s in seqs:
        if s.inferred:
            log.warning("%s: %s", s.name, "; ".join(s.inferred))
    detector, tracker = build(options)
    has_gt = all(s.gt_path.is_file() for s in seqs)
    do_eval = options.evaluate and has_gt
    if do_eval and options.eval_engine == "trackeval":
        from mot_bench.metrics import check_eval_dependencies

        check_eval_dependencies()

    out = Path(options.out) if options.out else options.default_out()
    folder = RunFolder(out)
    if options.overwrite and folder.exists():
        import shutil

        shutil.rmtree(out)
    config = make_config(options, root, benchmark, seqs, detector, tracker)
    folder.start(config, make_env(options))
    done = folder.completed_sequences()
    resumed = [s.name for s in seqs if s.name in done]
    if resumed:
        log.warning("resuming %s: keeping %d completed sequence(s): %s", out, len(resumed), ", ".join(resumed))

    timer = StageTimer(sync=cuda_sync_for(options.device))
    detector.timer = timer
    # Trackers do many tiny numpy solves; BLAS worker threads only add wake-up latency to them
    # (milliseconds per 4x4 solve on a loaded machine). Torch's own thread pool is unaffected.
    with threadpool_limits(limits=1, user_api="blas"):
        for seq in seqs:
            if seq.name in done:
                continue
            run_sequence(seq, detector, tracker, timer, folder, options)

    metrics: dict[str, Any] = {}
    if do_eval:
        from mot_bench.metrics import evaluate

        metrics = evaluate(seqs, folder.results_dir, benchmark if benchmark in BENCHMARKS else None,
                           engine=options.eval_engine)
        metrics["split"] = options.split
        folder.write_metrics(metrics)
    elif options.evaluate:
        log.warning("no gt/gt.txt for some sequences (test split?): results written, not scored")
    return RunResult(folder, seqs, resumed, metrics, folder.timing_summary())


def run_sequence(seq: SeqInfo, detector, tracker, timer: StageTimer, folder: RunFolder, options: RunOptions) -> None:
    detector.reset(seq)
    tracker.reset(seq)
    rows: list[np.ndarray] = []
    timing_rows: list[dict[str, float]] = []
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
                timer.new_frame()
                with timer.stage("track"):
                    tracks = tracker.update(dets, frame)
                with timer.stage("write"):
                    rows.append(track_rows(frame.frame_id, tracks))
                stages = {k: shared.get(k, 0.0) + timer.current.get(k, 0.0) for k in STAGES}
                stages["read"] += read
                total = sum(stages.values())
                warm = done_frames < options.warmup_frames
                timing_rows.append({"frame": frame.frame_id, "warmup": int(warm), **stages, "decode": decode_s,
                                    "total": total})
                done_frames += 1
                if not warm:
                    timed_seconds += total
                if bar is not None:
                    bar.update(1)
                    if timed_seconds > 0:
                        timed_frames = done_frames - min(done_frames, options.warmup_frames)
                        bar.set_postfix(fps=f"{timed_frames / timed_seconds:.1f}")
    finally:
        frames.close()
        if bar is not None:
            bar.close()
    folder.write_timing(seq.name, timing_rows)
    all_rows = np.concatenate(rows) if rows else np.zeros((0, 10))
    write_mot_file(folder.result_path(seq.name), all_rows)


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
                tracker) -> dict[str, Any]:
    opts = asdict(options)
    return {
        "label": options.label or f"{options.detector}+{options.tracker}",
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
        "device": options.device,
        "precision": options.precision,
        "warmup_frames": options.warmup_frames,
        "options": {k: opts[k] for k in ("detector_options", "tracker_options")},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "command": shlex.join(sys.argv),
    }


def make_env(options: RunOptions) -> dict[str, Any]:
    env = hardware_stamp(options.device)
    env["precision"] = options.precision
    env["sync_policy"] = (
        "torch.cuda.synchronize() at every stage boundary" if cuda_sync_for(options.device) else
        "none needed: CPU work is synchronous"
    )
    env["timing"] = (f"per-frame exclusive stage seconds; first {options.warmup_frames} frame(s) of each sequence "
                     "are warm-up, reported in timing/*.csv and excluded from FPS; 'decode' overlaps compute")
    return env
