"""Regression of normalised a,b (2 channels): Huber, L1 or L2 loss on ab / 110."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinta import color
from tinta.heads.base import Decoding, Head, register_head

LOSSES = ("huber", "l1", "l2")


@register_head
class RegressionHead(Head):
    name = "regression"
    out_channels = 2

    def __init__(self, loss: str = "huber"):
        if loss not in LOSSES:
            raise ValueError(f"unknown regression loss {loss!r}; choose from {LOSSES}")
        self.loss_name = loss

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return color.normalize_ab(lab[:, 1:])  # (B, 2, H, W)

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.loss_name == "l1":
            return F.l1_loss(out, target)
        if self.loss_name == "l2":
            return F.mse_loss(out, target)
        return F.smooth_l1_loss(out, target, beta=0.1)

    @property
    def main(self) -> Decoding:
        return Decoding("ab")

    def predict(self, out: torch.Tensor, decoding: Decoding | None = None, saturation: float = 1.0) -> torch.Tensor:
        return color.denormalize_ab(out) * saturation  # (B, 2, h, w)

    def to_dict(self) -> dict:
        return {"name": self.name, "loss": self.loss_name}

    @classmethod
    def from_dict(cls, d: dict) -> "RegressionHead":
        return cls(d.get("loss", "huber"))

    @classmethod
    def for_training(cls, cfg, data) -> "RegressionHead":
        """``cfg.loss``: huber, l1 or l2."""
        return cls(cfg.loss)
