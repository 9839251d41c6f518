"""The ``reid`` detector: any detector's boxes, with embeddings from a re-ID network (its own ``reid`` stage).

Per frame (or batch of frames): the base detector runs as it would alone (its stages timed as its
own: ``preprocess``/``model``/``postprocess``), then its boxes are cropped from the frame and embedded
(:class:`mot_bench.detectors.reid.embedder.Embedder`), timed under the ``reid`` stage. Boxes, scores and
classes are the base detector's; embeddings (L2-normalised) replace any the base had.

The base detector is built by name through :meth:`mot_bench.plugins.Detector.compose` (the runner hands
a factory; plugins never import the registry), with its options given as ``base.KEY=VALUE`` (or
``base_options`` as JSON); ``det_dir`` (``--det-dir``) is passed on to it. Outside the runner:
``ReIDDetector.wrap(PublicDetector(), model=..., weights=...)``.

Cache: with ``cache_dir``, the first complete pass over a sequence writes its boxes, scores and
embeddings in the deep_sort convention (``mot_bench.detectors.precomputed.save_npy``) to a file keyed by the
sequence, its frame range, a hash of the base detector's configuration, the re-ID model, the weights'
hash, the crop size and the precision. Later runs with the same key replay that file (timed as
``reid``): neither the base detector nor the network runs. The key covers the base detector's
options, not the files it reads: delete the cache after editing a detection file in place. What a
first run hands the trackers is exactly what its replay will (boxes go through the file's
tlwh layout and dtype), so a cached run gives the same results.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from mot_bench.options import option
from mot_bench.plugins import Detector
from mot_bench.runtime import Runtime
from mot_bench.timing import NullTimer, StageTimer
from mot_bench.types import Detections, Frame, SeqInfo

log = logging.getLogger(__name__)

ReIDModel = Literal["osnet_x0_25", "osnet_x0_5", "osnet_x0_75", "osnet_x1_0", "bot_r50"]
# Base-detector config entries that do not change its boxes: left out of the cache key.
# loose_det_dir: always unset for a base here (refused in _attach), left out so caches made before it existed match
_NOT_OUTPUT = frozenset({"device", "channels_last", "threads", "cache_dir", "dcn", "loose_det_dir"})


@dataclass
class ReIDOptions:
    PREFIXED: ClassVar[dict[str, str]] = {"base": "base_options"}

    base: str = option("public", "the detector whose boxes get embeddings (any detector but reid)")
    base_options: dict[str, Any] = option({}, "the base detector's options as a JSON object; or give each as "
                                              "base.KEY=VALUE (e.g. base.min_score=0.3)")
    det_dir: str | None = option(None, "passed on to the base detector as its det_dir (what --det-dir sets)")
    model: ReIDModel = option("osnet_x0_25", "re-ID network: OSNet (torchreid naming) or bot_r50 "
                                             "(reid-strong-baseline naming)")
    weights: str | None = option(None, "re-ID weights file (state dict; e.g. torchreid's osnet_x0_25_msmt17.pth)")
    allow_random: bool = option(False, "run without weights on a seeded random network (tests only)")
    seed: int = option(0, "seed of a random network")
    crop_height: int = option(256, "crop height fed to the network (the published models: 256)", bounds=(8, None))
    crop_width: int = option(128, "crop width fed to the network (the published models: 128)", bounds=(8, None))
    crop_batch: int = option(64, "crops per forward pass (across the frames of a batch)", bounds=(1, None))
    cache_dir: str | None = option(None, "cache boxes + embeddings per sequence here (keyed by base config, "
                                         "model, weights hash, crop size, precision)")


class ReIDDetector(Detector):
    """A base detector's boxes with OSNet/BoT embeddings."""

    name = "reid"
    needs_images = True
    provides_embeddings = True
    Options = ReIDOptions

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        o = self.options
        if o.base == self.name:
            raise ValueError("reid: base=reid would embed the boxes twice; choose the detector whose boxes to embed")
        base_opts = dict(o.base_options)
        if o.det_dir is not None:
            base_opts.setdefault("det_dir", o.det_dir)
        self.base_options = base_opts
        if o.weights is not None and not Path(o.weights).is_file():
            raise FileNotFoundError(f"reid: weights file {o.weights} not found")
        from mot_bench.detectors.reid.embedder import Embedder

        self.embedder = Embedder(o.model, o.weights, allow_random=o.allow_random, seed=o.seed,
                                 size=(o.crop_height, o.crop_width), crop_batch=o.crop_batch)
        self.cache_dir = Path(o.cache_dir) if o.cache_dir else None
        self._base: Detector | None = None
        self._seq: SeqInfo | None = None
        self._replay: dict[int, Detections] | None = None
        self._record: dict[int, Detections] | None = None
        self._cache_path: Path | None = None
        self._seen: set[int] = set()

    @classmethod
    def wrap(cls, base: Detector, **options: Any) -> ReIDDetector:
        """A reid detector around a ready ``base`` (outside the runner); ``options`` are reid's own."""
        det = cls(base=getattr(base, "name", "base"), **options)
        det._attach(base)
        return det

    # ----------------------------------------------------------------- composition, runtime, timer

    def compose(self, make_detector: Callable[[str, dict[str, Any]], Detector]) -> None:
        self._attach(make_detector(self.options.base, self.base_options))

    def _attach(self, base: Detector) -> None:
        if getattr(base, "loose_det_dir", None) is not None:
            # its boxes would reach the trackers without embeddings (and the cache holds one set): refuse
            raise ValueError("reid: the base detector's looser-NMS set (loose_det_dir) is not embedded by the reid "
                             "stage; give both runs embeddings with the precomputed detector and its loose_det_dir")
        self._base = base
        base.runtime = self.runtime
        base.timer = self.timer
        if getattr(base, "provides_embeddings", False):
            log.info("reid: base detector %r has embeddings of its own; the re-ID model's replace them", base.name)

    @property
    def base_detector(self) -> Detector:
        if self._base is None:
            raise RuntimeError(f"reid: no base detector yet ({self.options.base!r}); the runner builds it through "
                               "compose(), outside the runner use ReIDDetector.wrap(base, ...)")
        return self._base

    @property
    def runtime(self) -> Runtime:  # type: ignore[override]
        return self.__dict__.get("_runtime", Detector.runtime)

    @runtime.setter
    def runtime(self, value: Runtime) -> None:
        self.__dict__["_runtime"] = value
        if "embedder" in self.__dict__:
            self.embedder.runtime = value
        if self.__dict__.get("_base") is not None:
            self._base.runtime = value

    @property
    def timer(self) -> StageTimer:  # type: ignore[override]
        return self.__dict__.get("_timer") or NullTimer()

    @timer.setter
    def timer(self, value: StageTimer) -> None:
        self.__dict__["_timer"] = value
        if self.__dict__.get("_base") is not None:
            self._base.timer = value

    @property
    def batch_size(self) -> int:  # type: ignore[override]
        base = self.__dict__.get("_base")
        return max(1, int(getattr(base, "batch_size", 1))) if base is not None else 1

    # ----------------------------------------------------------------------------------- cache

    def base_config_hash(self) -> str:
        cfg = {k: v for k, v in self.base_detector.config().items() if k not in _NOT_OUTPUT}
        return hashlib.sha256(json.dumps(cfg, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def cache_path(self, seq: SeqInfo) -> Path:
        assert self.cache_dir is not None
        e = self.embedder
        return self.cache_dir / (f"{seq.name}_f{seq.first_frame}-{seq.last_frame}_b{self.base_config_hash()}_"
                                 f"{e.name}_w{e.weights_hash[:16]}_c{e.size[0]}x{e.size[1]}_{self.runtime.precision}"
                                 ".npy")

    def _flush_cache(self) -> None:
        if self._record is None or self._seq is None or self._cache_path is None:
            return
        if len(self._seen) == self._seq.num_frames:
            from mot_bench.detectors.precomputed import save_npy

            save_npy(self._cache_path, self._record, dtype=_file_dtype(self._record.values()))
            log.info("reid: cached %s boxes and embeddings in %s", self._seq.name, self._cache_path)
            self._record = None

    # ------------------------------------------------------------------------------- interface

    def reset(self, seq: SeqInfo) -> None:
        self._seq, self._seen, self._replay, self._record, self._cache_path = seq, set(), None, None, None
        if self.cache_dir is not None:
            self._cache_path = self.cache_path(seq)
            if self._cache_path.is_file():
                from mot_bench.detectors.precomputed import load_npy

                self._replay = load_npy(self._cache_path)
                log.info("reid: replaying cached boxes and embeddings %s", self._cache_path)
                return
            self._record = {}
        self.base_detector.reset(seq)

    def __call__(self, frame: Frame) -> Detections:
        return self.detect_frames([frame])[0]

    def detect_frames(self, frames: list[Frame]) -> list[Detections]:
        if self._replay is not None:
            with self.timer.stage("reid"):
                return [self._replay.get(f.frame_id) or Detections.empty(self.embedder.dim) for f in frames]
        base = self.base_detector
        dets = base.detect_frames(frames) if len(frames) > 1 and hasattr(base, "detect_frames") else \
            [base(f) for f in frames]
        with self.timer.stage("reid"):
            for f in frames:
                if f.image is None:
                    raise ValueError(f"reid: frame {f.frame_id} of {f.seq.name} has no image to crop")
            embs = self.embedder.embed_frames([f.image for f in frames], [d.tlbr for d in dets])
            full = [Detections(d.tlbr, d.scores, e, d.classes) for d, e in zip(dets, embs, strict=True)]
            if self._record is not None:
                for f, d in zip(frames, full, strict=True):
                    if self._seq is not None and f.frame_id in self._seq.frame_ids:
                        self._record[f.frame_id] = d
                        self._seen.add(f.frame_id)
                self._flush_cache()
            # Always in the cache's layout, cache or not: a run gives the same results with and without it.
            return [as_cached(d) for d in full]

    def config(self) -> dict:
        cfg = super().config()
        e = self.embedder
        base = self.__dict__.get("_base")
        return {
            **cfg,
            "base_options": self.base_options,
            "base_config": base.config() if base is not None else None,
            "weights": None if self.weights is None else os.path.abspath(self.weights),
            "weights_hash": e.weights_hash,
            "random_weights": self.weights is None,
            "embedding_dim": e.dim,
            "precision": self.runtime.precision,
            "cache_dir": None if self.cache_dir is None else str(self.cache_dir),
            **({"WARNING": "randomly initialised re-ID network, embeddings are meaningless"}
               if self.weights is None else {}),
        }


def _file_dtype(dets) -> type:
    """float64 when the base detector's boxes are (read from text, as the official trackers see them)."""
    return np.float64 if any(d.tlbr.dtype == np.float64 for d in dets) else np.float32


def as_cached(d: Detections) -> Detections:
    """``d`` as the cache file gives it back (``save_npy`` then ``load_npy``: tlwh in the boxes' dtype, then
    tlbr; embeddings re-normalised in that dtype), computed the same way, so a first run and its replay hand
    the trackers identical arrays. Classes are not cached."""
    dtype = _file_dtype([d])
    if not len(d):
        return Detections.empty(None if d.embeddings is None else d.embeddings.shape[1])
    tlbr = d.tlwh.astype(dtype)
    tlbr[:, 2:] += tlbr[:, :2]
    emb = None
    if d.embeddings is not None:
        emb = d.embeddings.astype(dtype)
        emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return Detections(tlbr, d.scores.astype(dtype), emb)
