"""CenterNet/FairMOT training targets: Gaussian heatmap, ltrb sizes, centre offsets, index/mask, ids.

Follows FairMOT's ``JointDataset.__getitem__`` (src/lib/datasets/dataset/jde.py): boxes arrive as
normalised centre-xywh, are scaled to the output map, the centre is clipped into the map, the
Gaussian radius comes from CenterNet's ``gaussian_radius`` (min_overlap 0.7, including its
well-known quadratic quirk, kept because the published models were trained with it), and the size
target is the distance from the (clipped) centre to the unclipped ("amodal") box edges.
"""

from __future__ import annotations

import math

import numpy as np

MAX_OBJS = 500  # FairMOT opt.K


def gaussian_radius(det_size: tuple[float, float], min_overlap: float = 0.7) -> float:
    """CenterNet's radius rule: the smallest of three quadratic roots for a (height, width) box."""
    height, width = det_size
    b1 = height + width
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    r1 = (b1 + math.sqrt(b1**2 - 4 * c1)) / 2
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    r2 = (b2 + math.sqrt(b2**2 - 16 * c2)) / 2
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    r3 = (b3 + math.sqrt(b3**2 - 4 * a3 * c3)) / 2
    return min(r1, r2, r3)


def gaussian_2d(shape: tuple[int, int], sigma: float = 1.0) -> np.ndarray:
    """An unnormalised Gaussian whose centre value is exactly 1 (so the peak marks a positive)."""
    m, n = ((s - 1.0) / 2.0 for s in shape)
    y, x = np.ogrid[-m : m + 1, -n : n + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return h


def draw_umich_gaussian(heatmap: np.ndarray, center: tuple[int, int], radius: int) -> np.ndarray:
    """Max-splat a Gaussian of ``radius`` at integer ``center`` (x, y) into ``heatmap`` in place."""
    diameter = 2 * radius + 1
    gaussian = gaussian_2d((diameter, diameter), sigma=diameter / 6)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    masked_heatmap = heatmap[y - top : y + bottom, x - left : x + right]
    masked_gaussian = gaussian[radius - top : radius + bottom, radius - left : radius + right]
    if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
        np.maximum(masked_heatmap, masked_gaussian, out=masked_heatmap)
    return heatmap


def build_targets(
    labels: np.ndarray,
    output_w: int,
    output_h: int,
    max_objs: int = MAX_OBJS,
    num_classes: int = 1,
    ltrb: bool = True,
) -> dict[str, np.ndarray]:
    """Targets for one image.

    ``labels`` is (N, 6): class, identity (-1 = none), cx, cy, w, h normalised to [0, 1] of the
    network input. Objects past ``max_objs`` are dropped (as the official loader does).
    """
    hm = np.zeros((num_classes, output_h, output_w), np.float32)
    wh = np.zeros((max_objs, 4 if ltrb else 2), np.float32)
    reg = np.zeros((max_objs, 2), np.float32)
    ind = np.zeros((max_objs,), np.int64)
    reg_mask = np.zeros((max_objs,), np.uint8)
    ids = np.zeros((max_objs,), np.int64)
    bbox_xys = np.zeros((max_objs, 4), np.float32)
    labels = np.asarray(labels, np.float64).reshape(-1, 6)
    for k in range(min(len(labels), max_objs)):
        cls_id = int(labels[k, 0])
        cx, cy = labels[k, 2] * output_w, labels[k, 3] * output_h
        w, h = labels[k, 4] * output_w, labels[k, 5] * output_h
        amodal = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])
        cx = float(np.clip(cx, 0, output_w - 1))
        cy = float(np.clip(cy, 0, output_h - 1))
        if h <= 0 or w <= 0:
            continue
        radius = max(0, int(gaussian_radius((math.ceil(h), math.ceil(w)))))
        ct = np.array([cx, cy], np.float32)
        ct_int = ct.astype(np.int32)
        draw_umich_gaussian(hm[cls_id], (int(ct_int[0]), int(ct_int[1])), radius)
        if ltrb:
            wh[k] = ct[0] - amodal[0], ct[1] - amodal[1], amodal[2] - ct[0], amodal[3] - ct[1]
        else:
            wh[k] = w, h
        ind[k] = int(ct_int[1]) * output_w + int(ct_int[0])
        reg[k] = ct - ct_int
        reg_mask[k] = 1
        ids[k] = int(labels[k, 1])
        bbox_xys[k] = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
    return {"hm": hm, "wh": wh, "reg": reg, "ind": ind, "reg_mask": reg_mask, "ids": ids, "bbox": bbox_xys}
