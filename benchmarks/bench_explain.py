"""What the scoring's events cost: a report with and without them, and the events of Lif_T's 21 folders.

Report (``report`` variants), on run folders given as arguments (the docs use the seven MOT17 half-val
sequences of SORT, ByteTrack, OC-SORT and BoT-SORT): each variant writes the full report (plots included)
in a fresh Python process; variants are interleaved and repeated, medians reported (wall and CPU seconds of
the ``write_report`` call, imports excluded).

* ``plain``     ``write_report(..., explain=False)``: the report before this feature (the reference)
* ``events``    ``explain=True`` with each run's ``events/`` written by ``run --events``: read, timelines,
                intervals of each run against the best (1000 replicates)
* ``computed``  ``explain=True`` on copies of the folders without ``events/``: the events computed from the
                gt in the report (what a report on old run folders costs)
* ``base``      ``computed`` plus ``--base`` (the first run): intervals of every metric, per sequence too,
                and the identity changes: ``write_comparison``

Events (``--lift``): ``explain_results`` on Lif_T's 21 MOT17 train folders, then writing their csv.gz
tables (what ``mot-bench eval --events`` adds to scoring), against scoring them (``evaluate``).

    python benchmarks/bench_explain.py RUN_DIR... [--repeat 3] [--lift] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = ("plain", "events", "computed", "base")

_CHILD = """
import json, sys, time
from pathlib import Path
variant, out, runs = sys.argv[1], Path(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
from mot_bench.reports import load_runs, write_comparison, write_report
import mot_bench.reports.report, mot_bench.reports.explain, mot_bench.metrics.explain, pandas  # imports excluded
t0, c0 = time.perf_counter(), time.process_time()
if variant == "base":
    write_comparison(runs[0], [(p, {}) for p in runs[1:]], out)
else:
    write_report(load_runs(runs), out, explain=variant != "plain")
print(json.dumps({"wall": time.perf_counter() - t0, "cpu": time.process_time() - c0,
                  "html_mb": (out / "index.html").stat().st_size / 1e6}))
"""

_LIFT = """
import json, sys, tempfile, time
from pathlib import Path
from mot_bench.data.sequences import find_sequences
from mot_bench.metrics import evaluate
from mot_bench.metrics.explain import explain_results, write_explanations
data = Path(sys.argv[1])
seqs = find_sequences(data, "MOT17", "train")
lift = data / "trackers" / "MOT17" / "Lif_T"
evaluate(seqs[:1], lift)  # warm-up: imports, first scipy call
out = {}
def timed(name, fn):
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    out[name], out[name + "_cpu"] = time.perf_counter() - t0, time.process_time() - c0
    return result
timed("score", lambda: evaluate(seqs, lift))
found = timed("explain", lambda: explain_results(seqs, lift))
with tempfile.TemporaryDirectory() as d:
    timed("write", lambda: write_explanations(d, found))
    out["mb"] = sum(p.stat().st_size for p in Path(d).iterdir()) / 1e6
print(json.dumps(out))
"""


def run_child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=REPO)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("runs", nargs="*", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--lift", action="store_true", help="also time the events of Lif_T's 21 folders")
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = []
        for run in args.runs:  # the same run folders without events/
            dest = Path(tmp) / "bare" / run.name
            shutil.copytree(run, dest, ignore=shutil.ignore_patterns("events"))
            bare.append(dest)
        times: dict[str, list[dict]] = {v: [] for v in VARIANTS}
        for r in range(args.repeat if args.runs else 0):
            for v in VARIANTS:
                runs = args.runs if v in ("plain", "events") else bare
                times[v].append(run_child(_CHILD, v, str(Path(tmp) / f"{v}-{r}"), *map(str, runs)))
        if args.runs:
            ref = statistics.median(t["wall"] for t in times["plain"])
            print(f"report of {len(args.runs)} runs, {args.repeat} repeats, medians")
            print(f"{'variant':<10} {'wall s':>8} {'cpu s':>8} {'added s':>8} {'html MB':>8}")
            for v in VARIANTS:
                wall = statistics.median(t["wall"] for t in times[v])
                cpu = statistics.median(t["cpu"] for t in times[v])
                html = statistics.median(t["html_mb"] for t in times[v])
                print(f"{v:<10} {wall:8.2f} {cpu:8.2f} {wall - ref:+8.2f} {html:8.2f}")
    if args.lift:
        found = [run_child(_LIFT, str(args.data)) for _ in range(args.repeat)]
        med = {k: statistics.median(f[k] for f in found) for k in found[0]}
        print(f"Lif_T, 21 MOT17 train folders ({args.repeat} repeats, medians, wall / CPU s): scoring "
              f"{med['score']:.2f} / {med['score_cpu']:.2f}; events {med['explain']:.2f} / {med['explain_cpu']:.2f} "
              f"+ writing {med['write']:.2f} / {med['write_cpu']:.2f} ({med['mb']:.1f} MB csv.gz)")


if __name__ == "__main__":
    t = time.perf_counter()
    main()
    print(f"(benchmark took {time.perf_counter() - t:.0f} s)")
