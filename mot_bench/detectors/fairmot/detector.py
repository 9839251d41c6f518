"""The ``fairmot`` detector: FairMOT's network, pre- and post-processing, with a detection cache.

Per frame: letterbox (``preprocess``), network forward (``model``), ``mot_decode`` + inverse letterbox
+ threshold (``postprocess``), exactly as FairMOT's tracker produces its detections and id features.

Cache: with ``cache_dir`` set, the first run of a sequence writes its detections and embeddings in
the deep_sort convention (``mot_bench.detectors.precomputed.save_npy``) to a file keyed by the sequence name,
the frame range, the weights hash and a hash of every option that changes the output; later runs
with the same key replay that file and never build or run the network.

Device, precision (fp16 = CUDA float16 autocast) and memory layout are not options of this detector:
they come from the run's :class:`mot_bench.runtime.Runtime` (``self.runtime``, set by the runner
before the first frame; ``--device``, ``--precision``, ``--channels-last``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

from mot_bench.options import option
from mot_bench.plugins import Detector
from mot_bench.types import Detections, Frame, SeqInfo

log = logging.getLogger(__name__)

EMBEDDING_DIM = 128
BUNDLED_DESCRIPTION = ("MobileNetV2 FairMOT trained on this CPU on PETS09-S2L1 and PETS09-S3-MF1 first halves; "
                       "see mot_bench/detectors/fairmot/weights/NOTE.md")


@dataclass
class FairMOTDetectorOptions:
    weights: str | None = option(None, "FairMOT checkpoint (e.g. fairmot_dla34.pth) or one from mot-bench train "
                                       "(default: the bundled MobileNetV2 checkpoint, trained on PETS 2009)")
    arch: str | None = option(None, "backbone: dla34 (FairMOT), dla_tiny (tests), ... (default: the checkpoint's "
                                    "metadata, else dla34)")
    dcn: Literal["auto", "fast", "torchvision"] = option(
        "auto", "deformable-conv backend (auto: torchvision on CUDA, fast on CPU)")
    input_width: int | None = option(None, "network input width, a multiple of 32 (default: the checkpoint's, "
                                           "else 1088)", bounds=(32, None))
    input_height: int | None = option(None, "network input height, a multiple of 32 (default: the checkpoint's, "
                                            "else 608)", bounds=(32, None))
    conf_thres: float | None = option(None, "keep heat-map peaks scoring above this (default: the threshold "
                                            "recorded in the checkpoint's metadata, else the official 0.4)",
                                      bounds=(0.0, 1.0))
    K: int = option(500, "maximum detections per frame (top-K peaks)", bounds=(1, None))
    cache_dir: str | None = option(None, "cache detections + embeddings per sequence here (keyed by weights, options)")
    allow_random: bool = option(False, "run without weights on a randomly initialised network (tests only)")
    head_conv: int | None = option(None, "channels of the head convolutions (default: the checkpoint's, else 256)",
                                   bounds=(1, None))
    seed: int = option(0, "seed of a randomly initialised network")
    head: Literal["anchor_free", "anchor_based"] | None = option(
        None, "detection head (default: the checkpoint's metadata, else anchor_free)")
    nms_thres: float = option(0.4, "anchor-based head only: NMS IoU threshold (JDE's)", bounds=(0.0, 1.0))
    anchors: str | None = option(None, "anchor-based head only: JSON anchor config (default: the checkpoint's)")
    batch_size: int = option(1, "frames per forward pass", bounds=(1, None))


class FairMOTDetector(Detector):
    """FairMOT (DLA-34 by default) detections with 128-d L2-normalised re-ID embeddings."""

    name = "fairmot"
    needs_images = True
    provides_embeddings = True
    Options = FairMOTDetectorOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        self.bundled = False  # True: no weights given, the checkpoint shipped in the package runs
        if o.weights is None and not o.allow_random:
            from mot_bench.detectors.fairmot.checkpoint import bundled_checkpoint

            self.weights = str(bundled_checkpoint())
            self.bundled = True
            log.warning("fairmot: no weights given: using the bundled checkpoint %s (%s)", self.weights,
                        BUNDLED_DESCRIPTION)
        if o.head == "anchor_based" and self.weights is None:
            raise ValueError("fairmot: head=anchor_based needs weights trained with that head (mot-bench train)")
        if self.weights is not None and not Path(self.weights).is_file():
            raise FileNotFoundError(f"fairmot: weights file {self.weights} not found")
        # The network: from the checkpoint's metadata (mot-bench train) or the options and official defaults.
        from mot_bench.detectors.fairmot.checkpoint import checkpoint_meta, read_checkpoint, resolve_network

        self._state: dict | None = None
        meta = None
        if self.weights is not None:
            self._state, extra = read_checkpoint(self.weights)
            meta = checkpoint_meta(extra, str(self.weights))
        try:
            spec = resolve_network(self._state, meta, arch=o.arch, head_conv=o.head_conv, head=o.head,
                                   anchors=json.loads(o.anchors) if o.anchors else None, input_w=o.input_width,
                                   input_h=o.input_height, origin=str(self.weights))
        except ValueError as exc:
            hint = ("; no weights were given, so the bundled checkpoint runs: pass weights=PATH for another, or "
                    "allow_random=true for a randomly initialised network (tests only)") if self.bundled else ""
            raise ValueError(f"fairmot: {exc}{hint}") from None
        if spec.input_w % 32 or spec.input_h % 32:
            raise ValueError(f"fairmot: input size must be a multiple of 32, got {spec.input_w}x{spec.input_h}")
        # Resolved values (the options may leave them to the checkpoint) shadow the options' None.
        self.spec = spec
        # A checkpoint may carry the threshold chosen for it on held-out frames (the bundled one does).
        self.conf_thres = float(o.conf_thres if o.conf_thres is not None else (meta or {}).get("conf_thres", 0.4))
        self.arch = spec.arch
        self.input_width = spec.input_w
        self.input_height = spec.input_h
        self.head_conv = spec.head_conv
        self.head = spec.head
        self.down_ratio = spec.down_ratio
        self.cache_dir = Path(o.cache_dir) if o.cache_dir else None
        # anchor-based head: the anchor layout (JSON), explicit or from the checkpoint's metadata
        self.anchors_json = json.dumps(spec.anchors, sort_keys=True) if spec.anchors else None
        self._anchor_cfg = None
        self._model: torch.nn.Module | None = None
        self._model_runtime = None  # the runtime the network was built for
        self._weights_hash: str | None = None
        self._seq: SeqInfo | None = None
        self._replay: dict[int, Detections] | None = None
        self._record: dict[int, Detections] | None = None
        self._cache_path: Path | None = None
        self._seen: set[int] = set()
        self._seq_frames: range = range(0)
        self.network_calls = 0  # frames that went through the network (tests check the cache with it)

    @property
    def dcn(self) -> str:
        """The deformable-convolution backend: ``auto`` is torchvision's kernel on CUDA, ours elsewhere."""
        if self.options.dcn != "auto":
            return self.options.dcn
        return "torchvision" if self.runtime.is_cuda else "fast"

    # ------------------------------------------------------------------ model and weights hash

    def _state_and_hash(self) -> tuple[dict | None, str]:
        from mot_bench.detectors.fairmot.checkpoint import read_checkpoint
        from mot_bench.detectors.weights import weights_hash

        if self.weights is None:
            return None, f"random-seed{self.seed}-{self.arch}-hc{self.head_conv}"
        state = self._state if self._state is not None else read_checkpoint(self.weights)[0]
        return state, weights_hash(state)

    @property
    def weights_hash(self) -> str:
        """sha256 of the checkpoint tensors (read once; the model itself is built only when needed)."""
        if self._weights_hash is None:
            self._state, self._weights_hash = self._state_and_hash()
        return self._weights_hash

    def _ensure_model(self) -> torch.nn.Module:
        if self._model is not None:
            if self._model_runtime != self.runtime:
                raise ValueError(f"fairmot: the runtime changed after the network was built for "
                                 f"{self._model_runtime}; set detector.runtime before the first frame")
            return self._model
        runtime = self.runtime
        from mot_bench.detectors.fairmot import build_from_spec
        from mot_bench.detectors.fairmot.checkpoint import load_state_dict

        digest = self.weights_hash
        state, self._state = self._state, None
        if state is None:
            log.warning(
                "fairmot: RANDOM WEIGHTS (allow_random=true, seed %d): detections are meaningless", self.seed
            )
            torch.manual_seed(self.seed)
            model = build_from_spec(self.spec, self.dcn)
        elif self.head == "anchor_based":
            from mot_bench.detectors.fairmot.anchor_head import AnchorConfig

            self._anchor_cfg = AnchorConfig.from_dict({**(self.spec.anchors or {}), "down_ratio": self.down_ratio})
            model = build_from_spec(self.spec, self.dcn)
            load_state_dict(model, state, strict=True, origin=f"{self.weights} (arch {self.arch}, anchor head)")
        else:
            model = build_from_spec(self.spec, self.dcn)
            load_state_dict(model, state, strict=True, origin=f"{self.weights} (arch {self.arch})")
        model = model.to(runtime.device).eval()
        if runtime.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._model, self._model_runtime = model, runtime
        log.info("fairmot: %s weights %s (sha256 %s), dcn %s", self.arch, self.weights, digest[:16], self.dcn)
        return model

    # ------------------------------------------------------------------------------ the cache

    def _config_hash(self) -> str:
        keys = {k: v for k, v in self.config().items() if k in self._OUTPUT_KEYS}
        return hashlib.sha256(json.dumps(keys, sort_keys=True).encode()).hexdigest()[:16]

    # What changes the detections. The DCN backend, the device and the memory layout are left out on
    # purpose: the backends agree to float32 rounding (tests/test_dcn.py), so a cache made on a GPU
    # replays on CPU. Precision is in: float16 detections differ.
    _OUTPUT_KEYS = ("arch", "input_width", "input_height", "conf_thres", "K", "precision", "head_conv", "head",
                    "nms_thres", "anchors")

    def cache_path(self, seq: SeqInfo) -> Path:
        assert self.cache_dir is not None
        frames = f"{seq.first_frame}-{seq.last_frame}"
        return self.cache_dir / f"{seq.name}_f{frames}_w{self.weights_hash[:16]}_c{self._config_hash()}.npy"

    def _flush_cache(self) -> None:
        """Write the recorded sequence once every frame of its range went through the network."""
        if self._record is None or self._seq is None or self._cache_path is None:
            return
        if len(self._seen) == self._seq.num_frames:
            from mot_bench.detectors.precomputed import save_npy

            save_npy(self._cache_path, self._record)
            log.info("fairmot: cached %s detections in %s", self._seq.name, self._cache_path)
            self._record = None

    # ------------------------------------------------------------------------------ interface

    def reset(self, seq: SeqInfo) -> None:
        self._seq = seq
        self._seq_frames = seq.frame_ids
        self._seen = set()
        self._replay = None
        self._record = None
        self._cache_path = None
        if self.cache_dir is not None:
            self._cache_path = self.cache_path(seq)
            if self._cache_path.is_file():
                from mot_bench.detectors.precomputed import load_npy

                self._replay = load_npy(self._cache_path)
                log.info("fairmot: replaying cached detections %s", self._cache_path)
            else:
                self._record = {}

    def __call__(self, frame: Frame) -> Detections:
        return self.detect_frames([frame])[0]

    def detect_frames(self, frames: list[Frame]) -> list[Detections]:
        """Several frames through one forward pass (``batch_size``); cached frames are replayed."""
        if self._replay is not None:
            with self.timer.stage("postprocess"):
                return [self._replay.get(f.frame_id) or Detections.empty(EMBEDDING_DIM) for f in frames]
        for f in frames:
            if f.image is None:
                raise ValueError(f"fairmot: frame {f.frame_id} of {f.seq.name} has no image")
        dets = self.detect_images([f.image for f in frames])
        if self._record is not None:
            for f, d in zip(frames, dets, strict=True):
                if f.frame_id in self._seq_frames:
                    self._record[f.frame_id] = d
                    self._seen.add(f.frame_id)
            self._flush_cache()
        return dets

    def detect(self, image_bgr: np.ndarray) -> Detections:
        """One BGR uint8 image -> Detections in its pixels (no cache involved)."""
        return self.detect_images([image_bgr])[0]

    def detect_images(self, images: list[np.ndarray]) -> list[Detections]:
        """BGR uint8 images (any sizes) -> Detections in each image's pixels, one forward pass."""
        from mot_bench.detectors.fairmot.decode import decode_outputs, make_meta
        from mot_bench.detectors.fairmot.preprocess import preprocess

        model = self._ensure_model()
        runtime = self._model_runtime
        with self.timer.stage("preprocess"):
            blob = torch.from_numpy(
                np.stack([preprocess(im, self.input_width, self.input_height) for im in images])
            ).to(runtime.device, non_blocking=True)
            if runtime.channels_last:
                blob = blob.contiguous(memory_format=torch.channels_last)
        with self.timer.stage("model"), torch.inference_mode(), runtime.autocast():
            out = model(blob)
        self.network_calls += len(images)
        results = []
        with self.timer.stage("postprocess"):
            for i, image_bgr in enumerate(images):
                one = {k: v[i : i + 1] for k, v in out.items()}
                h, w = image_bgr.shape[:2]
                if self.head == "anchor_based":
                    from mot_bench.detectors.fairmot.anchor_head import decode_anchor_based_to_image

                    tlbr, scores, emb = decode_anchor_based_to_image(
                        one, self._anchor_cfg, w, h, self.input_width, self.input_height, self.conf_thres,
                        self.nms_thres, self.K)
                else:
                    meta = make_meta(w, h, self.input_width, self.input_height, self.down_ratio)
                    tlbr, scores, emb = decode_outputs(one, meta, self.conf_thres, self.K,
                                                       ltrb=one["wh"].shape[1] == 4)
                results.append(Detections(tlbr, scores, emb))
        return results

    def config(self) -> dict:
        cfg = super().config()
        if self.head != "anchor_based":  # anchor-head options; left out so anchor-free cache keys stay as they were
            del cfg["nms_thres"], cfg["anchors"]
        return {
            **cfg,
            "weights": None if self.weights is None else os.path.abspath(self.weights),
            "weights_hash": self.weights_hash,
            **({"bundled_weights": BUNDLED_DESCRIPTION} if self.bundled else {}),
            "random_weights": self.weights is None,
            "arch": self.arch,
            "dcn": self.dcn,
            "head_conv": self.head_conv,
            "device": self.runtime.device,
            "input_width": self.input_width,
            "input_height": self.input_height,
            "conf_thres": self.conf_thres,
            "precision": self.runtime.precision,
            "channels_last": self.runtime.channels_last,
            "cache_dir": None if self.cache_dir is None else str(self.cache_dir),
            "head": self.head,
            **({"anchors": self.anchors_json} if self.head == "anchor_based" else {}),
            **({"WARNING": "randomly initialised network, detections are meaningless"} if self.weights is None else {}),
        }
