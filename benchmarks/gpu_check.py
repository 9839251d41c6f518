"""One-shot GPU check of FairMOT and the pipeline: one JSON and one Markdown table.

Run once on a machine with a CUDA GPU (under 8 minutes on an H200-class card):

    python benchmarks/gpu_check.py --out DIR          # writes DIR/gpu_check.json and DIR/gpu_check.md

Sections, each guarded (a failure is recorded in the table and the next section still runs), each with
its wall time and its peak GPU memory (``torch.cuda.max_memory_allocated``, reset per section):

* environment: card, driver, torch / CUDA / cuDNN / torchvision versions, TF32 flags, CPU;
* weights: seeded random FairMOT weights (BN statistics and DCN offset predictors non-zero, as
  ``bench_dcn.py``) written with ``save_checkpoint`` to a temporary checkpoint every section loads;
* throughput: DLA-34 at 1088x608, fp32 and fp16 (autocast), NCHW and channels-last, batch 1 and 8:
  frames/s of the model alone and of model + decode (``decode_outputs`` per image: NMS, top-K,
  boxes back to 640x480 image pixels, GPU->CPU copy); ``torch.cuda.synchronize()`` around every timed
  region; warm-up iterations excluded from the rates and reported;
* accuracy: GPU outputs vs CPU outputs (fast DCN, batch 1) of the same weights on the same input,
  per head (hm, wh, reg, id): max abs, max rel (to the largest reference value), relative L2;
* train_step: AMP training steps (``torch.autocast`` + ``GradScaler``, the project's ``MotLoss`` with
  uncertainty weighting, Adam, as ``mot_bench.detectors.fairmot.training.trainer``) on synthetic targets: time,
  finite loss;
* pipeline: ``mot-bench run --detector fairmot --tracker fairmot --device cuda`` on the bundled sample
  (MOT15 TUD-Campus) with the temporary checkpoint; per-stage means from the run's ``timing/*.csv``.

Exit status: 0 when every section is ok, 1 when one failed (the files are written either way), 2 without
a GPU: a one-line message before doing any work. Smoke mode, for tests and for
checking the script itself on a CPU (every section, tiny network, tiny input, seconds; numbers mean
nothing; half precision is bfloat16 autocast there, AMP training is off):

    python benchmarks/gpu_check.py --out DIR --device cpu --tiny
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

HEADS = ("hm", "wh", "reg", "id")
NO_GPU_MESSAGE = ("gpu_check: no CUDA GPU available (torch.cuda.is_available() is False); nothing was run. "
                  "Run it on a machine with a GPU, or use --device cpu --tiny for the CPU smoke mode.")
# Relative-L2 tolerances of the GPU-vs-CPU comparison: first guesses for random weights, recorded next
# to the values; a miss is flagged in the table, it does not stop the check.
TOLERANCES = {"fp32 (TF32 off)": 1e-4, "fp32": 2e-2, "half": 5e-2}
IMAGE_W, IMAGE_H = 640, 480  # TUD-Campus frames: the image size decode maps boxes back to

# ------------------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="folder for gpu_check.json and gpu_check.md")
    p.add_argument("--device", default="cuda", help="cuda or cuda:N; cpu only with --tiny (smoke mode)")
    p.add_argument("--tiny", action="store_true",
                   help="smoke mode: dla_tiny, 128x64 input, head_conv 16, batches 1,2, one or two iterations")
    p.add_argument("--arch", default=None, help="default dla34 (tiny: dla_tiny)")
    p.add_argument("--width", type=int, default=None, help="network input width, default 1088 (tiny: 128)")
    p.add_argument("--height", type=int, default=None, help="network input height, default 608 (tiny: 64)")
    p.add_argument("--head-conv", type=int, default=None, help="default 256 (tiny: 16)")
    p.add_argument("--batches", default=None, help="comma list of batch sizes, default 1,8 (tiny: 1,2)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up iterations per row, default 5 (tiny: 1)")
    p.add_argument("--iters", type=int, default=None, help="timed iterations per row, default 20 (tiny: 2)")
    p.add_argument("--ref-width", type=int, default=None,
                   help="input width of the GPU-vs-CPU comparison, default --width (CPU cost: one forward)")
    p.add_argument("--ref-height", type=int, default=None, help="input height of the comparison, default --height")
    p.add_argument("--train-batch", type=int, default=None, help="training batch, default 8 (tiny: 2)")
    p.add_argument("--train-iters", type=int, default=None, help="timed training steps, default 5 (tiny: 1)")
    p.add_argument("--train-warmup", type=int, default=None, help="warm-up training steps, default 2 (tiny: 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-s", type=float, default=420.0,
                   help="sections that would start after this many seconds are skipped (recorded as such)")
    args = p.parse_args(argv)
    tiny = args.tiny
    defaults = {
        "arch": "dla_tiny" if tiny else "dla34", "width": 128 if tiny else 1088, "height": 64 if tiny else 608,
        "head_conv": 16 if tiny else 256, "batches": "1,2" if tiny else "1,8", "warmup": 1 if tiny else 5,
        "iters": 2 if tiny else 20, "train_batch": 2 if tiny else 8, "train_iters": 1 if tiny else 5,
        "train_warmup": 1 if tiny else 2,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.ref_width = args.ref_width or args.width
    args.ref_height = args.ref_height or args.height
    args.batches = [int(b) for b in str(args.batches).split(",") if b.strip()]
    if args.device == "cpu" and not tiny:
        p.error("--device cpu is the smoke mode: add --tiny (a full-size check on CPU would take hours)")
    for w, h in ((args.width, args.height), (args.ref_width, args.ref_height)):
        if w % 32 or h % 32:
            p.error(f"input sizes must be multiples of 32, got {w}x{h}")
    return args


# ------------------------------------------------------------------------------------- helpers


class Check:
    """What the sections share: arguments, device, the temporary folder, the checkpoint."""

    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        import torch

        self.args = args
        self.device = torch.device(args.device)
        self.cuda = self.device.type == "cuda"
        self.tmp = tmp
        self.checkpoint: Path | None = None
        self._section_peak = 0
        self.half_name = "fp16" if self.cuda else "bf16"
        self.half_dtype = torch.float16 if self.cuda else torch.bfloat16
        # The detector's choice: torchvision's kernel on CUDA, the fast backend on CPU (torchvision's CPU
        # kernel has no bfloat16).
        self.dcn = "torchvision" if self.cuda else "fast"

    def sync(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize(self.device)

    def autocast(self, half: bool):
        import torch

        return torch.autocast(self.device.type, dtype=self.half_dtype) if half else nullcontext()

    def start_section(self) -> None:
        self._section_peak = 0
        self.reset_peak()

    def reset_peak(self) -> None:
        """Start a new peak (a row's); the section's peak keeps the largest seen since it started."""
        if self.cuda:
            import torch

            self.sync()
            self._section_peak = max(self._section_peak, torch.cuda.max_memory_allocated(self.device))
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_mb(self) -> float | None:
        """Peak GPU memory since the last ``reset_peak`` (None where it cannot be read: a broken context)."""
        if not self.cuda:
            return None
        import torch

        try:
            return round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        except Exception:
            return None

    def section_peak_mb(self) -> float | None:
        if not self.cuda:
            return None
        import torch

        return round(max(self._section_peak, torch.cuda.max_memory_allocated(self.device)) / 2**20, 1)

    def need_checkpoint(self) -> Path:
        if self.checkpoint is None:
            raise RuntimeError("no checkpoint: the weights section failed")
        return self.checkpoint

    def load(self, device: str | Any, dcn: str | None = None, channels_last: bool = False):
        """The checkpoint through the public ``load_model``, in eval mode."""
        import torch

        from mot_bench.detectors.fairmot import load_model

        model = load_model(self.need_checkpoint(), arch=self.args.arch, dcn=dcn or self.dcn, device=device,
                           head_conv=self.args.head_conv)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def image_batch(self, batch: int, width: int, height: int, offset: int = 0):
        import torch

        gen = torch.Generator().manual_seed(self.args.seed + 1000 + offset)
        return torch.rand((batch, 3, height, width), generator=gen)


def _timed(fn: Callable[[], Any], sync: Callable[[], None], warmup: int, iters: int) -> dict[str, Any]:
    """Seconds of each call, synchronised before and after; warm-up calls timed apart."""
    warm, times = [], []
    for i in range(warmup + iters):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        (warm if i < warmup else times).append(time.perf_counter() - t0)
    return {"warmup_s": warm, "times_s": times}


def _error_text(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first}"[:300]


def _round(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, nd)


# ------------------------------------------------------------------------------------- sections


def section_environment(ck: Check) -> dict[str, Any]:
    import numpy
    import torch
    import torchvision

    from mot_bench.timing import hardware_stamp

    env: dict[str, Any] = {
        "torch": torch.__version__,
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "fp32_precision_matmul": getattr(torch.backends.cuda.matmul, "fp32_precision", None),
        "fp32_precision_cudnn_conv": getattr(getattr(torch.backends.cudnn, "conv", None), "fp32_precision", None),
        "torch_threads": torch.get_num_threads(),
        "hardware": hardware_stamp(str(ck.device)),
        "gpu": None, "driver": None, "driver_cuda": None,
    }
    if ck.cuda:
        props = torch.cuda.get_device_properties(ck.device)
        env["gpu"] = props.name
        env["gpu_capability"] = f"{props.major}.{props.minor}"
        env["gpu_memory_gib"] = round(props.total_memory / 2**30, 1)
        env["gpu_multiprocessors"] = props.multi_processor_count
        env.update(_driver_info(ck.device.index or 0))
    return env


def _driver_info(index: int) -> dict[str, Any]:
    """Driver version (and the CUDA version it supports) from nvidia-smi, else /proc."""
    out: dict[str, Any] = {}
    try:
        proc = subprocess.run(["nvidia-smi", f"--id={index}", "--query-gpu=driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=30)
        if proc.returncode == 0 and proc.stdout.strip():
            out["driver"] = proc.stdout.strip().splitlines()[0]
        head = subprocess.run(["nvidia-smi"], capture_output=True, text=True, timeout=30).stdout
        if "CUDA Version:" in head:
            out["driver_cuda"] = head.split("CUDA Version:", 1)[1].split()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    if "driver" not in out:
        try:
            text = Path("/proc/driver/nvidia/version").read_text()
            out["driver"] = text.splitlines()[0].strip()
        except OSError:
            out["driver"] = None
    return out


def section_weights(ck: Check) -> dict[str, Any]:
    """Seeded random weights with non-trivial BN statistics and DCN offsets, saved as a checkpoint."""
    import torch

    from mot_bench.detectors.fairmot import DCN, build_model, save_checkpoint, weights_hash

    torch.manual_seed(ck.args.seed)
    model = build_model(ck.args.arch, head_conv=ck.args.head_conv, dcn="torchvision")
    gen = torch.Generator().manual_seed(ck.args.seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=gen)
                m.running_var.uniform_(0.5, 1.5, generator=gen)
            if isinstance(m, DCN):
                m.conv_offset_mask.weight.normal_(0, 0.01, generator=gen)
                m.conv_offset_mask.bias.normal_(0, 0.5, generator=gen)
    path = ck.tmp / f"fairmot_{ck.args.arch}_random_seed{ck.args.seed}.pth"
    save_checkpoint(path, model)
    ck.checkpoint = path
    state = model.state_dict()
    return {"arch": ck.args.arch, "head_conv": ck.args.head_conv, "seed": ck.args.seed,
            "parameters": sum(p.numel() for p in model.parameters()), "weights_sha256": weights_hash(state)[:16],
            "checkpoint": "temporary (deleted at the end)"}


def section_throughput(ck: Check) -> dict[str, Any]:
    import torch

    from mot_bench.detectors.fairmot.decode import decode_outputs, make_meta

    a = ck.args
    meta = make_meta(IMAGE_W, IMAGE_H, a.width, a.height)
    rows = []
    for layout in ("NCHW", "channels_last"):
        try:
            model = ck.load(ck.device, channels_last=layout == "channels_last")
        except Exception as exc:  # every row of this layout records the failure
            rows += [{"precision": prec, "layout": layout, "batch": b, "status": "error", "error": _error_text(exc)}
                     for prec in ("fp32", ck.half_name) for b in a.batches]
            continue
        for half in (False, True):
            for batch in a.batches:
                row: dict[str, Any] = {"precision": ck.half_name if half else "fp32", "layout": layout,
                                       "batch": batch}
                try:
                    ck.reset_peak()
                    x = ck.image_batch(batch, a.width, a.height).to(ck.device)
                    if layout == "channels_last":
                        x = x.contiguous(memory_format=torch.channels_last)
                    found: list[int] = []

                    def forward(model=model, x=x, half=half):
                        with torch.inference_mode(), ck.autocast(half):
                            return model(x)

                    def forward_decode(forward=forward, batch=batch, found=found):
                        out = forward()
                        found.clear()
                        for i in range(batch):
                            one = {k: v[i : i + 1] for k, v in out.items()}
                            tlbr, _, _ = decode_outputs(one, meta, 0.4, 500, ltrb=one["wh"].shape[1] == 4)
                            found.append(len(tlbr))

                    t_model = _timed(forward, ck.sync, a.warmup, a.iters)
                    t_dec = _timed(forward_decode, ck.sync, a.warmup, a.iters)
                    med_m, med_d = statistics.median(t_model["times_s"]), statistics.median(t_dec["times_s"])
                    row.update({
                        "status": "ok",
                        "model_fps": _round(batch / med_m, 2), "model_decode_fps": _round(batch / med_d, 2),
                        "model_ms_median": _round(1000 * med_m, 3),
                        "model_ms_min": _round(1000 * min(t_model["times_s"]), 3),
                        "model_decode_ms_median": _round(1000 * med_d, 3),
                        "warmup_ms_model": [_round(1000 * t, 2) for t in t_model["warmup_s"]],
                        "warmup_ms_model_decode": [_round(1000 * t, 2) for t in t_dec["warmup_s"]],
                        "iters": len(t_model["times_s"]), "detections_per_frame": found[:],
                        "peak_mb": ck.peak_mb(),
                    })
                except Exception as exc:
                    row.update({"status": "error", "error": _error_text(exc), "peak_mb": ck.peak_mb()})
                rows.append(row)
                if ck.cuda:
                    torch.cuda.empty_cache()
        del model
    return {"input": f"{a.width}x{a.height}", "arch": a.arch, "dcn": ck.dcn, "warmup": a.warmup, "iters": a.iters,
            "decode": f"decode_outputs per image (conf 0.4, K 500) to {IMAGE_W}x{IMAGE_H} pixels, incl. GPU->CPU copy",
            "rows": rows}


def _compare(out: dict, ref: dict) -> dict[str, dict[str, float]]:
    res = {}
    for k in HEADS:
        if k not in ref:
            continue
        a, b = out[k].float().cpu(), ref[k].float()
        d = (a - b).abs()
        res[k] = {"max_abs": float(d.max()), "max_rel": float(d.max() / b.abs().max().clamp_min(1e-12)),
                  "rel_l2": float((a - b).norm() / b.norm().clamp_min(1e-12))}
    return res


def section_accuracy(ck: Check) -> dict[str, Any]:
    import torch

    a = ck.args
    x = ck.image_batch(1, a.ref_width, a.ref_height, offset=7)
    ref_model = ck.load("cpu", dcn="fast")
    t0 = time.perf_counter()
    with torch.inference_mode():
        ref = {k: v.clone() for k, v in ref_model(x).items()}
    cpu_s = time.perf_counter() - t0
    del ref_model
    same = (a.ref_width, a.ref_height) == (a.width, a.height)
    modes = [("fp32", False, False, None), ("fp32 (TF32 off)", False, False, False),
             (ck.half_name, True, False, None), (f"{ck.half_name} channels_last", True, True, None)]
    rows = []
    for name, half, cl, tf32 in modes:
        row: dict[str, Any] = {"mode": name}
        saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        try:
            if tf32 is not None:
                torch.backends.cuda.matmul.allow_tf32 = tf32
                torch.backends.cudnn.allow_tf32 = tf32
            model = ck.load(ck.device, channels_last=cl)
            xd = x.to(ck.device)
            if cl:
                xd = xd.contiguous(memory_format=torch.channels_last)
            with torch.inference_mode(), ck.autocast(half):
                out = model(xd)
            ck.sync()
            tol = TOLERANCES["half"] if half else TOLERANCES[name]
            heads = _compare(out, ref)
            row.update({"status": "ok", "tolerance_rel_l2": tol, "heads": heads,
                        "within": all(h["rel_l2"] <= tol for h in heads.values())})
            del model, out
        except Exception as exc:
            row.update({"status": "error", "error": _error_text(exc)})
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
        rows.append(row)
    return {"reference": "CPU, fast DCN, batch 1, fp32", "input": f"{a.ref_width}x{a.ref_height}",
            "same_input_as_throughput": same, "cpu_forward_s": _round(cpu_s, 3),
            "device_dcn": ck.dcn, "rows": rows}


def _synthetic_targets(ck: Check, batch: int, num_ids: int, max_objs: int) -> dict:
    """Letterbox-sized random images and FairMOT targets of random boxes (via ``build_targets``)."""
    import numpy as np
    import torch

    from mot_bench.detectors.fairmot.training.targets import build_targets

    a = ck.args
    rng = np.random.default_rng(a.seed + 5)
    items = []
    for _ in range(batch):
        n = int(rng.integers(5, 25))
        labels = np.stack([np.zeros(n), rng.integers(0, num_ids, n), rng.uniform(0.1, 0.9, n),
                           rng.uniform(0.2, 0.8, n), rng.uniform(0.02, 0.1, n), rng.uniform(0.1, 0.4, n)], axis=1)
        t = build_targets(labels, a.width // 4, a.height // 4, max_objs=max_objs, ltrb=True)
        items.append({k: torch.from_numpy(v) for k, v in t.items()})
    out = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    out["input"] = ck.image_batch(batch, a.width, a.height, offset=11)
    return {k: v.to(ck.device) for k, v in out.items()}


def section_train_step(ck: Check) -> dict[str, Any]:
    import torch

    from mot_bench.detectors.fairmot.training.trainer import ModelWithLoss, TrainConfig, build_model_and_loss

    a = ck.args
    num_ids = 100
    cfg = TrainConfig(arch=a.arch, input_w=a.width, input_h=a.height, head_conv=a.head_conv, dcn=ck.dcn,
                      batch_size=a.train_batch)
    cfg.validate()
    torch.manual_seed(a.seed)
    model, loss = build_model_and_loss(cfg, num_ids)
    wrapped = ModelWithLoss(model, loss).to(ck.device).train()
    optimizer = torch.optim.Adam(model.parameters(), cfg.lr)
    optimizer.add_param_group({"params": list(loss.parameters())})
    use_amp = ck.cuda
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    batch = _synthetic_targets(ck, a.train_batch, num_ids, cfg.max_objs)
    losses: list[dict[str, float]] = []

    def step() -> None:  # as mot_bench.detectors.fairmot.training.trainer._run_epoch
        with torch.autocast(device_type=ck.device.type, enabled=use_amp):
            _, value, stats = wrapped(batch)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(value).backward()
        scaler.step(optimizer)
        scaler.update()
        losses.append({k: float(v.detach()) for k, v in stats.items()})

    t = _timed(step, ck.sync, a.train_warmup, a.train_iters)
    finite = all(math.isfinite(v) for rec in losses for v in rec.values())
    params_finite = all(bool(torch.isfinite(p).all()) for p in wrapped.parameters())
    med = statistics.median(t["times_s"])
    return {"arch": a.arch, "input": f"{a.width}x{a.height}", "batch": a.train_batch, "amp": use_amp,
            "amp_note": None if use_amp else "AMP is CUDA-only: fp32 steps on CPU",
            "loss": "MotLoss (focal hm, L1 wh/reg, re-ID CE over 100 ids, uncertainty weighting), Adam",
            "warmup_s": [_round(s, 4) for s in t["warmup_s"]], "step_s": [_round(s, 4) for s in t["times_s"]],
            "step_s_median": _round(med, 4), "images_per_s": _round(a.train_batch / med, 2),
            "losses": [{k: _round(v, 5) for k, v in rec.items()} for rec in losses],
            "loss_finite": finite, "params_finite": params_finite,
            "grad_scale": float(scaler.get_scale()) if use_amp else None}


def section_pipeline(ck: Check) -> dict[str, Any]:
    from mot_bench.results import RunFolder
    from mot_bench.runner import RunOptions, run
    from mot_bench.timing import STAGES

    a = ck.args
    det_opts = {"weights": str(ck.need_checkpoint()), "arch": a.arch, "head_conv": a.head_conv,
                "input_width": a.width, "input_height": a.height}
    out = ck.tmp / "run"
    opts = RunOptions(detector="fairmot", tracker="fairmot", device=str(ck.device), precision="fp32",
                      detector_options=det_opts, out=str(out), progress=False, overwrite=True, evaluate=True)
    command = ["mot-bench", "run", "--detector", "fairmot", "--tracker", "fairmot", "--device", str(ck.device),
               "--weights", "CHECKPOINT"] + [x for k, v in det_opts.items() if k != "weights"
                                             for x in ("--detector-opt", f"{k}={v}")]
    t0 = time.perf_counter()
    result = run(opts)
    wall = time.perf_counter() - t0
    folder = RunFolder(out)
    columns = (*STAGES, "decode", "total")
    per_seq = {}
    for seq in result.sequences:
        rows = folder.read_timing(seq.name)
        timed = [r for r in rows if not r["warmup"]]
        means = {c: _round(1000 * statistics.fmean(r[c] for r in timed), 3) if timed else None for c in columns}
        per_seq[seq.name] = {"frames": len(timed), "warmup_frames": len(rows) - len(timed), "mean_ms": means,
                             "fps": _round(1000 / means["total"], 2) if timed and means["total"] else None,
                             "warmup_total_ms": [_round(1000 * r["total"], 2) for r in rows if r["warmup"]]}
    m = (result.metrics or {}).get("combined", result.metrics or {})
    metrics = {k: m.get(k) for k in ("HOTA", "MOTA", "IDF1") if isinstance(m, dict) and k in m}
    return {"command": shlex.join(command), "wall_s": _round(wall, 2), "sequences": per_seq,
            "metrics_random_weights": metrics, "note": "random weights: detections and scores are meaningless"}


SECTIONS: list[tuple[str, Callable[[Check], dict[str, Any]]]] = [
    ("environment", section_environment),
    ("weights", section_weights),
    ("throughput", section_throughput),
    ("accuracy", section_accuracy),
    ("train_step", section_train_step),
    ("pipeline", section_pipeline),
]


def run_section(ck: Check, name: str, fn: Callable[[Check], dict[str, Any]], start: float) -> dict[str, Any]:
    elapsed = time.perf_counter() - start
    if elapsed > ck.args.budget_s:
        return {"status": "skipped", "error": f"time budget: {elapsed:.0f} s > --budget-s {ck.args.budget_s:.0f}",
                "seconds": 0.0, "peak_mb": None}
    print(f"gpu_check: {name} ...", flush=True)
    rec: dict[str, Any] = {}
    t0 = time.perf_counter()
    try:
        ck.start_section()
        rec["result"] = fn(ck)
        rows = rec["result"].get("rows", []) if isinstance(rec["result"], dict) else []
        failed = [r for r in rows if r.get("status") != "ok"]
        rec["status"] = "partial" if failed else "ok"
        if failed:
            rec["error"] = f"{len(failed)} of {len(rows)} rows failed: {failed[0].get('error')}"
    except Exception as exc:
        rec["status"] = "error"
        rec["error"] = _error_text(exc)
        rec["traceback"] = traceback.format_exc()[-3000:]
    rec["seconds"] = _round(time.perf_counter() - t0, 2)
    try:
        rec["peak_mb"] = ck.section_peak_mb()
    except Exception:  # a broken CUDA context must not lose the other sections
        rec["peak_mb"] = None
    if ck.cuda:
        try:
            import torch

            torch.cuda.empty_cache()
        except Exception:
            pass
    print(f"gpu_check: {name} {rec['status']} in {rec['seconds']} s" + (f" ({rec['error']})" if "error" in rec
                                                                        else ""), flush=True)
    return rec


# ------------------------------------------------------------------------------------- markdown


def _fmt(v: Any, nd: int = 3) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{nd}g}" if (abs(v) < 1e-2 and v != 0) or abs(v) >= 1e5 else f"{v:.{nd}f}".rstrip("0").rstrip(".")
    if isinstance(v, list):
        return ", ".join(_fmt(x, nd) for x in v)
    return str(v).replace("|", "\\|")


def _get(sections: dict, name: str) -> dict:
    return sections.get(name, {"status": "missing", "error": "section not in the report"})


def _not_run(sec: dict) -> str:
    return f"Not run: {sec['status']}: {_fmt(sec.get('error'))}\n"


def to_markdown(report: dict[str, Any]) -> str:
    s = report["sections"]
    a = report["args"]
    lines = ["# FairMOT GPU check", ""]
    lines.append(f"`{report['command']}`, {report['created']}, {report['total_s']} s in all.")
    if a["tiny"]:
        lines.append("")
        lines.append(f"**Smoke mode** (`--tiny`, device {a['device']}): tiny network and input, numbers mean nothing.")
    lines += ["", "| section | status | seconds | peak GPU MB | error |", "|---|---|---:|---:|---|"]
    for name, sec in s.items():
        lines.append(f"| {name} | {sec['status']} | {_fmt(sec.get('seconds'))} | {_fmt(sec.get('peak_mb'))} | "
                     f"{_fmt(sec.get('error')) if sec.get('error') else ''} |")

    lines += ["", "## Environment", ""]
    env = _get(s, "environment")
    if "result" in env:
        e = env["result"]
        hw = e.get("hardware", {})
        lines += ["| item | value |", "|---|---|"]
        for label, v in (("GPU", e.get("gpu")), ("compute capability", e.get("gpu_capability")),
                         ("GPU memory GiB", e.get("gpu_memory_gib")), ("driver", e.get("driver")),
                         ("driver CUDA", e.get("driver_cuda")), ("torch", e.get("torch")),
                         ("torch CUDA", e.get("torch_cuda")), ("cuDNN", e.get("cudnn")),
                         ("torchvision", e.get("torchvision")),
                         ("TF32 matmul / cuDNN", f"{_fmt(e.get('tf32_matmul'))} / {_fmt(e.get('tf32_cudnn'))}"),
                         ("cudnn.benchmark", e.get("cudnn_benchmark")), ("CPU", hw.get("cpu")),
                         ("CPU cores", hw.get("cpu_count")), ("python", e.get("python"))):
            lines.append(f"| {label} | {_fmt(v)} |")
    else:
        lines.append(_not_run(env))

    w = _get(s, "weights")
    lines += ["", "## Forward throughput", ""]
    tp = _get(s, "throughput")
    if "result" in tp:
        r = tp["result"]
        wr = w.get("result", {})
        lines.append(f"FairMOT {r['arch']} (head_conv {wr.get('head_conv', '-')}, seeded random weights), input "
                     f"{r['input']}, {r['dcn']} DCN; {r['warmup']} warm-up iterations per row excluded (reported), "
                     f"median of {r['iters']}; model + decode: {r['decode']}.")
        lines += ["", "| precision | layout | batch | model frames/s | model+decode frames/s | model ms/batch | "
                  "model+decode ms/batch | warm-up ms (model) | peak GPU MB | status |",
                  "|---|---|---:|---:|---:|---:|---:|---|---:|---|"]
        for row in r["rows"]:
            status = row["status"] if row["status"] == "ok" else f"{row['status']}: {_fmt(row.get('error'))}"
            lines.append(f"| {row['precision']} | {row['layout']} | {row['batch']} | {_fmt(row.get('model_fps'))} | "
                         f"{_fmt(row.get('model_decode_fps'))} | {_fmt(row.get('model_ms_median'))} | "
                         f"{_fmt(row.get('model_decode_ms_median'))} | {_fmt(row.get('warmup_ms_model'), 2)} | "
                         f"{_fmt(row.get('peak_mb'))} | {status} |")
    else:
        lines.append(_not_run(tp))

    lines += ["", "## Device outputs vs CPU outputs", ""]
    acc = _get(s, "accuracy")
    if "result" in acc:
        r = acc["result"]
        size = (f"{r['input']}, the throughput input" if r["same_input_as_throughput"] else
                f"{r['input']}, smaller than the throughput input to keep the CPU cost small")
        lines.append(f"Reference: {r['reference']} (one forward, {r['cpu_forward_s']} s), same seeded weights and "
                     f"input ({size}); device side: {r['device_dcn']} DCN, batch 1. Max rel = max abs diff / max "
                     f"|reference|; rel L2 = ‖diff‖ / ‖reference‖; tolerances are first guesses for random weights.")
        lines += ["", "| device run | head | max abs diff | max rel diff | rel L2 | tolerance (rel L2) | within |",
                  "|---|---|---:|---:|---:|---:|---|"]
        for row in r["rows"]:
            if row["status"] != "ok":
                lines.append(f"| {row['mode']} | - | - | - | - | - | {row['status']}: {_fmt(row.get('error'))} |")
                continue
            for head, d in row["heads"].items():
                ok = d["rel_l2"] <= row["tolerance_rel_l2"]
                lines.append(f"| {row['mode']} | {head} | {d['max_abs']:.3g} | {d['max_rel']:.3g} | "
                             f"{d['rel_l2']:.3g} | {row['tolerance_rel_l2']:.0e} | {_fmt(ok)} |")
    else:
        lines.append(_not_run(acc))

    lines += ["", "## Training step", ""]
    tr = _get(s, "train_step")
    if "result" in tr:
        r = tr["result"]
        first, last = (r["losses"][0], r["losses"][-1]) if r["losses"] else ({}, {})
        lines += ["| item | value |", "|---|---|"]
        for label, v in (("network / input / batch", f"{r['arch']} / {r['input']} / {r['batch']}"),
                         ("AMP (autocast + GradScaler)", _fmt(r["amp"]) + (f" ({r['amp_note']})" if r["amp_note"]
                                                                           else "")),
                         ("loss", r["loss"]), ("warm-up step s", _fmt(r["warmup_s"])),
                         ("timed step s", _fmt(r["step_s"])), ("median step s", _fmt(r["step_s_median"])),
                         ("images/s", _fmt(r["images_per_s"])),
                         ("loss first / last step (warm-up included)",
                          f"{_fmt(first.get('loss'))} / {_fmt(last.get('loss'))}"),
                         ("loss finite", _fmt(r["loss_finite"])), ("parameters finite after the steps",
                                                                   _fmt(r["params_finite"])),
                         ("grad scale", _fmt(r["grad_scale"]))):
            lines.append(f"| {label} | {v} |")
    else:
        lines.append(_not_run(tr))

    lines += ["", "## Pipeline on the bundled sample", ""]
    pl = _get(s, "pipeline")
    if "result" in pl:
        r = pl["result"]
        lines.append(f"`{r['command']}` ({r['note']}); {r['wall_s']} s wall including scoring. Mean ms per frame "
                     "from the run's timing CSV, warm-up frames excluded (their totals reported).")
        for seq, d in r["sequences"].items():
            lines += ["", f"{seq}: {d['frames']} timed frames, {d['warmup_frames']} warm-up frames "
                      f"({_fmt(d['warmup_total_ms'], 2)} ms), {_fmt(d['fps'])} frames/s.", "",
                      "| stage | mean ms/frame |", "|---|---:|"]
            for stage, v in d["mean_ms"].items():
                lines.append(f"| {stage} | {_fmt(v)} |")
    else:
        lines.append(_not_run(pl))
    for name, sec in s.items():  # sections not shown above (added by tests or later)
        if name not in ("environment", "weights", "throughput", "accuracy", "train_step", "pipeline"):
            lines += ["", f"## {name}", "", _not_run(sec) if "result" not in sec else
                      f"```\n{json.dumps(sec['result'], indent=2)}\n```"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print(NO_GPU_MESSAGE, file=sys.stderr)
        return 2
    start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "tool": "benchmarks/gpu_check.py",
        "command": shlex.join(["python", "benchmarks/gpu_check.py", *(sys.argv[1:] if argv is None else argv)]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "args": {k: v for k, v in vars(args).items()},
        "sections": {},
    }
    with tempfile.TemporaryDirectory(prefix="gpu_check_") as tmp:
        ck = Check(args, Path(tmp))
        for name, fn in SECTIONS:
            report["sections"][name] = run_section(ck, name, fn, start)
    report["total_s"] = _round(time.perf_counter() - start, 1)
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (out / "gpu_check.md").write_text(to_markdown(report), encoding="utf-8")
    bad = [n for n, sec in report["sections"].items() if sec["status"] != "ok"]
    print(f"gpu_check: wrote {out / 'gpu_check.json'} and {out / 'gpu_check.md'} in {report['total_s']} s; "
          + (f"not ok: {', '.join(bad)}" if bad else "every section ok"), flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
