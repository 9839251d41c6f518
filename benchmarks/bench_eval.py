"""Wall time of mot_bench.metrics.evaluate() next to TrackEval called directly, on the same files.

Default: Lif_T's published results on the 21 MOT17 train folders (../shared/data). Both paths run
TrackEval's own code; ours adds result validation and a temporary layout, so the ratio shows that
overhead. The combined scores of both are printed and must be equal.

    python benchmarks/bench_eval.py [--seqs N] [--workers W] [--data PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def trackeval_direct(
    gt_folder: str | Path, trackers_folder: str | Path, tracker: str, seq_names: list[str], benchmark: str
) -> dict:
    """TrackEval's standard Evaluator + MotChallenge2DBox pointed straight at the files (the reference).

    Expects ``<gt_folder>/<SEQ>/{seqinfo.ini,gt/gt.txt}`` and ``<trackers_folder>/<tracker>/<SEQ>.txt``.
    Only printing and file output are switched off. Returns TrackEval's
    ``res[seq or 'COMBINED_SEQ']['pedestrian'][metric][field]``.
    """
    import trackeval

    quiet = {"PRINT_CONFIG": False}
    eval_config = {"USE_PARALLEL": False, "PRINT_RESULTS": False, "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False,
                   "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None, **quiet}
    dataset_config = {"GT_FOLDER": str(gt_folder), "TRACKERS_FOLDER": str(trackers_folder),
                      "TRACKERS_TO_EVAL": [tracker], "TRACKER_SUB_FOLDER": "", "SKIP_SPLIT_FOL": True,
                      "SEQ_INFO": {s: None for s in seq_names}, "BENCHMARK": benchmark, **quiet}
    with contextlib.redirect_stdout(io.StringIO()):
        evaluator = trackeval.Evaluator(eval_config)
        dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
        metrics = [trackeval.metrics.HOTA(quiet), trackeval.metrics.CLEAR(quiet), trackeval.metrics.Identity(quiet)]
        output, messages = evaluator.evaluate([dataset], metrics)
    if messages["MotChallenge2DBox"][tracker] != "Success":
        raise RuntimeError(messages["MotChallenge2DBox"][tracker])
    return output["MotChallenge2DBox"][tracker]


def _default_data() -> Path:
    env = os.environ.get("MOT_BENCH_SHARED_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=_default_data(), help="shared data folder")
    ap.add_argument("--seqs", type=int, default=0, help="only the first N sequences (0: all 21)")
    ap.add_argument("--workers", type=int, default=1, help="num_workers for evaluate()")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from mot_bench.data.sequences import find_sequences
    from mot_bench.metrics import evaluate

    gt_folder = args.data / "MOT17" / "train"
    trackers_folder = args.data / "trackers" / "MOT17"
    seqs = find_sequences(args.data, "MOT17", "train")
    if args.seqs:
        seqs = seqs[: args.seqs]
    names = [s.name for s in seqs]
    frames = sum(s.length for s in seqs)
    print(f"Lif_T on {len(names)} MOT17 train folders ({frames} frames), cpu_count={os.cpu_count()}")

    t0, c0 = time.perf_counter(), time.process_time()
    ref = trackeval_direct(gt_folder, trackers_folder, "Lif_T", names, "MOT17")
    t_ref, c_ref = time.perf_counter() - t0, time.process_time() - c0

    t0, c0 = time.perf_counter(), time.process_time()
    ours = evaluate(seqs, trackers_folder / "Lif_T", benchmark="MOT17", num_workers=args.workers)
    t_ours, c_ours = time.perf_counter() - t0, time.process_time() - c0

    rc = ref["COMBINED_SEQ"]["pedestrian"]
    oc = ours["combined"]
    pairs = [("HOTA", float(np.mean(rc["HOTA"]["HOTA"]))), ("MOTA", rc["CLEAR"]["MOTA"]),
             ("IDF1", rc["Identity"]["IDF1"]), ("IDSW", rc["CLEAR"]["IDSW"])]
    for name, ref_val in pairs:
        print(f"  {name:5s} trackeval={ref_val:.10g}  mot_bench={oc[name]:.10g}")
    same = all(oc[name] == ref_val for name, ref_val in pairs)
    # CPU time of this process too: the wall time is noisy on a shared machine (workers' CPU not counted)
    print(f"TrackEval direct       : {t_ref:8.2f} s wall  {c_ref:8.2f} s cpu")
    print(f"mot_bench evaluate()   : {t_ours:8.2f} s wall  {c_ours:8.2f} s cpu  (num_workers={args.workers})")
    print(f"ratio ours/direct      : {t_ours / t_ref:8.3f}        {c_ours / c_ref:8.3f}")
    print("combined scores identical" if same else "COMBINED SCORES DIFFER")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
