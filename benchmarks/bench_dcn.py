"""FairMOT forward time with the fast CPU DCN backend against torchvision's deform_conv2d.

Both backends run the same network (DLA-34 by default) with the same seeded random weights, the
offset/mask predictors included (non-zero, so the deformable sampling is really exercised), on the
same seeded input at 1088x608. Each backend runs in its own subprocess so its peak memory (maxrss)
is its own; the process CPU seconds per forward are reported next to the wall time (on a shared,
oversubscribed CPU the wall time says more about the neighbours than about the code);
``--rounds`` alternates the backends to spread the noise of a shared CPU. Warm-up runs
are timed and reported apart. The outputs of the two backends are compared head by head.

    python benchmarks/bench_dcn.py                        # CPU, 2 threads, 1088x608
    python benchmarks/bench_dcn.py --reps 5 --rounds 2 --json out.json
    python benchmarks/bench_dcn.py --device cuda --precision fp16 --channels-last  # GPU: torchvision
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _worker(args: argparse.Namespace) -> None:
    """Build, warm up, time; print one JSON line; save the outputs for the parent to compare."""
    import resource

    import torch

    sys.path.insert(0, str(REPO))
    from mot_bench.detectors.fairmot import build_model
    from mot_bench.detectors.fairmot.dcn import DCN

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    model = build_model(args.arch, dcn=args.backend)
    gen = torch.Generator().manual_seed(args.seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):  # non-trivial BN statistics, as a trained net
                m.running_mean.normal_(0, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
            if isinstance(m, DCN):
                m.conv_offset_mask.weight.normal_(0, 0.01, generator=gen)
                m.conv_offset_mask.bias.normal_(0, 0.5, generator=gen)
    model = model.eval().to(args.device)
    x = torch.rand((1, 3, args.height, args.width), generator=torch.Generator().manual_seed(args.seed + 2))
    x = x.to(args.device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    sync = torch.cuda.synchronize if args.device.startswith("cuda") else (lambda: None)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def forward():
        with torch.inference_mode():
            if args.precision == "fp16":
                with torch.autocast("cuda", dtype=torch.float16):
                    return model(x)
            return model(x)

    warm = []
    for _ in range(args.warmup):
        sync()
        t0 = time.perf_counter()
        out = forward()
        sync()
        warm.append(time.perf_counter() - t0)
    times, cpu = [], []
    for _ in range(args.reps):
        sync()
        t0, c0 = time.perf_counter(), time.process_time()
        out = forward()
        sync()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    torch.save({k: v.float().cpu() for k, v in out.items()}, args.out)
    rec = {
        "backend": args.backend,
        "warmup_s": warm,
        "times_s": times,
        "cpu_s": cpu,
        "maxrss_mb_after_build": rss_before / 1024,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if args.device.startswith("cuda") else None,
    }
    print("RESULT " + json.dumps(rec), flush=True)


def _run_worker(args: argparse.Namespace, backend: str, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--worker", "--backend", backend, "--out", str(out)]
    for key in ("arch", "width", "height", "threads", "reps", "warmup", "seed", "device", "precision"):
        cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
    cmd += ["--channels-last"] * args.channels_last
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        raise SystemExit(f"worker {backend} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--arch", default="dla34")
    p.add_argument("--width", type=int, default=1088)
    p.add_argument("--height", type=int, default=608)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--rounds", type=int, default=1, help="alternate the backends this many times")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", choices=("fp32", "fp16"), default="fp32", help="fp16: CUDA float16 autocast")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--backends", default=None, help="comma list; default fast,torchvision (CPU), torchvision (CUDA)")
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--backend", default="fast", help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.worker:
        _worker(args)
        return
    cuda = args.device.startswith("cuda")
    backends = (args.backends or ("torchvision" if cuda else "fast,torchvision")).split(",")
    if cuda and "fast" in backends:
        print("note: on CUDA the fast backend falls back to torchvision's kernel; timing it there says nothing")
    load_start = os.getloadavg()
    runs: dict[str, list[dict]] = {b: [] for b in backends}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for b in backends:
                print(f"round {r + 1}/{args.rounds}: {b} ...", flush=True)
                runs[b].append(_run_worker(args, b, Path(tmp) / f"{b}.pt"))
        import torch

        outputs = {b: torch.load(Path(tmp) / f"{b}.pt", weights_only=True) for b in backends}
    load_end = os.getloadavg()

    rows = {}
    for b, recs in runs.items():
        times = [t for rec in recs for t in rec["times_s"]]
        rows[b] = {
            "median_s": statistics.median(times),
            "min_s": min(times),
            "max_s": max(times),
            "n": len(times),
            "cpu_median_s": statistics.median(t for rec in recs for t in rec["cpu_s"]),
            "warmup_s": [t for rec in recs for t in rec["warmup_s"]],
            "maxrss_mb": max(rec["maxrss_mb"] for rec in recs),
            "maxrss_mb_after_build": max(rec["maxrss_mb_after_build"] for rec in recs),
            "cuda_peak_mb": recs[0]["cuda_peak_mb"],
        }
    diffs = {}
    if len(backends) > 1:
        ref, other = outputs[backends[-1]], outputs[backends[0]]
        for k in ref:
            d = (other[k] - ref[k]).abs().max().item()
            diffs[k] = {"max_abs": d, "max_rel": d / max(ref[k].abs().max().item(), 1e-12)}

    import torch

    print()
    print(f"FairMOT {args.arch} forward, input {args.width}x{args.height}, device {args.device}, "
          f"threads {args.threads}, precision {args.precision}, channels_last {args.channels_last}")  # fmt: skip
    print(f"host {platform.node()} cpu {platform.processor() or platform.machine()}, torch {torch.__version__}, "
          f"load average {load_start[0]:.1f} -> {load_end[0]:.1f} ({os.cpu_count()} cores)")  # fmt: skip
    print(f"{'backend':<12} {'median s':>9} {'min s':>8} {'max s':>8} {'n':>3} {'cpu s':>7} {'warm-up s':>12} "
          f"{'maxrss MB':>10} {'rss after build':>16}")  # fmt: skip
    for b, row in rows.items():
        warm = ",".join(f"{t:.2f}" for t in row["warmup_s"])
        print(f"{b:<12} {row['median_s']:>9.3f} {row['min_s']:>8.3f} {row['max_s']:>8.3f} {row['n']:>3} "
              f"{row['cpu_median_s']:>7.2f} {warm:>12} {row['maxrss_mb']:>10.0f} "
              f"{row['maxrss_mb_after_build']:>16.0f}")  # fmt: skip
    if "fast" in rows and "torchvision" in rows:
        sp_med = rows["torchvision"]["median_s"] / rows["fast"]["median_s"]
        sp_min = rows["torchvision"]["min_s"] / rows["fast"]["min_s"]
        print(f"speed-up fast vs torchvision: {sp_med:.2f}x (medians), {sp_min:.2f}x (best runs)")
    for k, d in diffs.items():
        print(f"output {k:<4} max abs diff {d['max_abs']:.3g}  max rel diff {d['max_rel']:.3g}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"args": vars(args), "rows": rows, "diffs": diffs, "load": [load_start, load_end]}, indent=2)
        )


if __name__ == "__main__":
    main()
