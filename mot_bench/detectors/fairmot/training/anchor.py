"""Training side of the anchor-based head: anchor assignment (JDE's IoU rule), box-delta targets, losses.

See :mod:`mot_bench.detectors.fairmot.anchor_head` for the head itself and its decoding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mot_bench.detectors.fairmot.anchor_head import RAW_DELTAS, AnchorConfig, anchor_grid, iou_matrix, split_anchor_maps
from mot_bench.detectors.fairmot.training.losses import ReIDLoss, UncertaintyWeighting


def _xyxy(cxcywh: np.ndarray) -> np.ndarray:
    c = cxcywh
    return np.concatenate([c[..., :2] - c[..., 2:] / 2, c[..., :2] + c[..., 2:] / 2], -1)


def encode_deltas(anchors: np.ndarray, boxes: np.ndarray, std: tuple[float, ...] = RAW_DELTAS,
                  ) -> np.ndarray:
    """JDE's box encoding: centre shift in anchor sizes, log size ratio (both cx, cy, w, h), over ``std``."""
    raw = np.stack([
        (boxes[:, 0] - anchors[:, 0]) / anchors[:, 2],
        (boxes[:, 1] - anchors[:, 1]) / anchors[:, 3],
        np.log(boxes[:, 2] / anchors[:, 2]),
        np.log(boxes[:, 3] / anchors[:, 3]),
    ], 1)
    return raw / np.asarray(std, np.float64)


def assign_anchors(labels: np.ndarray, cfg: AnchorConfig, input_w: int, input_h: int) -> dict[str, np.ndarray]:
    """Anchor targets for one image from (N, 6) labels (class, id, cx, cy, w, h normalised).

    Returns ``anc_conf`` (A, H, W) int64 in {1, 0, -1 (ignored)}, ``anc_box`` (A, H, W, 4) deltas
    (valid where conf == 1), ``emb_mask`` (H, W) uint8 and ``emb_ids`` (H, W) int64.
    """
    out_w, out_h = input_w // cfg.down_ratio, input_h // cfg.down_ratio
    grid = anchor_grid(cfg, out_w, out_h, input_h)
    a = len(cfg.heights)
    conf = np.zeros((a, out_h, out_w), np.int64)
    box = np.zeros((a, out_h, out_w, 4), np.float32)
    emb_mask = np.zeros((out_h, out_w), np.uint8)
    emb_ids = np.full((out_h, out_w), -1, np.int64)
    labels = np.asarray(labels, np.float64).reshape(-1, 6)
    labels = labels[(labels[:, 4] > 0) & (labels[:, 5] > 0)]
    if len(labels) == 0:
        return {"anc_conf": conf, "anc_box": box, "emb_mask": emb_mask, "emb_ids": emb_ids}
    gt = labels[:, 2:6] * np.array([out_w, out_h, out_w, out_h])
    flat = grid.reshape(-1, 4)
    iou = iou_matrix(_xyxy(flat), _xyxy(gt))
    best = iou.argmax(1)
    best_iou = iou[np.arange(len(flat)), best]
    c = np.full(len(flat), -1, np.int64)
    c[best_iou > cfg.fg_iou] = 1
    c[best_iou < cfg.bg_iou] = 0
    pos = c == 1
    deltas = np.zeros((len(flat), 4), np.float32)
    deltas[pos] = encode_deltas(flat[pos], gt[best[pos]], cfg.delta_std)
    conf = c.reshape(a, out_h, out_w)
    box = deltas.reshape(a, out_h, out_w, 4)
    # Per location: identity of the foreground anchor with the highest IoU there.
    iou_loc = np.where(pos, best_iou, -1.0).reshape(a, out_h, out_w)
    best_a = iou_loc.argmax(0)
    any_pos = iou_loc.max(0) > 0
    gt_idx = best.reshape(a, out_h, out_w)
    chosen = np.take_along_axis(gt_idx, best_a[None], 0)[0]
    emb_mask = any_pos.astype(np.uint8)
    emb_ids = np.where(any_pos, labels[chosen, 1].astype(np.int64), -1)
    return {"anc_conf": conf, "anc_box": box, "emb_mask": emb_mask, "emb_ids": emb_ids}


class AnchorTargets:
    """Picklable target builder for :class:`JointDataset` (``target_fn``)."""

    def __init__(self, cfg: AnchorConfig) -> None:
        self.cfg = cfg

    def __call__(self, labels: np.ndarray, input_w: int, input_h: int) -> dict[str, np.ndarray]:
        return assign_anchors(labels, self.cfg, input_w, input_h)


CONF_LOSSES = ("ce", "focal")  # objectness losses: JDE's softmax cross-entropy, RetinaNet's focal loss


def anchor_focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 0.25, gamma: float = 2.0,
                      ) -> torch.Tensor:
    """RetinaNet's focal loss on 2-way objectness logits (B, 2, ...) with targets {1, 0, -1 ignored}.

    ``-alpha_t (1 - p_t)^gamma log p_t`` (alpha on foreground, 1 - alpha on background), summed over the
    non-ignored anchors and divided by the foreground count (at least 1): easy background anchors, the
    ~600 per foreground one on a stride-4 grid, then no longer swamp the gradient.
    """
    valid = target >= 0
    t = target.clamp(min=0)
    logp_t = F.log_softmax(logits, dim=1).gather(1, t.unsqueeze(1)).squeeze(1)
    alpha_t = torch.where(t == 1, alpha, 1.0 - alpha)
    loss = -alpha_t * (1.0 - logp_t.exp()).pow(gamma) * logp_t
    return loss[valid].sum() / (target == 1).sum().clamp(min=1)


class AnchorLoss(nn.Module):
    """JDE-style detection loss + FairMOT's re-ID loss and task weighting, same (loss, stats) API."""

    def __init__(self, cfg: AnchorConfig, emb_dim: int, num_ids: int, conf_weight: float = 1.0,
                 box_weight: float = 1.0, id_weight: float = 1.0, multi_loss: str = "uncertainty",
                 fg_weight: float = 1.0, conf_loss: str = "ce") -> None:
        super().__init__()
        if fg_weight <= 0:
            raise ValueError(f"anchor foreground weight must be > 0, got {fg_weight}")
        if conf_loss not in CONF_LOSSES:
            raise ValueError(f"anchor objectness loss must be 'ce' or 'focal', got {conf_loss!r}")
        self.conf_loss = conf_loss
        self.cfg = cfg
        self.conf_weight, self.box_weight, self.id_weight = conf_weight, box_weight, id_weight
        self.fg_weight = fg_weight  # 1: JDE's plain mean over the non-ignored anchors
        self.reid = ReIDLoss(emb_dim, num_ids)
        self.weighting = UncertaintyWeighting(multi_loss)

    def forward(self, output: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]):
        logits, deltas = split_anchor_maps(output, self.cfg.num_anchors)
        tconf = batch["anc_conf"].long()
        class_logits = logits.float().permute(0, 2, 1, 3, 4)  # (B, 2, A, H, W)
        if self.conf_loss == "focal":
            conf_loss = anchor_focal_loss(class_logits, tconf)
        else:
            class_weight = None if self.fg_weight == 1.0 else class_logits.new_tensor([1.0, self.fg_weight])
            conf_loss = F.cross_entropy(class_logits, tconf, weight=class_weight, ignore_index=-1)
        pos = tconf == 1
        box_loss = (F.smooth_l1_loss(deltas.float()[pos], batch["anc_box"].float()[pos])
                    if pos.any() else deltas.sum() * 0.0)
        id_loss = conf_loss * 0.0
        if self.id_weight > 0:
            mask = batch["emb_mask"] > 0
            emb = output["id"].permute(0, 2, 3, 1)[mask]
            id_loss = self.reid(emb, batch["emb_ids"][mask])
        det_loss = self.conf_weight * conf_loss + self.box_weight * box_loss
        loss = self.weighting(det_loss, id_loss)
        return loss, {"loss": loss, "conf_loss": conf_loss, "box_loss": box_loss, "id_loss": id_loss}
