"""``mot-bench tune`` throughput: N ByteTrack trials on MOT17 half-val with the YOLOX-X detections.

Every trial tracks all 7 sequences' half-val frames (2,652 frames: MOT17-02/04/05/09/10/11/13-SDP, frames
N//2+2..N) from detections cached once per worker, and scores them in memory with the fast engine
(TrackEval's numbers). The search is TPE (seed 0) over ByteTrack's declared ranges; trial 0 is the
defaults. Printed: the wall-clock time of the whole study (worker start-up and input loading included),
trials per second, and the split of a trial's time into tracking (the tracker's Python loop), scoring and
overhead (ask/tell with the SQLite storage, dispatch, worker start-up), each in worker-seconds per trial.

    python benchmarks/bench_tune.py [--data PATH] [--trials 100] [--workers 2] [--ray]

No external reference row: roboflow's ``trackers`` 2.6.1 and BoxMOT were looked at (docs/benchmarks.md says
why neither is timed here).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEQS = [f"MOT17-{n}-SDP" for n in ("02", "04", "05", "09", "10", "11", "13")]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder")
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tracker", default="bytetrack")
    ap.add_argument("--ray", action="store_true", help="run the trials on a local Ray cluster instead of a pool")
    ap.add_argument("--out", type=Path, default=None, help="study folder (default: a temporary one)")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from mot_bench.timing import hardware_stamp
    from mot_bench.tune import TuneOptions, tune

    det_dir = args.data / "detections" / "MOT17" / "YOLOX_X_ablation"
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "study"
        opts = TuneOptions(tracker=args.tracker, out=str(out), data=str(args.data), benchmark="MOT17",
                           split="half-val", seqs=SEQS, tune_seqs=SEQS, detector_options={"det_dir": str(det_dir)},
                           trials=args.trials, workers=args.workers, ray_address="local" if args.ray else None,
                           seed=0, confirm=False)
        t0 = time.perf_counter()
        summary = tune(opts)
        wall = time.perf_counter() - t0
    t = summary["timing"]
    per = wall * args.workers / summary["trials_complete"]
    hw = hardware_stamp("cpu")
    best = summary["best"]["HOTA"]
    print(f"{args.tracker}: {summary['trials_complete']} trials on {len(SEQS)} sequences (2,652 frames) with "
          f"{args.workers} {'Ray actors' if args.ray else 'worker processes'}")
    print(f"  wall {wall:.1f} s end to end ({summary['trials_complete'] / wall:.3f} trials/s); ask/tell loop "
          f"{t['wall_s']:.1f} s")
    print(f"  per trial (worker-seconds): {per:.2f} = tracking {t['track_s_mean']:.2f} + scoring "
          f"{t['score_s_mean']:.2f} + overhead {max(0.0, per - t['track_s_mean'] - t['score_s_mean']):.2f}")
    print(f"  tracking {2652 / t['track_s_mean']:.0f} frames/s per worker")
    print(f"  best HOTA {100 * best['metrics_tune']['HOTA']:.2f} (trial {best['trial']})")
    print(f"  hardware: {hw.get('cpu')} ({hw.get('cpu_count', '?')} logical CPUs), python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
