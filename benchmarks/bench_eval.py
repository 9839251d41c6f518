"""Scoring speed: the fast engine vs TrackEval called directly vs `mot-bench eval`'s trackeval engine.

Default: Lif_T's published results on the 21 MOT17 train folders (../shared/data). Each measurement
runs in a fresh Python process (so peak memory is its own), the variants are interleaved and
repeated, and medians are reported. Two kinds of variant:

The scoring call, every module imported before the clock starts: wall and CPU seconds of the call, and
the process's peak resident memory above its level just before it (resource.getrusage).

* ``trackeval_direct``  TrackEval 1.3.0's Evaluator + MotChallenge2DBox on the files (the reference)
* ``engine_trackeval``  mot_bench.metrics.evaluate(engine="trackeval"): what `mot-bench eval` did before
* ``fast``              evaluate(engine="fast"), one process
* ``fast_w2``           evaluate(engine="fast", num_workers=2)
* ``tuner``             FastEvaluator built once (gt parsed), then score() of in-memory result arrays:
                        the time of one score() call (median of 5 in the same process)

The whole process, from its start to its exit (interpreter, imports, reading, scoring, output): wall
seconds measured by the parent, CPU seconds (user + system) and peak resident memory of that child alone
(os.wait4).

* ``whole_trackeval``   a fresh Python process that imports TrackEval and runs ``trackeval_direct`` (the
                        reference: what a user's script calling TrackEval costs)
* ``whole_eval``        a fresh ``mot-bench eval --benchmark MOT17 --json ...`` (default engine, one process)

The combined scores of every variant are compared with TrackEval's, field by field (must be equal).
``--importtime`` prints where `mot-bench eval`'s import time goes (``python -X importtime``, top-level
modules, cumulative), instead of timing.

    python benchmarks/bench_eval.py [--repeat 3] [--seqs N] [--data PATH] [--only fast,tuner] [--importtime]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
IN_PROCESS = ("trackeval_direct", "engine_trackeval", "fast", "fast_w2", "tuner")
WHOLE = ("whole_trackeval", "whole_eval")
VARIANTS = IN_PROCESS + WHOLE


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


def _flat_reference(res: dict) -> dict:
    """TrackEval's COMBINED_SEQ in our flat layout (means of alpha arrays, plain numbers)."""
    out = {}
    for fields in res["COMBINED_SEQ"]["pedestrian"].values():
        for f, v in fields.items():
            arr = np.asarray(v, dtype=np.float64)
            out[f] = float(arr.mean()) if arr.ndim else float(arr)
    return out


def _flat_ours(combined: dict) -> dict:
    return {f: float(v) for f, v in combined.items() if not isinstance(v, list)}


def _same(ours: dict, ref: dict) -> bool:
    """Every combined field both report is equal (alpha arrays by their mean), and there are many."""
    common = set(ours) & set(ref)
    return len(common) >= 40 and all(ours[f] == ref[f] for f in common)


def measure(variant: str, data: Path, n_seqs: int) -> dict:
    """One measurement in this process: import, then time the scoring call."""
    sys.path.insert(0, str(REPO))
    from mot_bench.data.sequences import find_sequences
    from mot_bench.metrics import evaluate
    from mot_bench.metrics.fast import FastEvaluator

    seqs = find_sequences(data, "MOT17", "train")[: n_seqs or None]
    lift = data / "trackers" / "MOT17" / "Lif_T"
    # every variant's modules are imported before the clock starts
    import pandas  # noqa: F401
    import scipy.optimize  # noqa: F401
    import trackeval  # noqa: F401

    import mot_bench.metrics.fast  # noqa: F401
    if variant == "tuner":
        import pandas as pd

        ev = FastEvaluator(seqs, "MOT17")
        arrays = {s.name: pd.read_csv(lift / f"{s.name}.txt", header=None).to_numpy(np.float64) for s in seqs}
        ev.score(arrays)  # warm
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        walls, cpus = [], []
        for _ in range(5):
            t0, c0 = time.perf_counter(), time.process_time()
            res = ev.score(arrays)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        combined = _flat_ours(res["combined"])
        wall, cpu = statistics.median(walls), statistics.median(cpus)
    else:
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t0, c0 = time.perf_counter(), time.process_time()
        if variant == "trackeval_direct":
            combined = _flat_reference(trackeval_direct(data / "MOT17" / "train", lift.parent, "Lif_T",
                                                        [s.name for s in seqs], "MOT17"))
        else:
            engine = "trackeval" if variant == "engine_trackeval" else "fast"
            workers = 2 if variant == "fast_w2" else 1
            combined = _flat_ours(evaluate(seqs, lift, "MOT17", num_workers=workers, engine=engine)["combined"])
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"variant": variant, "wall": wall, "cpu": cpu, "peak_mib": (peak - rss0) / 1024,
            "children_cpu": children.ru_utime + children.ru_stime, "children_peak_mib": children.ru_maxrss / 1024,
            "combined": combined}


def _seq_names(data: Path, n_seqs: int) -> list[str]:
    """The first ``n_seqs`` MOT17 train folders (all when 0), as find_sequences sorts them."""
    names = sorted(p.name for p in (data / "MOT17" / "train").iterdir() if (p / "gt" / "gt.txt").is_file())
    return names[: n_seqs or None]


def trackeval_process(data: Path, n_seqs: int, json_out: str) -> None:
    """The body of ``whole_trackeval``: import TrackEval, score, write the combined fields."""
    lift = data / "trackers" / "MOT17" / "Lif_T"
    res = trackeval_direct(data / "MOT17" / "train", lift.parent, "Lif_T", _seq_names(data, n_seqs), "MOT17")
    Path(json_out).write_text(json.dumps(_flat_reference(res)), encoding="utf-8")


def _eval_args(data: Path, n_seqs: int) -> list[str]:
    args = ["eval", "--gt-root", str(data), "--benchmark", "MOT17", "--results",
            str(data / "trackers" / "MOT17" / "Lif_T")]
    return args + (["--seqs", ",".join(_seq_names(data, n_seqs))] if n_seqs else [])


def _eval_command(data: Path, n_seqs: int) -> list[str]:
    """``mot-bench eval`` as a user runs it (the venv's console script when there is one)."""
    script = Path(sys.executable).with_name("mot-bench")
    head = [str(script)] if script.is_file() else [sys.executable, "-m", "mot_bench.cli"]
    return head + _eval_args(data, n_seqs)


def measure_whole(variant: str, data: Path, n_seqs: int) -> dict:
    """One fresh process, timed from outside: wall by the parent, CPU and peak memory of the child itself."""
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        json_out = str(Path(tmp) / "combined.json")
        if variant == "whole_eval":
            cmd = _eval_command(data, n_seqs) + ["--json", json_out]
        else:
            cmd = [sys.executable, __file__, "--trackeval-process", json_out, "--data", str(data),
                   "--seqs", str(n_seqs)]
        with open(Path(tmp) / "log", "wb") as log:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise RuntimeError(f"{' '.join(cmd)} failed: {(Path(tmp) / 'log').read_text()[-2000:]}")
        result = json.loads(Path(json_out).read_text(encoding="utf-8"))
    combined = _flat_ours(result["combined"]) if variant == "whole_eval" else result
    return {"variant": variant, "wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "peak_mib": usage.ru_maxrss / 1024, "combined": combined}


def importtime_breakdown(data: Path, n_seqs: int) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """One `mot-bench eval` run under ``python -X importtime``: the cumulative ms of each module the program
    imports itself (these add up to the whole import time), and of each package at its outermost import
    (a package imported inside another counts in both, e.g. numpy inside mot_bench.data.sequences)."""
    cmd = [sys.executable, "-X", "importtime", "-m", "mot_bench.cli", *_eval_args(data, n_seqs)]
    err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    top, outermost = [], {}
    for line in err.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, field = line.split("|")
        name, depth, ms = field.strip(), len(field) - len(field.lstrip()), int(cumulative) / 1000
        if depth == 1:
            top.append((name, ms))
        package = name.split(".")[0]
        if package not in outermost or depth < outermost[package][0]:
            outermost[package] = (depth, ms)
    packages = [(name, ms) for name, (_, ms) in outermost.items()]
    return sorted(top, key=lambda item: -item[1]), sorted(packages, key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=_default_data(), help="shared data folder")
    ap.add_argument("--seqs", type=int, default=0, help="only the first N sequences (0: all 21)")
    ap.add_argument("--repeat", type=int, default=3, help="rounds; each round runs every variant once")
    ap.add_argument("--only", default=",".join(VARIANTS), help="comma-separated variants")
    ap.add_argument("--importtime", action="store_true", help="print mot-bench eval's import time by module")
    ap.add_argument("--measure", default=None, help=argparse.SUPPRESS)  # internal: one measurement, JSON out
    ap.add_argument("--trackeval-process", default=None, help=argparse.SUPPRESS)  # internal: whole_trackeval
    args = ap.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure, args.data, args.seqs)))
        return 0
    if args.trackeval_process:
        trackeval_process(args.data, args.seqs, args.trackeval_process)
        return 0
    if args.importtime:
        top, packages = importtime_breakdown(args.data, args.seqs)
        print(f"mot-bench eval: {sum(ms for _, ms in top):.0f} ms importing. Imported by the program (ms):")
        print("  " + ", ".join(f"{name} {ms:.0f}" for name, ms in top[:12]))
        print("Packages, at their outermost import (ms; nested ones count in both):")
        print("  " + ", ".join(f"{name} {ms:.0f}" for name, ms in packages[:12]))
        return 0

    variants = [v for v in args.only.split(",") if v]
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        ap.error(f"unknown variant(s) {sorted(unknown)}")
    print(f"Lif_T on {args.seqs or 21} MOT17 train folders, cpu_count={os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}, {args.repeat} interleaved round(s)")
    runs: dict[str, list[dict]] = {v: [] for v in variants}
    for r in range(args.repeat):
        order = variants if r % 2 == 0 else variants[::-1]  # interleaved, alternating order
        for v in order:
            if v in WHOLE:
                runs[v].append(measure_whole(v, args.data, args.seqs))
            else:
                cmd = [sys.executable, __file__, "--measure", v, "--data", str(args.data), "--seqs", str(args.seqs)]
                out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
                runs[v].append(json.loads(out.strip().splitlines()[-1]))
            m = runs[v][-1]
            print(f"  round {r + 1} {v:17s} {m['wall']:7.3f} s wall {m['cpu']:7.3f} s cpu", flush=True)

    refs = [runs[v][0]["combined"] for v in ("trackeval_direct", "whole_trackeval") if v in runs]
    ref = refs[0] if refs else None

    def medians(v: str) -> tuple[float, float]:
        cpu = statistics.median(m["cpu"] + (m.get("children_cpu", 0) if v == "fast_w2" else 0) for m in runs[v])
        return statistics.median(m["wall"] for m in runs[v]), cpu

    print(f"\n{'variant':18s}{'wall s':>9s}{'cpu s':>9s}{'x wall':>8s}{'x cpu':>8s}{'peak MiB':>10s}  combined")
    ok = True
    for v in variants:
        wall, cpu = medians(v)
        base_name = "whole_trackeval" if v in WHOLE else "trackeval_direct"
        base, base_cpu = medians(base_name) if base_name in runs else (None, None)
        peak = statistics.median(m["peak_mib"] for m in runs[v])
        if v == "fast_w2":  # the scoring happens in the workers: their own peak (forked, so it includes
            peak = statistics.median(m["children_peak_mib"] for m in runs[v])  # the parent's pages they touch)
        same = "-" if ref is None else "identical" if all(_same(m["combined"], ref) for m in runs[v]) else "DIFFERENT"
        ok &= same != "DIFFERENT"
        xw = f"{base / wall:8.1f}" if base else f"{'-':>8s}"
        xc = f"{base_cpu / cpu:8.1f}" if base_cpu else f"{'-':>8s}"
        print(f"{v:18s}{wall:9.3f}{cpu:9.3f}{xw}{xc}{peak:10.0f}  {same}")
    print("(x: the reference's median divided by the variant's: trackeval_direct for the scoring calls,"
          " whole_trackeval for whole processes; fast_w2: cpu and peak of its worker processes (peak: whole worker"
          " RSS); tuner: one score() call with gt already parsed; peak: above the level before the call, whole"
          " processes: their whole peak RSS)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
