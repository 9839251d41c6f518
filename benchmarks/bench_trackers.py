"""Tracking-only throughput of SORT and ByteTrack on SORT's Faster R-CNN detections (MOT15 train).

Detections are read and grouped per frame before the clock starts; only ``tracker.update`` is
timed (``time.perf_counter`` around each call; CPU work, nothing to synchronise). Both trackers see
the same frames and boxes in one run, so their ratio is the comparable figure; the absolute numbers
depend on the machine, which is printed. The official implementations cannot be timed here (SORT
needs filterpy, ByteTrack cython_bbox/YOLOX), so no external reference row is printed: per-frame
time, detections handled and the ratio are the honest figures.

    python benchmarks/bench_trackers.py [--data PATH] [--repeat N] [--trackers sort,bytetrack]

OpenBLAS may spin threads for tiny matrix solves; ``--blas-threads 1`` (set before numpy loads)
shows the effect on a busy machine.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tracker; the fastest is reported")
    ap.add_argument("--trackers", default="sort,bytetrack")
    ap.add_argument("--blas-threads", type=int, default=None, help="OPENBLAS/OMP threads (before numpy loads)")
    return ap.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.blas_threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    sys.path.insert(0, str(REPO))
    import time

    from detectors.public import PublicDetector
    from mot_bench.data.sequences import find_sequences
    from mot_bench.registry import TRACKERS
    from mot_bench.timing import hardware_stamp
    from mot_bench.types import Frame

    det_dir = args.data / "detections" / "MOT15" / "SORT_FRCNN"
    if not det_dir.is_dir():
        print(f"error: {det_dir} not found (pass --data)", file=sys.stderr)
        return 2
    seqs = find_sequences(args.data, "MOT15", "train")
    det = PublicDetector(det_dir=str(det_dir))
    frames = []  # (seq, [(Frame, Detections)])
    for seq in seqs:
        det.reset(seq)
        frames.append((seq, [(Frame(seq, f), det(Frame(seq, f))) for f in seq.frame_ids]))
    n_frames = sum(len(fr) for _, fr in frames)
    n_dets = sum(len(d) for _, fr in frames for _, d in fr)

    hw = hardware_stamp("cpu")
    print(f"# {hw['cpu']} ({hw['cpu_count']} logical CPUs), python {hw['python']}, numpy {hw['numpy']}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}")
    print(f"# MOT15 train, {len(seqs)} sequences, {n_frames} frames, {n_dets} detections (SORT_FRCNN, all scores)")
    results = {}
    for name in args.trackers.split(","):
        tracker = TRACKERS.create(name)
        best = None
        for _ in range(max(1, args.repeat)):
            total = 0.0
            worst = 0.0
            for seq, fr in frames:
                tracker.reset(seq)
                for frame, dets in fr:
                    t0 = time.perf_counter()
                    tracker.update(dets, frame)
                    dt = time.perf_counter() - t0
                    total += dt
                    worst = max(worst, dt)
            if best is None or total < best[0]:
                best = (total, worst)
        results[name] = best
    print(f"{'tracker':10s} {'total s':>8s} {'frames/s':>9s} {'ms/frame':>9s} {'max ms':>7s} {'us/det':>7s}")
    for name, (total, worst) in results.items():
        print(f"{name:10s} {total:8.3f} {n_frames / total:9.1f} {1000 * total / n_frames:9.3f} "
              f"{1000 * worst:7.2f} {1e6 * total / n_dets:7.1f}")
    if "sort" in results and "bytetrack" in results:
        print(f"ratio bytetrack/sort time: {results['bytetrack'][0] / results['sort'][0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
