"""FairMOT's input: the JDE letterbox (``LoadImages`` in ``datasets/dataset/jde.py``).

Resize keeping the aspect ratio with ``cv2.INTER_AREA`` so the image fits (width, height), pad with
grey 127.5 split around it (the odd pixel goes to the bottom/right), BGR -> RGB, scale to [0, 1],
float32 CHW. No mean/std normalisation: FairMOT's tracker feeds the letterboxed image as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAD_COLOR = (127.5, 127.5, 127.5)


@dataclass(frozen=True)
class Letterbox:
    """Where the original image went: scale ``ratio`` then padding (``dw``, ``dh`` per side, float)."""

    ratio: float
    dw: float
    dh: float
    width: int
    height: int


def letterbox(
    img: np.ndarray, height: int = 608, width: int = 1088, color: tuple[float, float, float] = PAD_COLOR
) -> tuple[np.ndarray, Letterbox]:
    """Resize and pad ``img`` (H, W, C) to (height, width), the JDE way, rounding included."""
    if img.ndim != 3:
        raise ValueError(f"letterbox: expected an (H, W, 3) image, got shape {img.shape}")
    shape = img.shape[:2]
    ratio = min(float(height) / shape[0], float(width) / shape[1])
    new_w, new_h = round(shape[1] * ratio), round(shape[0] * ratio)
    dw = (width - new_w) / 2
    dh = (height - new_h) / 2
    top, bottom = round(dh - 0.1), round(dh + 0.1)
    left, right = round(dw - 0.1), round(dw + 0.1)
    out = cv2.resize(img, (new_w, new_h), interpolation=cv2.INTER_AREA)
    out = cv2.copyMakeBorder(out, top, bottom, left, right, cv2.BORDER_CONSTANT, value=color)
    return out, Letterbox(ratio, dw, dh, width, height)


def preprocess(img_bgr: np.ndarray, width: int = 1088, height: int = 608) -> np.ndarray:
    """BGR uint8 (H, W, 3) -> float32 (3, height, width): letterboxed, RGB, / 255."""
    if img_bgr is None or img_bgr.ndim != 3 or img_bgr.shape[2] != 3:
        shape = None if img_bgr is None else img_bgr.shape
        raise ValueError(f"FairMOT preprocess: expected a BGR image of shape (H, W, 3), got {shape}")
    if width % 32 or height % 32:
        raise ValueError(f"FairMOT input size must be a multiple of 32, got {width}x{height}")
    img, _ = letterbox(img_bgr, height=height, width=width)
    img = img[:, :, ::-1].transpose(2, 0, 1)
    img = np.ascontiguousarray(img, dtype=np.float32)
    img /= 255.0
    return img
