"""FairMOT's losses (src/lib/models/losses.py and src/lib/trains/mot.py), written from the paper.

- heatmap: CenterNet's penalty-reduced focal loss (alpha 2, beta 4) on clamped sigmoid outputs;
- size (ltrb) and offset: L1 at object centres, averaged over the masked elements;
- re-ID: cross-entropy over every identity of the training set on L2-normalised embeddings scaled by
  sqrt(2)*log(nID-1), ignoring label -1;
- detection vs re-ID: learned uncertainty weighting (Kendall et al.), 0.5*(e^-s_det*L_det +
  e^-s_id*L_id + s_det + s_id), s_det=-1.85, s_id=-1.05 at start; or the fixed L_det + 0.1*L_id.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def clamped_sigmoid(x: torch.Tensor) -> torch.Tensor:
    """Sigmoid kept away from 0 and 1 so the focal loss's logs stay finite (as CenterNet)."""
    return torch.clamp(torch.sigmoid(x.float()), min=1e-4, max=1 - 1e-4)


def focal_loss(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Penalty-reduced pixel-wise focal loss; ``pred`` are probabilities, ``gt`` the Gaussian heatmap."""
    pred = pred.float()
    gt = gt.float()
    pos = gt.eq(1).float()
    neg = gt.lt(1).float()
    neg_weights = torch.pow(1 - gt, 4)
    pos_loss = (torch.log(pred) * torch.pow(1 - pred, 2) * pos).sum()
    neg_loss = (torch.log(1 - pred) * torch.pow(pred, 2) * neg_weights * neg).sum()
    num_pos = pos.sum()
    if num_pos == 0:
        return -neg_loss
    return -(pos_loss + neg_loss) / num_pos


def gather_feat(feat: torch.Tensor, ind: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) map and (B, K) flat indices -> (B, K, C) features at those locations."""
    b, c = feat.shape[:2]
    flat = feat.view(b, c, -1).permute(0, 2, 1)
    return flat.gather(1, ind.long().unsqueeze(2).expand(-1, -1, c))


def reg_l1_loss(output: torch.Tensor, mask: torch.Tensor, ind: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Sum of |pred - target| over valid objects and channels, divided by the count of valid elements."""
    pred = gather_feat(output, ind).float()
    m = mask.float().unsqueeze(2).expand_as(pred)
    loss = F.l1_loss(pred * m, target.float() * m, reduction="sum")
    return loss / (m.sum() + 1e-4)


def emb_scale_for(num_ids: int) -> float:
    """FairMOT's embedding scale sqrt(2)*log(nID-1); needs at least 3 identity classes to be positive."""
    if num_ids < 3:
        raise ValueError(f"re-ID needs nID >= 3 to scale embeddings by sqrt(2)*log(nID-1), got nID={num_ids}")
    return math.sqrt(2) * math.log(num_ids - 1)


class UncertaintyWeighting(nn.Module):
    """Learned task weighting of detection vs re-ID, or a fixed sum when ``mode='fixed'``."""

    def __init__(self, mode: str = "uncertainty", s_det: float = -1.85, s_id: float = -1.05,
                 fixed_id_weight: float = 0.1) -> None:
        super().__init__()
        if mode not in ("uncertainty", "fixed"):
            raise ValueError(f"multi_loss must be 'uncertainty' or 'fixed', got {mode!r}")
        self.mode = mode
        self.fixed_id_weight = fixed_id_weight
        self.s_det = nn.Parameter(torch.tensor([s_det]))
        self.s_id = nn.Parameter(torch.tensor([s_id]))

    def forward(self, det_loss: torch.Tensor, id_loss: torch.Tensor) -> torch.Tensor:
        if self.mode == "fixed":
            return det_loss + self.fixed_id_weight * id_loss
        loss = torch.exp(-self.s_det) * det_loss + torch.exp(-self.s_id) * id_loss + (self.s_det + self.s_id)
        return (0.5 * loss).squeeze(0)


class ReIDLoss(nn.Module):
    """Identity classification on scaled, L2-normalised embeddings (the classifier is dropped at test)."""

    def __init__(self, emb_dim: int, num_ids: int) -> None:
        super().__init__()
        self.num_ids = num_ids
        self.emb_scale = emb_scale_for(num_ids)
        self.classifier = nn.Linear(emb_dim, num_ids)

    def forward(self, emb: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """``emb`` (N, D) raw embeddings of labelled objects, ``target`` (N,) identity or -1."""
        if emb.shape[0] == 0:
            return self.classifier.weight.sum() * 0.0
        logits = self.classifier(self.emb_scale * F.normalize(emb.float(), dim=1))
        if (target >= 0).sum() == 0:
            return logits.sum() * 0.0
        return F.cross_entropy(logits, target.long(), ignore_index=-1)


class MotLoss(nn.Module):
    """FairMOT's anchor-free joint loss; returns (loss, stats) like the official MotLoss."""

    def __init__(self, emb_dim: int, num_ids: int, hm_weight: float = 1.0, wh_weight: float = 0.1,
                 off_weight: float = 1.0, id_weight: float = 1.0, multi_loss: str = "uncertainty") -> None:
        super().__init__()
        self.hm_weight, self.wh_weight, self.off_weight, self.id_weight = hm_weight, wh_weight, off_weight, id_weight
        self.reid = ReIDLoss(emb_dim, num_ids)
        self.weighting = UncertaintyWeighting(multi_loss)

    def forward(self, output: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]):
        hm_loss = focal_loss(clamped_sigmoid(output["hm"]), batch["hm"])
        zero = hm_loss * 0.0
        wh_loss = (reg_l1_loss(output["wh"], batch["reg_mask"], batch["ind"], batch["wh"])
                   if self.wh_weight > 0 else zero)
        off_loss = (reg_l1_loss(output["reg"], batch["reg_mask"], batch["ind"], batch["reg"])
                    if self.off_weight > 0 and "reg" in output else zero)
        id_loss = zero
        if self.id_weight > 0:
            mask = batch["reg_mask"] > 0
            emb = gather_feat(output["id"], batch["ind"])[mask]
            id_loss = self.reid(emb, batch["ids"][mask])
        det_loss = self.hm_weight * hm_loss + self.wh_weight * wh_loss + self.off_weight * off_loss
        loss = self.weighting(det_loss, id_loss)
        stats = {"loss": loss, "hm_loss": hm_loss, "wh_loss": wh_loss, "off_loss": off_loss, "id_loss": id_loss}
        return loss, stats
