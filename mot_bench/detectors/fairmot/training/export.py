"""Turn a training checkpoint into an inference checkpoint: weights in float16, no optimiser or loss state.

    python -m mot_bench.detectors.fairmot.training.export exp/trained/KEY/model_last.pth out.pth \
        --conf-thres 0.35 --note "trained with docs/configs/fairmot_cpu_pets.json"

Floating-point tensors are stored in float16 (half the size; the loader copies them into the float32
network, so inference runs in float32 as before); integer buffers (BatchNorm's ``num_batches_tracked``)
keep their type. The ``meta`` that rebuilds the network is kept, plus ``conf_thres`` (the detection
threshold chosen for this model on held-out frames; the ``fairmot`` detector uses it when no
``conf_thres`` is given) and ``provenance`` (free text: data, command, commit).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any

import torch

from mot_bench.atomic import atomic_write
from mot_bench.detectors.fairmot.checkpoint import CheckpointError, checkpoint_meta, read_checkpoint


def export_checkpoint(src: str | Path, dst: str | Path, conf_thres: float | None = None,
                      provenance: dict[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """Write ``dst`` from the training checkpoint ``src`` (see the module docstring); returns its meta."""
    state, extra = read_checkpoint(src)
    meta = checkpoint_meta(extra, str(src))
    if meta is None:
        raise CheckpointError(f"{src}: no 'meta' (not written by mot-bench train): the export keeps the meta that "
                              "names the network")
    if conf_thres is not None:
        if not 0.0 <= conf_thres <= 1.0:
            raise ValueError(f"conf_thres must be in [0, 1], got {conf_thres}")
        meta["conf_thres"] = float(conf_thres)
    if provenance:
        meta["provenance"] = dict(provenance)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    buf = io.BytesIO()
    torch.save({"epoch": int(extra.get("epoch", 0)), "state_dict": half, "meta": meta}, buf)
    atomic_write(dst, lambda fh: fh.write(buf.getvalue()), mode="wb")
    return meta


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m mot_bench.detectors.fairmot.training.export",
                                 description="float16 inference checkpoint from a mot-bench train checkpoint")
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--conf-thres", type=float, default=None,
                    help="detection threshold chosen on held-out frames, recorded in the meta")
    ap.add_argument("--note", action="append", default=[], metavar="KEY=VALUE",
                    help="provenance entry recorded in the meta (repeatable)")
    args = ap.parse_args(argv)
    notes = dict(n.split("=", 1) if "=" in n else (n, "") for n in args.note)
    meta = export_checkpoint(args.src, args.dst, args.conf_thres, notes)
    size = Path(args.dst).stat().st_size
    print(f"{args.dst}: {size / 1e6:.2f} MB, arch {meta['arch']}, conf_thres {meta.get('conf_thres')}")


if __name__ == "__main__":
    main()
