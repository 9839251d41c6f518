"""The anchor-based detection head of FairMOT's ablation, JDE-style, on the same backbone and stride.

Per output location there are A anchors (default 4, aspect w:h = 1:3, heights a geometric ladder
given as fractions of the input height). The head predicts, per anchor, 2-way objectness logits
(background/person, JDE's softmax cross-entropy) and box deltas (dx, dy, log dw, log dh) relative
to the anchor; the re-ID branch is unchanged. Training assigns every anchor by IoU with the gt boxes
(JDE's thresholds: IoU > 0.5 foreground, < 0.4 background, in between ignored); box loss is smooth
L1 on foreground anchors; embeddings are taken at the locations that hold a foreground anchor, with
the identity of that location's best-matching box. Inference: objectness threshold, delta decoding,
NMS, and embeddings read at the kept anchors' locations. Training targets and losses live in
:mod:`mot_bench.detectors.fairmot.training.anchor`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F

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


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between (N, 4) and (M, 4) xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-12)


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


def split_anchor_maps(output: dict[str, torch.Tensor], a: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, 2A, H, W) and (B, 4A, H, W) -> (B, A, 2, H, W) logits and (B, A, H, W, 4) deltas."""
    b, _, h, w = output["anc_cls"].shape
    logits = output["anc_cls"].view(b, a, 2, h, w)
    deltas = output["anc_box"].view(b, a, 4, h, w).permute(0, 1, 3, 4, 2)
    return logits, deltas


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
    logits, deltas = split_anchor_maps(outputs, cfg.num_anchors)
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
    from mot_bench.detectors.fairmot.preprocess import letterbox

    ((xyxy, scores, emb),) = decode_anchor_based(outputs, cfg, input_h, conf_thres, nms_thres, K)
    _, lb = letterbox(np.zeros((height, width, 3), np.uint8), input_h, input_w)
    boxes = xyxy.cpu().numpy().astype(np.float64)
    boxes[:, [0, 2]] = ((boxes[:, [0, 2]] - lb.dw) / lb.ratio).clip(0, width)
    boxes[:, [1, 3]] = ((boxes[:, [1, 3]] - lb.dh) / lb.ratio).clip(0, height)
    return boxes, scores.cpu().numpy(), emb.cpu().numpy()
