"""FairMOT training throughput: images/s of full training steps (forward, loss, backward, Adam step).

Measures the official configuration by default (DLA-34, 1088x608, anchor-free head, reid_dim 128,
uncertainty loss) on CPU with a small batch, on letterboxed frames of a generated sequence with real
targets (so the loss does the same work as on MOTChallenge). Warm-up steps are timed and reported
apart; data loading is measured separately (single process, augmentation on) so the step rate is the
network's alone.

    python benchmarks/bench_train.py                                 # DLA-34 1088x608, batch 2, CPU
    python benchmarks/bench_train.py --arch resdcn_18 --width 576 --height 320 --batch 4 --iters 5
    python benchmarks/bench_train.py --device cuda --precision fp16  # GPU with mixed precision
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", default="dla_34")
    ap.add_argument("--head", default="anchor_free", choices=["anchor_free", "anchor_based"])
    ap.add_argument("--width", type=int, default=1088)
    ap.add_argument("--height", type=int, default=608)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dcn", default="fast", choices=["fast", "torchvision"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", choices=("fp32", "fp16"), default="fp32",
                    help="fp16: CUDA float16 autocast with gradient scaling (as the trainer's precision)")
    ap.add_argument("--json", help="also write the result here")
    args = ap.parse_args(argv)

    import torch

    from mot_bench.data.synthetic import make_sequence
    from mot_bench.detectors.fairmot.training.trainer import (
        ModelWithLoss,
        TrainConfig,
        build_model_and_loss,
        make_dataset,
    )
    from mot_bench.timing import hardware_stamp

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        make_sequence(tmp, "SYN-BENCH", length=max(4, args.batch), width=1920, height=1080, num_people=12)
        cfg = TrainConfig.from_dict({"datasets": [{"root": tmp}], "arch": args.arch, "head": args.head,
                                     "input_w": args.width, "input_h": args.height, "dcn": args.dcn})
        ds = make_dataset(cfg)
        t0 = time.perf_counter()
        items = [ds[i % len(ds)] for i in range(args.batch)]
        load_s = (time.perf_counter() - t0) / args.batch
    batch = {k: v.to(device) for k, v in torch.utils.data.default_collate(items).items()}
    model, loss = build_model_and_loss(cfg, ds.num_ids)
    wrapped = ModelWithLoss(model, loss).to(device).train()
    opt = torch.optim.Adam(wrapped.parameters(), cfg.lr)
    fp16_autocast = args.precision == "fp16" and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=fp16_autocast)

    def step() -> float:
        if device.type == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.autocast(device_type=device.type, enabled=fp16_autocast):
            _, value, _ = wrapped(batch)
        opt.zero_grad(set_to_none=True)
        scaler.scale(value).backward()
        scaler.step(opt)
        scaler.update()
        if device.type == "cuda":
            torch.cuda.synchronize()
        return time.perf_counter() - t

    warm = [step() for _ in range(args.warmup)]
    times = [step() for _ in range(args.iters)]
    med = statistics.median(times)
    result = {
        "what": "FairMOT training step (forward + loss + backward + Adam), images/s",
        "arch": args.arch, "head": args.head, "input": f"{args.width}x{args.height}", "batch": args.batch,
        "dcn": args.dcn, "device": args.device, "precision": "fp16" if fp16_autocast else "fp32",
        "threads": args.threads,
        "warmup_s": [round(t, 3) for t in warm], "step_s": [round(t, 3) for t in times],
        "images_per_s": round(args.batch / med, 4), "data_loading_s_per_image": round(load_s, 4),
        "hardware": hardware_stamp(args.device),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    main()
