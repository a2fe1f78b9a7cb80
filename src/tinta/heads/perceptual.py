"""Regression of a,b trained with DDColor's losses (Kang et al. 2023, without the GAN term):

- pixel: L1 on normalised a,b against the ground truth's a,b boosted x :data:`CHROMA_BOOST`
  (DDColor and others boost the targets' chroma so the mean of plausible colours is less grey);
- perceptual: L1 between features of a frozen ImageNet EfficientNet-Lite0 (strides 4, 8, 16) on the
  RGB of the prediction and of the boosted target, both with the photo's own L (Lite2 is the
  evaluation judge and is never used here);
- colourfulness: a hinge on the Hasler & Suesstrunk colourfulness of the RGB prediction below the
  boosted target's, per image, on the 0..255 scale / 100.

The output and its decoding are exactly the regression head's (2 channels, ``ab / 110``), so a model
trained with these losses runs everywhere a regression model runs. The perceptual network is built
on the first training step only: inference never loads it.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from tinta import color
from tinta.heads.base import register_head
from tinta.heads.regression import RegressionHead

CHROMA_BOOST = 1.2
PERCEPTUAL_BLOCKS = (2, 4, 10)  # Lite0 blocks ending the stride-4, -8 and -16 stages


def soft_colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Differentiable Hasler & Suesstrunk colourfulness of RGB in [0, 1] ``(B, 3, H, W)`` -> ``(B,)``,
    on the 0..255 scale (as :func:`tinta.evaluate.metrics.colourfulness`)."""
    r, g, b = (255 * rgb).unbind(1)
    rg, yb = (r - g).flatten(1), (0.5 * (r + g) - b).flatten(1)
    sd = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False) + 1e-6)
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2 + 1e-6)
    return sd + 0.3 * mean


class PerceptualNet(nn.Module):
    """Frozen ImageNet EfficientNet-Lite0 up to stride 16: RGB [0, 1] -> feature maps at strides 4, 8, 16."""

    def __init__(self):
        super().__init__()
        from tinta.models.efficientnet_lite import pretrained_efficientnet_lite0

        net = pretrained_efficientnet_lite0()
        self.stem, self.bn0, self.act = net._conv_stem, net._bn0, net.act
        self.blocks = net._blocks[: PERCEPTUAL_BLOCKS[-1] + 1]
        self.eval().requires_grad_(False)

    def forward(self, rgb: torch.Tensor) -> list[torch.Tensor]:
        from tinta.models.efficientnet_lite import normalize_imagenet

        x = self.act(self.bn0(self.stem(normalize_imagenet(rgb))))
        feats = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in PERCEPTUAL_BLOCKS:
                feats.append(x)
        return feats


@register_head
class PerceptualHead(RegressionHead):
    name = "perceptual"

    def __init__(self, loss: str = "l1", perceptual_weight: float = 0.05, colourfulness_weight: float = 0.5):
        super().__init__(loss)
        self.perceptual_weight, self.colourfulness_weight = float(perceptual_weight), float(colourfulness_weight)
        self._net: PerceptualNet | None = None

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return torch.cat([lab[:, :1], lab[:, 1:] * CHROMA_BOOST], 1)  # (B, 3, H, W): L, boosted a,b

    def parts(self, out: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """The three loss terms, unweighted: ``pixel``, ``perceptual``, ``colourfulness``."""
        if self._net is None:
            self._net = PerceptualNet().to(out.device)
        L, ab = target[:, :1], target[:, 1:]
        rgb_pred = color.lab_to_rgb(color.join_lab(L, color.denormalize_ab(out)), clip=False).clamp(0, 1)
        with torch.no_grad():
            rgb_true = color.lab_to_rgb(color.join_lab(L, ab), clip=False).clamp(0, 1)
            true_feats = self._net(rgb_true)
        perceptual = sum(F.l1_loss(p, t) for p, t in zip(self._net(rgb_pred), true_feats)) / len(true_feats)
        cf_gap = (soft_colourfulness(rgb_true) - soft_colourfulness(rgb_pred)).clamp(min=0) / 100
        return {"pixel": super().loss(out, color.normalize_ab(ab)), "perceptual": perceptual,
                "colourfulness": cf_gap.mean()}

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        p = self.parts(out, target)
        return p["pixel"] + self.perceptual_weight * p["perceptual"] + self.colourfulness_weight * p["colourfulness"]

    def to_dict(self) -> dict:
        return {"name": self.name, "loss": self.loss_name, "perceptual_weight": self.perceptual_weight,
                "colourfulness_weight": self.colourfulness_weight}

    @classmethod
    def from_dict(cls, d: dict) -> "PerceptualHead":
        return cls(d.get("loss", "l1"), d.get("perceptual_weight", 0.05), d.get("colourfulness_weight", 0.5))

    @classmethod
    def for_training(cls, cfg, data) -> "PerceptualHead":
        """``cfg.loss`` (the pixel term) and the two weights (>= 0) beside it."""
        return cls(cfg.loss, cfg.perceptual_weight, cfg.colourfulness_weight)
