"""The anchor-based detection head of FairMOT's ablation, JDE-style, on the same backbone and stride.

Per output location there are A anchors (default 4, aspect w:h = 1:3, heights a geometric ladder
given as fractions of the input height). The head predicts, per anchor, 2-way objectness logits
(background/person, JDE's softmax cross-entropy) and box deltas (dx, dy, log dw, log dh) relative
to the anchor; the re-ID branch is unchanged. Training assigns every anchor by IoU with the gt boxes
(JDE's thresholds: IoU > 0.5 foreground, < 0.4 background, in between ignored); box loss is smooth
L1 on foreground anchors; embeddings are taken at the locations that hold a foreground anchor, with
the identity of that location's best-matching box. Inference: objectness threshold, delta decoding,
NMS, and embeddings read at the kept anchors' locations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from detectors.fairmot.losses import ReIDLoss, UncertaintyWeighting

RAW_DELTAS = (1.0, 1.0, 1.0, 1.0)  # delta_std that leaves JDE's box deltas as they are


@dataclass
class AnchorConfig:
    """Anchor layout; ``heights`` are fractions of the network input height (so a config scales)."""

    heights: tuple[float, ...] = (0.06, 0.12, 0.24, 0.48)
    aspect: float = 1 / 3  # width / height
    fg_iou: float = 0.5
    bg_iou: float = 0.4
    down_ratio: int = 4
    # Box deltas are divided by these before the loss (and multiplied back at decoding). JDE: all 1, the raw
    # deltas. Faster R-CNN's (0.1, 0.1, 0.2, 0.2) puts typical errors in smooth-L1's linear part.
    delta_std: tuple[float, ...] = RAW_DELTAS

    def __post_init__(self) -> None:
        if len(self.delta_std) != 4 or min(self.delta_std) <= 0:
            raise ValueError(f"anchor delta_std must be 4 positive numbers (dx, dy, dw, dh), got {self.delta_std}")

    @property
    def num_anchors(self) -> int:
        return len(self.heights)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["heights"] = list(self.heights)
        d["delta_std"] = list(self.delta_std)
        return d

    @classmethod
    def from_dict(cls, d: dict | None) -> AnchorConfig:
        d = dict(d or {})
        for k in ("heights", "delta_std"):
            if k in d:
                d[k] = tuple(float(v) for v in d[k])
        return cls(**d)


def anchor_heads(cfg: AnchorConfig, reid_dim: int) -> dict[str, int]:
    """Head name -> output channels, for ``build_model(arch, heads, head_conv, dcn)``."""
    return {"anc_cls": 2 * cfg.num_anchors, "anc_box": 4 * cfg.num_anchors, "id": reid_dim}


def anchor_wh(cfg: AnchorConfig, input_h: int) -> np.ndarray:
    """(A, 2) anchor width/height in output-map units."""
    hs = np.asarray(cfg.heights, np.float64) * input_h / cfg.down_ratio
    return np.stack([hs * cfg.aspect, hs], 1)


def anchor_grid(cfg: AnchorConfig, out_w: int, out_h: int, input_h: int) -> np.ndarray:
    """(A, H, W, 4) anchors as cx, cy, w, h in output units, centred on integer map locations."""
    wh = anchor_wh(cfg, input_h)
    ys, xs = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    grid = np.zeros((len(wh), out_h, out_w, 4))
    grid[..., 0] = xs
    grid[..., 1] = ys
    grid[..., 2] = wh[:, 0, None, None]
    grid[..., 3] = wh[:, 1, None, None]
    return grid


def _xyxy(cxcywh: np.ndarray) -> np.ndarray:
    c = cxcywh
    return np.concatenate([c[..., :2] - c[..., 2:] / 2, c[..., :2] + c[..., 2:] / 2], -1)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between (N, 4) and (M, 4) xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-12)


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


def decode_deltas(anchors: torch.Tensor, deltas: torch.Tensor, std: tuple[float, ...] = RAW_DELTAS,
                  ) -> torch.Tensor:
    """Inverse of :func:`encode_deltas`; returns cx, cy, w, h."""
    deltas = deltas * deltas.new_tensor(std)
    return torch.stack([
        anchors[..., 0] + deltas[..., 0] * anchors[..., 2],
        anchors[..., 1] + deltas[..., 1] * anchors[..., 3],
        anchors[..., 2] * torch.exp(deltas[..., 2]),
        anchors[..., 3] * torch.exp(deltas[..., 3]),
    ], -1)


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


def _split_anchor_maps(output: dict[str, torch.Tensor], a: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 2A, H, W) and (B, 4A, H, W) -> (B, A, 2, H, W) logits and (B, A, H, W, 4) deltas."""
    b, _, h, w = output["anc_cls"].shape
    logits = output["anc_cls"].view(b, a, 2, h, w)
    deltas = output["anc_box"].view(b, a, 4, h, w).permute(0, 1, 3, 4, 2)
    return logits, deltas


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
        logits, deltas = _split_anchor_maps(output, self.cfg.num_anchors)
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


@torch.no_grad()
def decode_anchor_based(
    outputs: dict[str, torch.Tensor],
    cfg: AnchorConfig | dict | None = None,
    input_h: int | None = None,
    conf_thres: float = 0.4,
    nms_thres: float = 0.4,
    max_dets: int = 500,
) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Decode the anchor head for each image: (boxes xyxy in network-input pixels, scores, embeddings).

    ``outputs`` holds ``anc_cls``, ``anc_box`` and ``id`` maps (B, C, H, W); embeddings are
    L2-normalised and read at each kept box's anchor location. Map boxes back to the original
    image with the same letterbox inverse as the anchor-free decode.
    """
    from torchvision.ops import nms

    if not isinstance(cfg, AnchorConfig):
        cfg = AnchorConfig.from_dict(cfg)
    logits, deltas = _split_anchor_maps(outputs, cfg.num_anchors)
    b, a, _, h, w = logits.shape
    input_h = input_h or h * cfg.down_ratio
    grid = torch.from_numpy(anchor_grid(cfg, w, h, input_h)).to(deltas.device, torch.float32)
    emb_map = F.normalize(outputs["id"].float(), dim=1) if "id" in outputs else None
    results = []
    for i in range(b):
        score = torch.softmax(logits[i].float(), dim=1)[:, 1]  # (A, H, W)
        keep = score > conf_thres
        s = score[keep]
        if s.numel() > max_dets:
            s, top = s.topk(max_dets)
            idx = keep.nonzero()[top]
        else:
            idx = keep.nonzero()
        cell = (idx[:, 0], idx[:, 1], idx[:, 2])
        boxes = decode_deltas(grid[cell], deltas[i].float()[cell], cfg.delta_std)
        xyxy = torch.cat([boxes[:, :2] - boxes[:, 2:] / 2, boxes[:, :2] + boxes[:, 2:] / 2], 1) * cfg.down_ratio
        kept = nms(xyxy, s, nms_thres)
        xyxy, s, idx = xyxy[kept], s[kept], idx[kept]
        if emb_map is not None:
            emb = emb_map[i][:, idx[:, 1], idx[:, 2]].t().contiguous()
        else:
            emb = torch.zeros((len(s), 0), device=s.device)
        results.append((xyxy, s, emb))
    return results


def anchor_heads_from_state_dict(state: dict[str, torch.Tensor]) -> dict[str, int]:
    """Anchor-head channels read from a checkpoint's last head convs."""
    heads: dict[str, int] = {}
    for name in ("anc_cls", "anc_box", "id"):
        for key in (f"{name}.2.weight", f"{name}.weight"):
            if key in state:
                heads[name] = int(state[key].shape[0])
                break
    if "anc_cls" not in heads or "anc_box" not in heads:
        raise ValueError(
            "checkpoint has no anchor-based head (anc_cls/anc_box); was it trained with head=anchor_based?"
        )
    return heads


def decode_anchor_based_to_image(
    outputs: dict[str, torch.Tensor], cfg: AnchorConfig, width: int, height: int, input_w: int, input_h: int,
    conf_thres: float, nms_thres: float, K: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One image's anchor-head outputs -> (tlbr in original pixels, scores, L2-normalised embeddings).

    Boxes leave the letterboxed input the way JDE maps them back: ``(x - pad) / ratio``, clipped.
    """
    from detectors.fairmot.preprocess import letterbox

    ((xyxy, scores, emb),) = decode_anchor_based(outputs, cfg, input_h, conf_thres, nms_thres, K)
    _, lb = letterbox(np.zeros((height, width, 3), np.uint8), input_h, input_w)
    boxes = xyxy.cpu().numpy().astype(np.float64)
    boxes[:, [0, 2]] = ((boxes[:, [0, 2]] - lb.dw) / lb.ratio).clip(0, width)
    boxes[:, [1, 3]] = ((boxes[:, [1, 3]] - lb.dh) / lb.ratio).clip(0, height)
    return boxes, scores.cpu().numpy(), emb.cpu().numpy()
