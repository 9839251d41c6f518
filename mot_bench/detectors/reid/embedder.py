"""A re-ID model from a weights file: strict loading, batched crops -> L2-normalised embeddings.

Weights files (``torch.load(..., weights_only=True)``, nothing is unpickled but tensors):

* a bare state dict, or a checkpoint dict holding it under ``state_dict`` (torchreid's
  ``save_checkpoint``) or ``model`` (fast-reid, ignite);
* a leading ``module.`` (``DataParallel``) is dropped from every key;
* the training-only identity classifier (``classifier.*``) is dropped and logged;
* every other key must match the network exactly: a missing, unexpected or mis-shaped key is an
  error listing them all; a file of another known architecture says which one it looks like.

Without weights the network is initialised from ``seed`` (torch's generator, then the model's
own initialisation) only when ``allow_random`` is set: the embeddings are then meaningless but
deterministic, which is what the tests need.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from mot_bench.detectors.reid.crops import DEFAULT_SIZE, crop_boxes, to_tensor
from mot_bench.detectors.reid.models import EMBEDDING_DIMS, MODELS, NAMING, OSNET_CHANNELS, TRAINING_ONLY, build_model
from mot_bench.detectors.weights import weights_hash
from mot_bench.runtime import Runtime

log = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]


class ReIDWeightsError(ValueError):
    """A weights file that cannot be read, or does not match the chosen re-ID model."""


def read_weights(path: str | Path) -> StateDict:
    """The state dict inside a weights file (``module.`` dropped), tensors only."""
    path = Path(path)
    if not path.is_file():
        raise ReIDWeightsError(f"re-ID weights file {path} not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt, foreign or pickled-model files
        raise ReIDWeightsError(
            f"{path}: cannot read as a PyTorch state dict ({exc}). If it is a whole pickled model "
            "(torch.save(model)), save its state_dict() with the code that trained it, then pass that file."
        ) from None
    return unwrap_state_dict(obj, str(path))


def unwrap_state_dict(obj: Any, origin: str = "weights") -> StateDict:
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model"):
            if key in obj and isinstance(obj[key], Mapping):
                obj = obj[key]
                break
    if not isinstance(obj, Mapping):
        raise ReIDWeightsError(f"{origin}: expected a state dict, got {type(obj).__name__}")
    bad = [k for k, v in obj.items() if not isinstance(v, torch.Tensor)]
    if bad:
        raise ReIDWeightsError(f"{origin}: entries that are not tensors: {', '.join(map(str, bad[:5]))}")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}


def guess_architecture(state: Mapping[str, torch.Tensor]) -> str | None:
    """What a state dict looks like: one of :data:`MODELS`, or a description of a foreign layout."""
    keys = set(state)
    if "conv1.conv.weight" in keys and "conv2.0.conv2a.conv1.weight" in keys:
        width = int(state["conv1.conv.weight"].shape[0])
        if "conv1.bn.running_mean" not in keys:
            return "an OSNet with instance norm (osnet_ibn/osnet_ain), not supported here"
        for name, channels in OSNET_CHANNELS.items():
            if channels[0] == width:
                return name
        return f"an OSNet of stem width {width}"
    if "base.layer4.0.conv1.weight" in keys and "bottleneck.weight" in keys:
        blocks = {k.split(".")[2] for k in keys if k.startswith("base.layer3.")}
        return "bot_r50" if len(blocks) == 6 else f"a reid-strong-baseline ResNet with {len(blocks)} layer3 blocks"
    if any(k.startswith("base.base_layer") for k in keys):
        return "a FairMOT (DLA-34) checkpoint, a detector rather than a re-ID model"
    if any(k.startswith("backbone.") for k in keys) and any(k.startswith("heads.") for k in keys):
        return "a fast-reid model (backbone.*/heads.* naming), not supported here"
    if "conv1.weight" in keys and "layer1.0.conv1.weight" in keys and "fc.weight" in keys:
        return "a torchvision ImageNet ResNet (an ImageNet classifier, not a re-ID model)"
    return None


def load_weights(model: nn.Module, state: Mapping[str, torch.Tensor], name: str, origin: str) -> list[str]:
    """Copy ``state`` into ``model`` strictly (training-only keys dropped); returns the dropped keys."""
    guess = guess_architecture(state)
    if guess is not None and guess != name:
        raise ReIDWeightsError(
            f"{origin} looks like {guess}, not {name}: choose the matching model=... "
            f"(valid: {', '.join(MODELS)}) or the weights of a {name}"
        )
    prefixes = TRAINING_ONLY.get(name, ())
    dropped = sorted(k for k in state if k.startswith(prefixes))
    state = {k: v for k, v in state.items() if not k.startswith(prefixes)}
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    problems = []
    if missing:
        problems.append(f"missing keys ({len(missing)}): {_short(missing)}")
    if unexpected:
        problems.append(f"unexpected keys ({len(unexpected)}): {_short(unexpected)}")
    if shapes:
        problems.append(f"shape mismatches ({len(shapes)}): {_short(shapes)}")
    if problems:
        raise ReIDWeightsError(
            f"{origin} does not match re-ID model {name} ({NAMING[name]} key naming):\n  " + "\n  ".join(problems))
    model.load_state_dict(state, strict=True)
    return dropped


def _short(items: Sequence[str], n: int = 12) -> str:
    return ", ".join(items[:n]) + (f", ... ({len(items) - n} more)" if len(items) > n else "")


class Embedder:
    """Boxes of frames -> (N, D) float32 L2-normalised embeddings with one re-ID network.

    ``crop_batch`` crops go through the network at once, across frames. The network is built on first
    use, on the runtime's device, in its precision (fp16: CUDA float16 autocast) and memory layout.
    ``calls`` counts forward passes (tests check a cache with it).
    """

    def __init__(self, model: str = "osnet_x0_25", weights: str | Path | None = None, *, allow_random: bool = False,
                 seed: int = 0, size: tuple[int, int] = DEFAULT_SIZE, crop_batch: int = 64,
                 runtime: Runtime | None = None) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown re-ID model {model!r}; valid models: {', '.join(MODELS)}")
        if weights is None and not allow_random:
            raise ValueError(
                f"reid: no weights given for {model}. Pass weights=PATH to a published {model} file "
                f"({NAMING[model]} key naming; see README 'Re-ID embeddings'), or allow_random=true for a "
                "randomly initialised network (tests only: the embeddings are meaningless)")
        if crop_batch < 1:
            raise ValueError(f"crop_batch must be >= 1, got {crop_batch}")
        self.name = model
        self.weights = None if weights is None else Path(weights)
        self.seed = seed
        self.size = (int(size[0]), int(size[1]))
        self.crop_batch = int(crop_batch)
        self.runtime = runtime or Runtime()
        self.dim = EMBEDDING_DIMS[model]
        self._state: StateDict | None = read_weights(self.weights) if self.weights is not None else None
        self._hash: str | None = None
        self._net: nn.Module | None = None
        self._net_runtime: Runtime | None = None
        self.calls = 0

    @property
    def weights_hash(self) -> str:
        """sha256 of the weights' tensors; ``random-<model>-seed<N>`` for seeded random weights."""
        if self._hash is None:
            self._hash = (f"random-{self.name}-seed{self.seed}" if self._state is None else weights_hash(self._state))
        return self._hash

    def network(self) -> nn.Module:
        if self._net is not None:
            if self._net_runtime != self.runtime:
                raise ValueError(f"reid: the runtime changed after the network was built for {self._net_runtime}")
            return self._net
        digest = self.weights_hash
        if self._state is None:
            log.warning("reid: RANDOM WEIGHTS (allow_random=true, seed %d): %s embeddings are meaningless",
                        self.seed, self.name)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                net = build_model(self.name)
        else:
            net = build_model(self.name)
            dropped = load_weights(net, self._state, self.name, str(self.weights))
            if dropped:
                log.info("reid: %s: dropped training-only keys %s", self.weights, _short(dropped, 4))
            self._state = None
        rt = self.runtime
        net = net.to(rt.device).eval()
        if rt.channels_last:
            net = net.to(memory_format=torch.channels_last)
        self._net, self._net_runtime = net, rt
        log.info("reid: %s weights %s (sha256 %s) on %s, %s", self.name, self.weights, digest[:16], rt.device,
                 rt.precision)
        return net

    def embed_tensor(self, x: torch.Tensor) -> np.ndarray:
        """A prepared (N, 3, H, W) batch -> (N, D) float32 L2-normalised (one forward pass)."""
        net = self.network()
        with torch.inference_mode(), self.runtime.autocast():
            feats = net(x)
        self.calls += 1
        feats = torch.nn.functional.normalize(feats.float(), dim=1)
        return feats.cpu().numpy()

    def embed(self, image_bgr: np.ndarray, tlbr: np.ndarray) -> np.ndarray:
        """Embeddings of one image's boxes."""
        return self.embed_frames([image_bgr], [tlbr])[0]

    def embed_frames(self, images_bgr: Sequence[np.ndarray], boxes: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Embeddings of every box of every image, ``crop_batch`` crops per forward pass across images."""
        counts = [len(np.asarray(b).reshape(-1, 4)) for b in boxes]
        total = sum(counts)
        out = np.zeros((total, self.dim), np.float32)
        if total:
            crops = np.concatenate([crop_boxes(im, b, self.size) if n else np.zeros((0, *self.size, 3), np.uint8)
                                    for im, b, n in zip(images_bgr, boxes, counts, strict=True)])
            for start in range(0, total, self.crop_batch):
                chunk = crops[start:start + self.crop_batch]
                x = to_tensor(chunk, self.runtime.device, self.runtime.channels_last)
                out[start:start + len(chunk)] = self.embed_tensor(x)
        return np.split(out, np.cumsum(counts)[:-1]) if counts else []
