"""Training data straight from MOTChallenge folders, with JDE/FairMOT's augmentation.

What the official pipeline does in two steps (``gen_labels_*.py`` writing label files, then
``JointDataset`` reading them) happens here in one:

- boxes: MOT16/17/20 gt rows with consider flag 1 and class 1 (pedestrian); MOT15 gt rows whose
  'active' flag (column 7) is non-zero. No visibility filter (gen_labels_16.py has none).
- identities: numbered 1..N per dataset over all its sequences (track ids made unique per
  (sequence, id)), then offset by the identity counts of the datasets before it; nID is the total
  plus one, exactly as JointDataset counts (max label + 1 per dataset, + 1).
- augmentation (train): HSV saturation/value jitter (fraction 0.5), letterbox to the input size,
  random affine (degrees +-5, translate 0.1, scale 0.5-1.2 or the training's ``aug_scale``, shear +-2),
  horizontal flip p=0.5.
- image tensor: RGB, float in [0, 1] (ToTensor), no mean/std, as the official loader.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from mot_bench.data.gt import pedestrian_rows
from mot_bench.data.sequences import DataError, find_sequences
from mot_bench.detectors.fairmot.training.targets import MAX_OBJS, build_targets
from mot_bench.types import SeqInfo

BORDER = (127.5, 127.5, 127.5)


# ----------------------------------------------------------------------------- boxes and identities
def training_rows(seq: SeqInfo, benchmark: str | None = None) -> np.ndarray:
    """The gt rows of ``seq`` that the official label generation keeps (all frames): the kit's
    pedestrians (``mot_bench.data.gt``), which is what ``gen_labels_15/16.py`` keep too."""
    if not seq.gt_path.is_file():
        raise DataError(f"{seq.gt_path}: training needs ground truth, file not found")
    return pedestrian_rows(seq, benchmark)


@dataclass
class Sample:
    """One training image: its path and boxes (x1, y1, x2, y2 in original pixels) with global ids."""

    image: Path
    width: int
    height: int
    boxes: np.ndarray  # (N, 4) float64
    ids: np.ndarray  # (N,) int64, global identity


def collect_samples(
    datasets: list[dict],
) -> tuple[list[Sample], int, list[dict]]:
    """Build the sample list from dataset specs.

    Each spec: ``{"root": path, "benchmark": name|None, "split": "train"|"half-train", "seqs": [...]|None,
    "every": n}`` (``every``: keep every n-th frame of the split, for quick CPU runs; identities still
    count over all frames).
    Returns (samples, nID, per-dataset summary).
    """
    samples: list[Sample] = []
    start = 0
    summary = []
    for spec in datasets:
        split = spec.get("split", "train")
        if split not in ("train", "half-train", "half-val"):
            raise DataError(
                f"dataset {spec.get('root')}: training split must be train/half-train/half-val, got {split!r}"
            )
        seqs = find_sequences(spec["root"], spec.get("benchmark"), split, spec.get("seqs"))
        id_map: dict[tuple[str, int], int] = {}
        per_seq = []
        for seq in seqs:
            rows = training_rows(seq, spec.get("benchmark"))
            order = np.lexsort((rows[:, 0], rows[:, 1]))  # by track id, then frame (as gen_labels_15)
            rows = rows[order]
            for tid in rows[:, 1].astype(np.int64):
                key = (seq.name, int(tid))
                if key not in id_map:
                    id_map[key] = len(id_map) + 1
            per_seq.append((seq, rows))
        n_ids = len(id_map) + 1  # JointDataset: max label + 1
        count = 0
        for seq, rows in per_seq:
            if not seq.width or not seq.height:
                raise DataError(f"{seq.path}: image size unknown (seqinfo.ini lacks imWidth/imHeight)")
            frames = rows[:, 0].astype(np.int64)
            every = int(spec.get("every", 1))
            if every < 1:
                raise DataError(f"dataset {spec['root']}: 'every' must be >= 1, got {every}")
            for fid in list(seq.frame_ids)[::every]:
                img = seq.image_path(fid)
                if not img.is_file():
                    raise DataError(f"{img}: image listed by {seq.path / 'seqinfo.ini'} not found")
                r = rows[frames == fid]
                boxes = np.stack([r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]], 1) if len(r) else \
                    np.zeros((0, 4))
                gids = np.array([id_map[(seq.name, int(t))] + start for t in r[:, 1]], np.int64)
                samples.append(Sample(img, seq.width, seq.height, boxes, gids))
                count += 1
        summary.append({"root": str(spec["root"]), "split": split, "sequences": [s.name for s in seqs],
                        "images": count, "identities": len(id_map), "id_offset": start})
        start += n_ids
    return samples, start + 1, summary


# ----------------------------------------------------------------------------- augmentation
def letterbox(img: np.ndarray, height: int, width: int) -> tuple[np.ndarray, float, float, float]:
    """The inference letterbox (same rounding and grey border); returns (image, ratio, pad_w, pad_h)."""
    from mot_bench.detectors.fairmot.preprocess import letterbox as _letterbox

    out, lb = _letterbox(img, height=height, width=width)
    return out, lb.ratio, lb.dw, lb.dh


def hsv_jitter(img: np.ndarray, rng: random.Random, fraction: float = 0.5) -> np.ndarray:
    """Scale saturation and value by factors in [1-fraction, 1+fraction] (clipped when brightening)."""
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    for ch in (1, 2):
        c = hsv[:, :, ch].astype(np.float32)
        a = (rng.random() * 2 - 1) * fraction + 1
        c *= a
        if a > 1:
            np.clip(c, 0, 255, out=c)
        hsv[:, :, ch] = c.astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)


def random_affine(
    img: np.ndarray,
    boxes: np.ndarray,
    rng: random.Random,
    degrees: tuple[float, float] = (-5, 5),
    translate: tuple[float, float] = (0.10, 0.10),
    scale: tuple[float, float] = (0.50, 1.20),
    shear: tuple[float, float] = (-2, 2),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """JDE's random rotation/scale/translation/shear; returns (image, boxes xyxy, kept mask).

    Warped boxes are the axis-aligned hull of the corners shrunk by the rotation factor; boxes that
    become tiny (<=4 px), lose >90% of their area or get an aspect ratio >= 10 are dropped.
    As JDE, the x translation is drawn relative to the image height and y to the width.
    """
    height, width = img.shape[:2]
    a = rng.random() * (degrees[1] - degrees[0]) + degrees[0]
    s = rng.random() * (scale[1] - scale[0]) + scale[0]
    R = np.eye(3)
    R[:2] = cv2.getRotationMatrix2D(angle=a, center=(width / 2, height / 2), scale=s)
    T = np.eye(3)
    T[0, 2] = (rng.random() * 2 - 1) * translate[0] * height
    T[1, 2] = (rng.random() * 2 - 1) * translate[1] * width
    S = np.eye(3)
    S[0, 1] = math.tan((rng.random() * (shear[1] - shear[0]) + shear[0]) * math.pi / 180)
    S[1, 0] = math.tan((rng.random() * (shear[1] - shear[0]) + shear[0]) * math.pi / 180)
    M = S @ T @ R
    out = cv2.warpPerspective(img, M, dsize=(width, height), flags=cv2.INTER_LINEAR, borderValue=BORDER)
    n = len(boxes)
    if n == 0:
        return out, boxes.reshape(0, 4), np.zeros((0,), bool)
    area0 = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    xy = np.ones((n * 4, 3))
    xy[:, :2] = boxes[:, [0, 1, 2, 3, 0, 3, 2, 1]].reshape(n * 4, 2)
    xy = (xy @ M.T)[:, :2].reshape(n, 8)
    xs, ys = xy[:, [0, 2, 4, 6]], xy[:, [1, 3, 5, 7]]
    hull = np.stack([xs.min(1), ys.min(1), xs.max(1), ys.max(1)], 1)
    rad = a * math.pi / 180
    reduction = max(abs(math.sin(rad)), abs(math.cos(rad))) ** 0.5
    cx, cy = (hull[:, 0] + hull[:, 2]) / 2, (hull[:, 1] + hull[:, 3]) / 2
    w, h = (hull[:, 2] - hull[:, 0]) * reduction, (hull[:, 3] - hull[:, 1]) * reduction
    new = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
    area = w * h
    ar = np.maximum(w / (h + 1e-16), h / (w + 1e-16))
    keep = (w > 4) & (h > 4) & (area / (area0 + 1e-16) > 0.1) & (ar < 10)
    return out, new[keep], keep


def load_sample(
    sample: Sample, height: int, width: int, augment: bool, rng: random.Random,
    aug_scale: tuple[float, float] = (0.50, 1.20),
) -> tuple[np.ndarray, np.ndarray]:
    """Read, augment and letterbox one image. Returns (BGR image (height, width, 3), labels (N, 6)
    as class, id, cx, cy, w, h normalised to the input)."""
    img = cv2.imread(str(sample.image))
    if img is None:
        raise DataError(f"{sample.image}: cannot be read as an image")
    if augment:
        img = hsv_jitter(img, rng)
    h0, w0 = img.shape[:2]
    img, ratio, padw, padh = letterbox(img, height, width)
    boxes = sample.boxes * ratio + np.array([padw, padh, padw, padh])
    ids = sample.ids
    if augment:
        img, boxes, keep = random_affine(img, boxes, rng, scale=aug_scale)
        ids = ids[keep]
    # Official: boxes are only clipped through the centre clip in the target builder; we also clip
    # hull corners to the image so a box half outside keeps its visible extent.
    boxes = boxes.copy()
    if len(boxes):
        boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, width)
        boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, height)
        ok = (boxes[:, 2] - boxes[:, 0] > 1) & (boxes[:, 3] - boxes[:, 1] > 1)
        boxes, ids = boxes[ok], ids[ok]
    labels = np.zeros((len(boxes), 6), np.float64)
    if len(boxes):
        labels[:, 1] = ids
        labels[:, 2] = (boxes[:, 0] + boxes[:, 2]) / 2 / width
        labels[:, 3] = (boxes[:, 1] + boxes[:, 3]) / 2 / height
        labels[:, 4] = (boxes[:, 2] - boxes[:, 0]) / width
        labels[:, 5] = (boxes[:, 3] - boxes[:, 1]) / height
    if augment and rng.random() > 0.5:
        img = np.ascontiguousarray(np.fliplr(img))
        if len(labels):
            labels[:, 2] = 1 - labels[:, 2]
    return img, labels


def to_tensor(img_bgr: np.ndarray) -> torch.Tensor:
    """BGR uint8 (H, W, 3) -> RGB float (3, H, W) in [0, 1], as FairMOT's loader."""
    rgb = np.ascontiguousarray(img_bgr[:, :, ::-1])
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div_(255.0)


class JointDataset(Dataset):
    """MOTChallenge sequences -> (image tensor, targets) for FairMOT or the anchor-based head."""

    def __init__(self, datasets: list[dict], input_w: int = 1088, input_h: int = 608, down_ratio: int = 4,
                 augment: bool = True, max_objs: int = MAX_OBJS, seed: int = 0, target_fn=None,
                 aug_scale: tuple[float, float] = (0.50, 1.20)) -> None:
        if input_w % (down_ratio * 8) or input_h % (down_ratio * 8):
            raise ValueError(f"input size {input_w}x{input_h} must be a multiple of {down_ratio * 8}")
        self.samples, self.num_ids, self.summary = collect_samples(datasets)
        if not self.samples:
            raise DataError(f"no training images found in {datasets}")
        self.input_w, self.input_h, self.down_ratio = input_w, input_h, down_ratio
        self.augment, self.max_objs, self.seed, self.aug_scale = augment, max_objs, seed, aug_scale
        self.epoch = 0
        self.target_fn = target_fn

    def set_epoch(self, epoch: int) -> None:
        """Augmentation draws depend on (seed, epoch, index) only, so runs repeat with any worker count."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        rng = random.Random(hash((self.seed, self.epoch, index)) & 0xFFFFFFFF)
        img, labels = load_sample(self.samples[index], self.input_h, self.input_w, self.augment, rng,
                                  self.aug_scale)
        out_w, out_h = self.input_w // self.down_ratio, self.input_h // self.down_ratio
        item: dict[str, torch.Tensor] = {"input": to_tensor(img)}
        if self.target_fn is not None:
            targets = self.target_fn(labels, self.input_w, self.input_h)
        else:
            targets = build_targets(labels, out_w, out_h, self.max_objs)
        for k, v in targets.items():
            item[k] = torch.from_numpy(np.asarray(v))
        return item
