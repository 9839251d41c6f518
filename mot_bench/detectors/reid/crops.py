"""Boxes -> the re-ID network's input: crop, resize, RGB, ImageNet normalisation, batch.

As BoxMOT and torchreid's ``FeatureExtractor`` prepare their inputs: each box is rounded to whole
pixels, clipped to the image, cut out of the BGR frame and resized to (height, width) = (256, 128) with
bilinear interpolation (``cv2.INTER_LINEAR``); the batch is converted to RGB, scaled to [0, 1] and
normalised with the ImageNet mean and std on the network's device (uint8 travels, not float32).

A box partly outside the image keeps its inside part. A box with no pixel inside the image (or a
degenerate one) becomes the 1-pixel strip of the image border nearest to it, so every detection
gets an embedding and the rows stay aligned with the boxes.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
DEFAULT_SIZE = (256, 128)  # (height, width), as every published OSNet/BoT model was trained


def clip_boxes(tlbr: np.ndarray, width: int, height: int) -> np.ndarray:
    """Integer (x1, y1, x2, y2) pixel ranges inside the image, each at least 1 pixel wide and high."""
    b = np.round(np.asarray(tlbr, dtype=np.float64).reshape(-1, 4))
    x1 = np.clip(b[:, 0], 0, width - 1)
    y1 = np.clip(b[:, 1], 0, height - 1)
    x2 = np.clip(np.maximum(b[:, 2], x1 + 1), 1, width)
    y2 = np.clip(np.maximum(b[:, 3], y1 + 1), 1, height)
    return np.stack([x1, y1, x2, y2], axis=1).astype(np.int64)


def crop_boxes(image_bgr: np.ndarray, tlbr: np.ndarray, size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """(N, H, W, 3) uint8 BGR crops of ``tlbr`` boxes, each resized to ``size`` = (height, width)."""
    h, w = int(size[0]), int(size[1])
    if image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(f"expected an (H, W, 3) BGR image, got shape {image_bgr.shape}")
    boxes = clip_boxes(tlbr, image_bgr.shape[1], image_bgr.shape[0])
    out = np.empty((len(boxes), h, w, 3), np.uint8)
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        out[i] = cv2.resize(image_bgr[y1:y2, x1:x2], (w, h), interpolation=cv2.INTER_LINEAR)
    return out


def to_tensor(crops_bgr: np.ndarray, device: str | torch.device = "cpu", channels_last: bool = False) -> torch.Tensor:
    """(N, H, W, 3) uint8 BGR -> (N, 3, H, W) float32 RGB, ImageNet-normalised, on ``device``."""
    x = torch.from_numpy(np.ascontiguousarray(crops_bgr)).to(device, non_blocking=True)
    x = x.flip(-1).permute(0, 3, 1, 2).float().div_(255.0)  # BGR -> RGB, NHWC -> NCHW
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    x = (x - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()
