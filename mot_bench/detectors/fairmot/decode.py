"""From FairMOT head outputs to detections in original image pixels.

Follows the official tracker's step 1 (``JDETracker.update``): sigmoid heat map, L2-normalised id
map, ``mot_decode`` (3x3 max-pool NMS, top K peaks, ltrb boxes around the offset-corrected centre),
id features gathered at the peaks, ``ctdet_post_process`` (the inverse of the letterbox expressed as
an affine map from the output grid via centre ``c`` and scale ``s``), then ``score > conf_thres``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F


def _nms(heat: torch.Tensor, kernel: int = 3) -> torch.Tensor:
    """Keep only local maxima of the heat map (3x3 max-pool equality)."""
    hmax = F.max_pool2d(heat, (kernel, kernel), stride=1, padding=(kernel - 1) // 2)
    return heat * (hmax == heat).float()


def _gather(feat: torch.Tensor, inds: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) at flat spatial indices (B, K) -> (B, K, C)."""
    b, c = feat.shape[:2]
    flat = feat.reshape(b, c, -1)
    return flat.gather(2, inds.unsqueeze(1).expand(b, c, inds.shape[1])).permute(0, 2, 1)


def _topk(scores: torch.Tensor, K: int) -> tuple[torch.Tensor, ...]:
    """Top K over classes and positions (scores, flat index, class, y, x), as CenterNet's ``_topk``."""
    batch, cat, height, width = scores.shape
    k_scores, k_inds = torch.topk(scores.reshape(batch, cat, -1), K)
    k_inds = k_inds % (height * width)
    k_ys = torch.div(k_inds, width, rounding_mode="floor").float()
    k_xs = (k_inds % width).float()
    score, ind = torch.topk(k_scores.reshape(batch, -1), K)
    clses = torch.div(ind, K, rounding_mode="floor")
    inds = k_inds.reshape(batch, -1).gather(1, ind)
    ys = k_ys.reshape(batch, -1).gather(1, ind)
    xs = k_xs.reshape(batch, -1).gather(1, ind)
    return score, inds, clses, ys, xs


def mot_decode(
    heat: torch.Tensor, wh: torch.Tensor, reg: torch.Tensor | None = None, ltrb: bool = False, K: int = 100
) -> tuple[torch.Tensor, torch.Tensor]:
    """``heat`` already through sigmoid. Returns ((B, K, 6) x1 y1 x2 y2 score class on the output grid,
    (B, K) flat indices of the peaks)."""
    batch, _, height, width = heat.shape
    K = min(K, height * width)
    heat = _nms(heat)
    scores, inds, clses, ys, xs = _topk(heat, K)
    if reg is not None:
        r = _gather(reg, inds)
        xs = xs.view(batch, K, 1) + r[:, :, 0:1]
        ys = ys.view(batch, K, 1) + r[:, :, 1:2]
    else:
        xs = xs.view(batch, K, 1) + 0.5
        ys = ys.view(batch, K, 1) + 0.5
    w = _gather(wh, inds)
    if ltrb:
        boxes = torch.cat([xs - w[..., 0:1], ys - w[..., 1:2], xs + w[..., 2:3], ys + w[..., 3:4]], dim=2)
    else:
        boxes = torch.cat([xs - w[..., 0:1] / 2, ys - w[..., 1:2] / 2, xs + w[..., 0:1] / 2, ys + w[..., 1:2] / 2],
                          dim=2)  # fmt: skip
    dets = torch.cat([boxes, scores.view(batch, K, 1), clses.view(batch, K, 1).float()], dim=2)
    return dets, inds


# ----------------------------------------------------------------------- back to image pixels


@dataclass(frozen=True)
class Meta:
    """The official ``meta``: centre and scale of the original image, output grid size."""

    c: np.ndarray
    s: float
    out_height: int
    out_width: int


def make_meta(img_width: int, img_height: int, inp_width: int, inp_height: int, down_ratio: int = 4) -> Meta:
    c = np.array([img_width / 2.0, img_height / 2.0], dtype=np.float32)
    s = max(float(inp_width) / float(inp_height) * img_height, img_width) * 1.0
    return Meta(c, s, inp_height // down_ratio, inp_width // down_ratio)


def get_affine_transform(
    center: np.ndarray, scale: float, output_size: tuple[int, int], inv: bool = False
) -> np.ndarray:
    """CenterNet's affine between a ``scale``-wide square around ``center`` and the output grid
    (no rotation, no shift); built from three point pairs with ``cv2.getAffineTransform`` in float32
    as the original, so the numbers agree to the last bit that matters."""
    scale_arr = np.array([scale, scale], dtype=np.float32)
    src_w = scale_arr[0]
    dst_w, dst_h = output_size
    src_dir = np.array([0, src_w * -0.5], np.float32)
    dst_dir = np.array([0, dst_w * -0.5], np.float32)
    src = np.zeros((3, 2), dtype=np.float32)
    dst = np.zeros((3, 2), dtype=np.float32)
    src[0, :] = center
    src[1, :] = center + src_dir
    dst[0, :] = [dst_w * 0.5, dst_h * 0.5]
    dst[1, :] = np.array([dst_w * 0.5, dst_h * 0.5], np.float32) + dst_dir
    src[2:, :] = _third_point(src[0, :], src[1, :])
    dst[2:, :] = _third_point(dst[0, :], dst[1, :])
    if inv:
        return cv2.getAffineTransform(np.float32(dst), np.float32(src))
    return cv2.getAffineTransform(np.float32(src), np.float32(dst))


def _third_point(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    direct = a - b
    return b + np.array([-direct[1], direct[0]], dtype=np.float32)


def transform_preds(coords: np.ndarray, center: np.ndarray, scale: float, output_size: tuple[int, int]) -> np.ndarray:
    """(N, 2) points on the output grid -> original image pixels."""
    trans = get_affine_transform(center, scale, output_size, inv=True)
    pts = np.concatenate([coords.astype(np.float32), np.ones((len(coords), 1), np.float32)], axis=1)
    return (pts @ trans.T).astype(np.float32)


def post_process(dets: np.ndarray, meta: Meta) -> np.ndarray:
    """(K, >=5) grid boxes + score -> (K, 5) float32 x1 y1 x2 y2 score in image pixels."""
    out = dets[:, :5].astype(np.float32).copy()
    size = (meta.out_width, meta.out_height)
    out[:, 0:2] = transform_preds(out[:, 0:2], meta.c, meta.s, size)
    out[:, 2:4] = transform_preds(out[:, 2:4], meta.c, meta.s, size)
    return out


@torch.no_grad()
def decode_outputs(
    outputs: dict[str, torch.Tensor], meta: Meta, conf_thres: float = 0.4, K: int = 500, ltrb: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw head outputs of one image -> (tlbr (N, 4), scores (N,), embeddings (N, D)), float32,
    boxes in original pixels, embeddings L2-normalised, only ``score > conf_thres``.

    One departure from the official code: boxes whose predicted width or height is negative
    (a barely trained size head can predict negative ltrb) are dropped, since no MOTChallenge file
    may hold them and the tracker's area filter cannot see them (negative x negative > 0)."""
    hm = outputs["hm"].float().sigmoid()
    wh = outputs["wh"].float()
    reg = outputs["reg"].float() if "reg" in outputs else None
    id_feature = F.normalize(outputs["id"].float(), dim=1)
    dets, inds = mot_decode(hm, wh, reg=reg, ltrb=ltrb, K=K)
    emb = _gather(id_feature, inds)[0].cpu().numpy()
    dets = post_process(dets[0].cpu().numpy(), meta)
    keep = (dets[:, 4] > conf_thres) & (dets[:, 2] >= dets[:, 0]) & (dets[:, 3] >= dets[:, 1])
    return dets[keep, :4], dets[keep, 4], emb[keep].astype(np.float32)
