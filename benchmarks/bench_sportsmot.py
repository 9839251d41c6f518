"""SportsMOT val, the real gt: our trackers on oracle detections, scored by the fast engine, the trackeval
engine and SportsMOT's own evaluation kit, compared field for field on every sequence and COMBINED.

The gt is the evaluation kit's copy of the 45 val sequences (MCG-NJU/SportsMOT, ``codes/evaluation/TrackEval/
data/ref``: ``sportsmot-val/`` and ``seqmaps/sportsmot-val.txt``). Its terms forbid redistribution: point
``--ref`` at your own copy; nothing of it enters the repository.

1. ``mot-bench run --data REF --benchmark SportsMOT --split val --detector oracle`` per detector setting
   (``clean``: the gt boxes the kit scores; ``noisy``: jitter, 10 % misses, one low-scoring false positive
   per frame on average, true scores in [0.7, 1]), trackers SORT, ByteTrack, OC-SORT, BoT-SORT, Hybrid-SORT,
   BoostTrack (no images here: BoT-SORT and BoostTrack with ``cmc_method=none``), official MOT17 defaults.
2. Each run folder's results are scored by
   * ``fast``       mot_bench.metrics.evaluate(engine="fast")
   * ``trackeval``  mot_bench.metrics.evaluate(engine="trackeval")  (TrackEval 1.3.0 through our layout)
   * ``kit``        TrackEval 1.3.0 configured exactly as the kit's ``evalutate.sh`` configures it, on the
                    kit's own layout (``data/res/sportsmot-val/<tracker>/data/<SEQ>.txt``), in this process
   and, with ``--kit-trackeval DIR --kit-python PY`` (PY: a Python with numpy < 1.24 and TrackEval 1.3.0
   installed; the kit's copy uses ``np.float``), in a child process run by PY with the same configuration:
   * ``kit-own``              the TrackEval copy the kit ships (``codes/evaluation/TrackEval``)
   * ``kit@TrackEval 1.3.0``  TrackEval 1.3.0 under PY's numpy
3. Every field (HOTA family per alpha, CLEAR, Identity, Count) of every sequence and of COMBINED is
   compared with ``==``: fast == kit and trackeval == kit (the same code and numpy), and kit-own ==
   kit@TrackEval 1.3.0 (the same numpy: the copy is TrackEval's code); any difference fails the script
   (exit 1). fast against kit-own is reported, not required: it shows what the numpy version alone changes.

    python benchmarks/bench_sportsmot.py --ref PATH/TO/TrackEval/data/ref --out /tmp/sportsmot-val \
        [--kit-trackeval PATH/TO/TrackEval --kit-python kit-venv/bin/python] [--settings clean,noisy]

``kit_run`` holds how each benchmark's official evaluation calls TrackEval (SportsMOT and DanceTrack);
the tests drive TrackEval with it on trees they build.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRACKERS = ("sort", "bytetrack", "ocsort", "botsort", "hybridsort", "boosttrack")
TRACKER_OPTIONS = ("botsort.cmc_method=none", "boosttrack.cmc_method=none")  # no images in the kit's copy
SETTINGS = {
    "clean": (),
    # scores of true boxes U(0.7, 1): above every tracker's high threshold; false positives U(0, 0.5)
    "noisy": ("jitter=0.05", "miss_rate=0.1", "fp_per_frame=1", "score_noise=0.3", "seed=0"),
}
METRICS = ("HOTA", "CLEAR", "Identity")
INTEGER_ARRAYS = ("HOTA_TP", "HOTA_FN", "HOTA_FP")
QUIET_EVAL = {"PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False, "OUTPUT_SUMMARY": False,
              "OUTPUT_DETAILED": False, "PLOT_CURVES": False, "LOG_ON_ERROR": None}  # output only, never numbers


def kit_run(benchmark: str, gt_root: Path, results: Path, tracker: str = "mot_bench") -> dict:
    """How ``benchmark``'s official evaluation calls TrackEval's ``scripts/run_mot_challenge.py``: the
    settings it passes (the rest are TrackEval's defaults), and where it expects the tracker's files.

    SportsMOT, ``codes/evaluation/TrackEval/evalutate.sh:6``: ``--BENCHMARK sportsmot --SPLIT_TO_EVAL val
    --METRICS HOTA CLEAR Identity VACE --USE_PARALLEL False --GT_FOLDER ./data/ref --TRACKERS_FOLDER ./data/res``;
    results in ``data/res/sportsmot-val/<tracker>/data/`` (``codes/README.md``). ``gt_root`` is ``data/ref``.
    DanceTrack, ``README.md:89``: ``--SPLIT_TO_EVAL val --METRICS HOTA CLEAR Identity --GT_FOLDER
    dancetrack/val --SEQMAP_FILE dancetrack/val_seqmap.txt --SKIP_SPLIT_FOL True --TRACKERS_TO_EVAL ''
    --TRACKER_SUB_FOLDER '' --USE_PARALLEL True --NUM_PARALLEL_CORES 8 --TRACKERS_FOLDER val/TRACKER_NAME``
    (parallel or not, TrackEval combines the sequences in seqmap order: the same numbers). ``gt_root`` is
    the ``dancetrack`` folder. VACE is left out (mot-bench does not report it; metrics are independent).

    Returns ``{"eval": ..., "dataset": ..., "metrics": ..., "results_dir": where <SEQ>.txt files go}``.
    """
    if benchmark == "SportsMOT":
        dataset = {"BENCHMARK": "sportsmot", "SPLIT_TO_EVAL": "val", "GT_FOLDER": str(gt_root),
                   "TRACKERS_FOLDER": str(results), "TRACKERS_TO_EVAL": [tracker]}
        results_dir = results / "sportsmot-val" / tracker / "data"
        parallel = {"USE_PARALLEL": False}
    elif benchmark == "DanceTrack":
        dataset = {"SPLIT_TO_EVAL": "val", "GT_FOLDER": str(gt_root / "val"),
                   "SEQMAP_FILE": str(gt_root / "val_seqmap.txt"), "SKIP_SPLIT_FOL": True, "TRACKERS_TO_EVAL": [""],
                   "TRACKER_SUB_FOLDER": "", "TRACKERS_FOLDER": str(results / tracker)}
        results_dir = results / tracker
        parallel = {"USE_PARALLEL": False}  # README: True with 8 cores; the numbers do not depend on it
    else:
        raise ValueError(f"no official kit run recorded for {benchmark}")
    dataset["PRINT_CONFIG"] = False
    return {"eval": {**QUIET_EVAL, **parallel, "DISPLAY_LESS_PROGRESS": False}, "dataset": dataset,
            "metrics": {"METRICS": list(METRICS), "THRESHOLD": 0.5, "PRINT_CONFIG": False},
            "results_dir": str(results_dir)}


def run_trackeval(run: dict, trackeval_dir: str | None = None) -> dict:
    """TrackEval's Evaluator on ``run`` (from :func:`kit_run`) as ``run_mot_challenge.py`` builds it;
    returns ``{SEQ or COMBINED_SEQ: {metric: {field: value}}}`` (plain floats and lists). ``trackeval_dir``:
    import the TrackEval found there (the copy a kit ships) instead of the installed one."""
    if trackeval_dir:
        sys.path.insert(0, trackeval_dir)
    import numpy as np
    import trackeval

    evaluator = trackeval.Evaluator({**trackeval.Evaluator.get_default_eval_config(), **run["eval"]})
    dataset = trackeval.datasets.MotChallenge2DBox(run["dataset"])
    metrics = [m(run["metrics"]) for m in (trackeval.metrics.HOTA, trackeval.metrics.CLEAR, trackeval.metrics.Identity)
               if m.get_name() in run["metrics"]["METRICS"]]
    with contextlib.redirect_stdout(io.StringIO()):
        output, messages = evaluator.evaluate([dataset], metrics)
    (tracker, res), = output["MotChallenge2DBox"].items()
    if messages["MotChallenge2DBox"][tracker] != "Success":
        raise RuntimeError(messages["MotChallenge2DBox"][tracker])

    def plain(v):
        arr = np.asarray(v)
        return [float(x) for x in arr] if arr.ndim else float(arr)

    return {seq: {metric: {f: plain(v) for f, v in fields.items()} for metric, fields in r["pedestrian"].items()}
            for seq, r in res.items()}


def compare(ours: dict, kit: dict) -> tuple[int, list[tuple[str, str, object, object]]]:
    """Every field the kit reports, per sequence and COMBINED, against our flat metrics (``==``).

    The kit's HOTA array fields are compared element by element with ``<field>_alpha`` and their mean with
    ``<field>``; the copy SportsMOT ships calls OWTA ``RHOTA`` (the same formula, sqrt(DetRe * AssA))."""
    import numpy as np

    checked, diffs = 0, []
    assert set(kit) == {*ours["per_sequence"], "COMBINED_SEQ"}, set(kit) ^ {*ours["per_sequence"], "COMBINED_SEQ"}
    for seq, metrics in kit.items():
        got = ours["combined"] if seq == "COMBINED_SEQ" else ours["per_sequence"][seq]
        for fields in metrics.values():
            for field, want in fields.items():
                if field == "Frames":  # Count's per-sequence extra, outside its declared fields, never reported
                    continue
                name = "OWTA" if field == "RHOTA" else field
                if isinstance(want, list) and name in INTEGER_ARRAYS:  # kept per alpha only, as integers
                    pairs = [(f"{name}_alpha", got.get(f"{name}_alpha"), [int(round(v)) for v in want])]
                elif isinstance(want, list):
                    pairs = [(f"{name}_alpha", got.get(f"{name}_alpha"), want),
                             (name, got.get(name), float(np.mean(want)))]
                else:
                    pairs = [(name, got.get(name), want)]
                for key, value, expected in pairs:
                    checked += 1
                    if value != expected:
                        diffs.append((seq, key, value, expected))
    return checked, diffs


def _verdict(checked: int, diffs: list) -> dict:
    return {"fields": checked, "different": len(diffs), "first": [list(map(str, d)) for d in diffs[:5]],
            "where": sorted({d[0] for d in diffs}), "which": sorted({d[1] for d in diffs})}


def _max_abs(diffs: list) -> float:
    import numpy as np

    return max((float(np.max(np.abs(np.subtract(got, want)))) for _, _, got, want in diffs), default=0.0)


def _flat_kit(res: dict) -> dict:
    """A TrackEval output in the layout of evaluate() (as compare() reads it), to compare two outputs."""
    import numpy as np

    def flat(metrics: dict) -> dict:
        out = {}
        for fields in metrics.values():
            for f, v in fields.items():
                f = "OWTA" if f == "RHOTA" else f
                if isinstance(v, list) and f in INTEGER_ARRAYS:
                    out[f"{f}_alpha"] = [int(round(x)) for x in v]
                elif isinstance(v, list):
                    out[f"{f}_alpha"], out[f] = v, float(np.mean(v))
                else:
                    out[f] = v
        return out

    return {"per_sequence": {k: flat(v) for k, v in res.items() if k != "COMBINED_SEQ"},
            "combined": flat(res["COMBINED_SEQ"])}


def _child_run(python: str, run: dict, work: Path, trackeval_dir: str | None) -> dict:
    """:func:`run_trackeval` in another Python (the kit's numpy), with the TrackEval copy in ``trackeval_dir``
    (None: the TrackEval installed there)."""
    cfg = work / "kit_run.json"
    cfg.write_text(json.dumps(run), encoding="utf-8")
    cmd = [python, __file__, "--kit-own", str(cfg)] + (["--kit-trackeval", trackeval_dir] if trackeval_dir else [])
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _kit_numpy(python: str) -> str:
    return subprocess.run([python, "-c", "import numpy; print(numpy.__version__)"], check=True, capture_output=True,
                          text=True).stdout.strip()


def _link_results(src: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in sorted(src.glob("*.txt")):
        shutil.copyfile(f, dest / f.name)


def score_run(folder: Path, ref: Path, work: Path, kit_trackeval: str | None, kit_python: str | None) -> dict:
    from mot_bench.data.sequences import find_sequences
    from mot_bench.metrics import evaluate

    seqs = find_sequences(ref, "SportsMOT", "val")
    out: dict = {"sequences": len(seqs)}
    timings = {}
    t0 = time.perf_counter()
    fast = evaluate(seqs, folder / "results", "SportsMOT", engine="fast")
    timings["fast"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine_trackeval = evaluate(seqs, folder / "results", "SportsMOT", engine="trackeval")
    timings["trackeval"] = time.perf_counter() - t0
    run = kit_run("SportsMOT", ref, work / "res")
    _link_results(folder / "results", Path(run["results_dir"]))
    t0 = time.perf_counter()
    kit = run_trackeval(run)
    timings["kit"] = time.perf_counter() - t0
    out["parity"] = {}  # must be equal: the same TrackEval code under the same numpy
    for ours_name, ours in (("fast", fast), ("trackeval", engine_trackeval)):
        checked, diffs = compare(ours, kit)
        out["parity"][f"{ours_name} == kit"] = _verdict(checked, diffs)
    if kit_trackeval and kit_python:  # the kit's own TrackEval copy needs numpy < 1.24 (np.float)
        own = {}
        for name, copy in (("kit-own", kit_trackeval), ("kit@TrackEval 1.3.0", None)):
            t0 = time.perf_counter()
            own[name] = _child_run(kit_python, run, work, copy)
            timings[f"{name} (child process)"] = time.perf_counter() - t0
        checked, diffs = compare(_flat_kit(own["kit@TrackEval 1.3.0"]), own["kit-own"])
        out["parity"]["kit-own == kit@TrackEval 1.3.0 (same numpy)"] = _verdict(checked, diffs)
        checked, diffs = compare(fast, own["kit-own"])  # what the numpy version alone changes
        out["numpy_version"] = {**_verdict(checked, diffs), "max_abs_difference": _max_abs(diffs)}
    shutil.rmtree(work / "res")
    out["combined"] = fast["combined"]
    out["scoring_seconds"] = timings
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", type=Path, help="the kit's data/ref folder (sportsmot-val/ and seqmaps/)")
    ap.add_argument("--out", type=Path, help="folder for the run folders and summary.json")
    ap.add_argument("--settings", default=",".join(SETTINGS), help="comma-separated oracle settings")
    ap.add_argument("--trackers", default=",".join(TRACKERS))
    ap.add_argument("--kit-trackeval", default=None, help="the kit's codes/evaluation/TrackEval folder")
    ap.add_argument("--kit-python", default=None, help="a Python (numpy < 1.24) to run the kit's own TrackEval")
    ap.add_argument("--kit-own", default=None, help=argparse.SUPPRESS)  # internal: run the kit's copy, JSON out
    args = ap.parse_args(argv)
    if args.kit_own:
        run = json.loads(Path(args.kit_own).read_text(encoding="utf-8"))
        print(json.dumps(run_trackeval(run, args.kit_trackeval)))
        return 0
    if not args.ref or not args.out:
        ap.error("--ref and --out are required")
    mot_bench = Path(sys.executable).with_name("mot-bench")
    print(f"SportsMOT val from {args.ref}; cpu_count={os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    summary: dict = {}
    ok = True
    for setting in [s for s in args.settings.split(",") if s]:
        out = args.out / setting
        trackers = args.trackers.split(",")
        cmd = [str(mot_bench), "run", "--data", str(args.ref), "--benchmark", "SportsMOT", "--split", "val",
               "--detector", "oracle", "--no-progress",  # one tracker: --out is its run folder
               "--out", str(out if len(trackers) > 1 else out / trackers[0])]
        for tracker in trackers:
            cmd += ["--tracker", tracker]
        for opt in TRACKER_OPTIONS:
            if opt.split(".")[0] in args.trackers.split(","):
                cmd += ["--tracker-opt", opt]
        for opt in SETTINGS[setting]:
            cmd += ["--detector-opt", opt]
        print("$", " ".join(cmd), flush=True)
        subprocess.run(cmd, check=True)
        for tracker in args.trackers.split(","):
            from mot_bench.results import RunFolder

            folder = out / tracker
            res = score_run(folder, args.ref, args.out / "work", args.kit_trackeval, args.kit_python)
            res["fps_track"] = RunFolder(folder).timing_summary()["combined"]["stage_fps"].get("track")
            summary[f"{setting}/{tracker}"] = res
            c = res["combined"]
            parity = ", ".join(f"{k}: {v['different']}/{v['fields']} differ" for k, v in res["parity"].items())
            ok &= all(v["different"] == 0 for v in res["parity"].values())
            numpy_note = ""
            if "numpy_version" in res:
                nv = res["numpy_version"]
                numpy_note = (f" | fast vs kit-own (numpy {_kit_numpy(args.kit_python)}): {nv['different']}/"
                              f"{nv['fields']} differ, max |diff| {nv['max_abs_difference']:.3g}")
            print(f"{setting:6s} {tracker:10s} HOTA {100 * c['HOTA']:.1f} DetA {100 * c['DetA']:.1f} AssA "
                  f"{100 * c['AssA']:.1f} MOTA {100 * c['MOTA']:.1f} IDF1 {100 * c['IDF1']:.1f} IDSW {c['IDSW']} "
                  f"FP {c['CLR_FP']} FN {c['CLR_FN']} FPS track {res['fps_track']:.0f} | {parity}{numpy_note} | "
                  "scoring s: " + ", ".join(f"{k} {v:.2f}" for k, v in res["scoring_seconds"].items()), flush=True)
    import statistics

    import numpy as np

    print(f"scoring seconds, median over the {len(summary)} result sets (numpy {np.__version__}): " + ", ".join(
        f"{k} {statistics.median(r['scoring_seconds'][k] for r in summary.values()):.2f}"
        for k in next(iter(summary.values()))["scoring_seconds"]))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print("every field equal" if ok else "DIFFERENCES FOUND")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
