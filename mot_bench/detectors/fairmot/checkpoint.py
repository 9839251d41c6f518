"""FairMOT checkpoints in and out: the one reader and the one writer (inference and training).

A checkpoint is what ``torch.save`` wrote in FairMOT's ``save_model``: ``{'epoch', 'state_dict',
optional 'optimizer'}``; a bare state dict is accepted too. Ours (``mot-bench train``) add
``loss_state`` (to resume exactly) and ``meta``: the arch, heads, head_conv, head type, anchors and
input size it was trained with, from which :func:`resolve_network` rebuilds the network, so a user
names only the weights. Official checkpoints carry no ``meta`` and keep the explicit options.

Keys saved from ``DataParallel`` carry a ``module.`` prefix, which is dropped on load (as the official
``load_model`` does). Unlike the official loader, which prints and silently keeps random weights for
anything that does not match, loading here is strict by default and fails with the list of missing,
unexpected and mis-shaped keys.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mot_bench.atomic import atomic_write

StateDict = dict[str, torch.Tensor]


class CheckpointError(ValueError):
    """A checkpoint that cannot be read or does not fit the model."""


# The checkpoint shipped inside the package (package data): what `--detector fairmot` runs without --weights.
BUNDLED_WEIGHTS = "weights/fairmot_mobilenetv2_pets.pth"


def bundled_checkpoint() -> Path:
    """Path of the bundled MobileNetV2 FairMOT checkpoint (its NOTE.md beside it says how it was trained)."""
    path = Path(__file__).resolve().parent / BUNDLED_WEIGHTS
    if not path.is_file():
        raise CheckpointError(f"{path}: the bundled FairMOT checkpoint is missing from this installation; "
                              "pass weights=PATH")
    return path


def _strip_module(state_dict: Mapping[str, Any]) -> StateDict:
    out: StateDict = {}
    for key, value in state_dict.items():
        if key.startswith("module.") and not key.startswith("module_list"):
            key = key[len("module.") :]
        out[key] = value
    return out


def read_checkpoint(source: str | Path | Mapping[str, Any]) -> tuple[StateDict, dict[str, Any]]:
    """(state dict with ``module.`` dropped, the other top-level entries such as ``epoch``).

    ``source`` is a path to a ``.pth`` file, a checkpoint dict or a bare state dict.
    """
    origin = "the given state dict"
    if isinstance(source, (str, Path)):
        path = Path(source)
        origin = str(path)
        if not path.is_file():
            raise CheckpointError(f"{path}: checkpoint file not found")
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises several types for a corrupt or foreign file
            raise CheckpointError(f"{path}: cannot read as a PyTorch checkpoint: {exc}") from None
    else:
        obj = source
    if not isinstance(obj, Mapping):
        raise CheckpointError(f"{origin}: expected a dict (checkpoint or state dict), got {type(obj).__name__}")
    if "state_dict" in obj:
        meta = {k: v for k, v in obj.items() if k != "state_dict"}
        state = obj["state_dict"]
        if not isinstance(state, Mapping):
            raise CheckpointError(f"{origin}: 'state_dict' is a {type(state).__name__}, expected a dict")
    else:
        meta, state = {}, obj
    bad = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise CheckpointError(f"{origin}: state dict entries that are not tensors: {bad[:5]}")
    return _strip_module(state), meta


def _short(keys: list[str], limit: int = 20) -> str:
    more = f" ... (+{len(keys) - limit} more)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def load_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor], strict: bool = True,
                    origin: str = "checkpoint") -> list[str]:  # fmt: skip
    """Copy weights into ``model``. Strict: any missing, unexpected or mis-shaped key is an error
    naming them all. Non-strict: loads what fits and returns the problems (one line each)."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in own
        if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys ({len(missing)}): {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}): {_short(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches ({len(shapes)}): {_short(shapes)}")
    if problems and strict:
        raise CheckpointError(
            f"{origin} does not match the model (wrong arch, heads or head_conv?):\n  " + "\n  ".join(problems)
        )
    fitting = {k: v for k, v in state_dict.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    model.load_state_dict(fitting, strict=False)
    return problems


def save_checkpoint(path: str | Path, model: nn.Module, epoch: int = 0, optimizer: Any = None, *,
                    meta: Mapping[str, Any] | None = None, **extra: Any) -> None:  # fmt: skip
    """Write ``{'epoch', 'state_dict'[, 'optimizer'][, 'meta'][, extra...]}`` atomically.

    Loadable by the official code (it reads ``state_dict``). ``meta``: what :func:`resolve_network`
    needs to rebuild the network (see :data:`META_KEYS`); ``extra``: more top-level entries (the
    trainer's ``loss_state``), each a plain value or a state dict."""
    if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    data: dict[str, Any] = {"epoch": epoch, "state_dict": model.state_dict()}
    if optimizer is not None:
        data["optimizer"] = optimizer.state_dict()
    if meta is not None:
        data["meta"] = dict(meta)
    clash = sorted(set(extra) & {"epoch", "state_dict", "optimizer", "meta"})
    if clash:
        raise ValueError(f"save_checkpoint: extra entries {clash} would overwrite the checkpoint's own")
    data.update(extra)
    buf = io.BytesIO()
    torch.save(data, buf)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()), mode="wb")


# ----------------------------------------------------------------------------- metadata -> network

# What a checkpoint's ``meta`` holds for rebuilding the network (the trainer adds reid_dim, num_ids,
# dcn and config_key for the record).
META_KEYS = ("arch", "heads", "head_conv", "head", "anchors", "input_w", "input_h", "down_ratio", "input_mean",
             "input_std")
# Without metadata (official checkpoints): today's explicit options and these defaults.
DEFAULT_ARCH = "dla34"
DEFAULT_HEAD_CONV = 256
DEFAULT_HEAD = "anchor_free"
DEFAULT_INPUT = (1088, 608)
HEAD_TYPES = ("anchor_free", "anchor_based")


def checkpoint_meta(extra: Mapping[str, Any], origin: str = "checkpoint") -> dict[str, Any] | None:
    """The ``meta`` entry of a checkpoint's top-level entries (from :func:`read_checkpoint`), or None."""
    meta = extra.get("meta")
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        raise CheckpointError(f"{origin}: 'meta' is a {type(meta).__name__}, expected a dict")
    return dict(meta)


def heads_from_state_dict(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """The heads a checkpoint was trained with, read from its last head conv shapes."""
    heads: dict[str, int] = {}
    for name in ("hm", "wh", "id", "reg"):
        for key in (f"{name}.2.weight", f"{name}.weight"):
            if key in state_dict:
                heads[name] = int(state_dict[key].shape[0])
                break
    return heads


@dataclass(frozen=True)
class NetworkSpec:
    """Everything needed to build the network a checkpoint fits and to feed and decode it."""

    arch: str
    heads: dict[str, int]
    head_conv: int
    head: str
    anchors: dict[str, Any] | None  # AnchorConfig fields (head=anchor_based), None: defaults / anchor-free
    input_w: int
    input_h: int
    down_ratio: int
    from_meta: bool  # True: read from the checkpoint's metadata; False: explicit options and defaults
    # (mean, std) over RGB in [0, 1] that the network applies to its input (the trunk's training statistics);
    # None: RGB / 255 as it is (the official archs)
    input_norm: tuple[tuple[float, ...], tuple[float, ...]] | None = None


def _anchor_layout(anchors: Mapping[str, Any] | None, down_ratio: int) -> dict[str, Any]:
    from mot_bench.detectors.fairmot.anchor_head import AnchorConfig

    return AnchorConfig.from_dict({**(anchors or {}), "down_ratio": down_ratio}).to_dict()


def resolve_network(
    state: Mapping[str, torch.Tensor] | None,
    meta: Mapping[str, Any] | None,
    *,
    arch: str | None = None,
    heads: Mapping[str, int] | None = None,
    head_conv: int | None = None,
    head: str | None = None,
    anchors: Mapping[str, Any] | None = None,
    input_w: int | None = None,
    input_h: int | None = None,
    origin: str = "checkpoint",
) -> NetworkSpec:
    """The network of a checkpoint: its metadata when it has some, else the options given and defaults.

    With metadata, an option given explicitly must agree with it (arch, heads, head_conv, head, anchors):
    a contradiction is a :class:`CheckpointError`, since those weights fit one network only. The input
    size is the one exception: the metadata gives the training size, an explicit size evaluates at
    another. Without metadata (official checkpoints) heads come from the state dict's shapes.
    """
    from mot_bench.detectors.fairmot.networks import canonical_arch

    if head is not None and head not in HEAD_TYPES:
        raise CheckpointError(f"head must be one of {HEAD_TYPES}, got {head!r}")
    if meta:
        missing = [k for k in ("arch", "heads", "head_conv", "head") if k not in meta]
        if missing:
            raise CheckpointError(f"{origin}: checkpoint metadata lacks {missing}")
        down_ratio = int(meta.get("down_ratio", 4))
        known = {"arch": canonical_arch(str(meta["arch"])), "heads": {k: int(v) for k, v in meta["heads"].items()},
                 "head_conv": int(meta["head_conv"]), "head": str(meta["head"])}
        given = {"arch": None if arch is None else canonical_arch(arch),
                 "heads": None if heads is None else {k: int(v) for k, v in heads.items()},
                 "head_conv": None if head_conv is None else int(head_conv), "head": head}
        clashes = [f"{k}={given[k]!r} (the checkpoint was trained with {k}={known[k]!r})"
                   for k in known if given[k] is not None and given[k] != known[k]]
        meta_anchors = meta.get("anchors") or None
        if anchors is not None and known["head"] == "anchor_based" and \
                _anchor_layout(anchors, down_ratio) != _anchor_layout(meta_anchors, down_ratio):
            clashes.append(f"anchors={dict(anchors)!r} (the checkpoint was trained with anchors={meta_anchors!r})")
        if clashes:
            raise CheckpointError(
                f"{origin}: options contradict the checkpoint's metadata: {'; '.join(clashes)}. "
                "Drop them: a checkpoint written by mot-bench train names its own network."
            )
        return NetworkSpec(
            arch=known["arch"], heads=known["heads"], head_conv=known["head_conv"], head=known["head"],
            anchors=dict(meta_anchors) if meta_anchors else None,
            input_w=int(input_w if input_w is not None else meta.get("input_w", DEFAULT_INPUT[0])),
            input_h=int(input_h if input_h is not None else meta.get("input_h", DEFAULT_INPUT[1])),
            down_ratio=down_ratio, from_meta=True, input_norm=_input_norm(meta, known["arch"], origin),
        )
    head = head or DEFAULT_HEAD
    if heads is not None:
        resolved_heads = {k: int(v) for k, v in heads.items()}
    elif state is None:
        from mot_bench.detectors.fairmot.networks import DEFAULT_HEADS

        resolved_heads = dict(DEFAULT_HEADS)
    elif head == "anchor_based":
        from mot_bench.detectors.fairmot.anchor_head import anchor_heads_from_state_dict

        try:
            resolved_heads = anchor_heads_from_state_dict(state)
        except ValueError as exc:
            raise CheckpointError(f"{origin}: {exc}") from None
    else:
        from mot_bench.detectors.fairmot.networks import DEFAULT_HEADS

        resolved_heads = heads_from_state_dict(state) or dict(DEFAULT_HEADS)
    return NetworkSpec(
        arch=canonical_arch(arch or DEFAULT_ARCH), heads=resolved_heads,
        head_conv=DEFAULT_HEAD_CONV if head_conv is None else int(head_conv), head=head,
        anchors=dict(anchors) if anchors else None,
        input_w=int(DEFAULT_INPUT[0] if input_w is None else input_w),
        input_h=int(DEFAULT_INPUT[1] if input_h is None else input_h), down_ratio=4, from_meta=False,
        input_norm=_input_norm({}, canonical_arch(arch or DEFAULT_ARCH), origin),
    )


def _input_norm(meta: Mapping[str, Any], arch: str, origin: str) -> tuple[tuple[float, ...], tuple[float, ...]] | None:
    """The input normalisation recorded in ``meta`` (``input_mean``/``input_std``), else the arch's default."""
    from mot_bench.detectors.fairmot.networks import default_input_norm

    mean, std = meta.get("input_mean"), meta.get("input_std")
    if mean is None and std is None:
        return default_input_norm(arch)
    try:
        norm = (tuple(float(v) for v in mean), tuple(float(v) for v in std))  # type: ignore[union-attr]
    except TypeError:
        norm = ((), ())
    if len(norm[0]) != 3 or len(norm[1]) != 3:
        raise CheckpointError(f"{origin}: meta input_mean/input_std must be 3 numbers each, got {mean!r} / {std!r}")
    return norm
