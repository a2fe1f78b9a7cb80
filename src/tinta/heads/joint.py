"""Joint heads: ab regression and ab-bin classification from one trunk.

Output channels: ``[a, b, logits over Q bins]`` at the model's native resolution. Loss: the
regression loss plus ``bins_weight`` x the rebalanced bins loss. Decoding starts from the
regression mean (safe, but greyish where colour is ambiguous) and moves towards the bins'
annealed mean (committed colour) in proportion to how sure the bins are: weight
``min(1, blend x (1 - H(p) / log Q))`` per pixel, ``H(p)`` the entropy of the predicted bin
distribution. Where the distribution is flat the regression mean stays; where it is peaked
the colour follows the bins.

``class_stride`` 2 decodes the bins from 2x2-averaged logits (the logits of 2x2-pooled features: the output
layer is 1x1) and upsamples that colour and its weight bilinearly: the resolution a run trained with
``--bins-stride 4`` learned its classes at, for a quarter of the decoding's work (on a training hold-out, the
same scores as at 1: ``scripts/holdout_decodings.py --vary class_stride=1,2``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from tinta import color
from tinta.errors import TintaError
from tinta.heads.base import Decoding, Head, register_head
from tinta.heads.bins import DEFAULT_TEMPERATURE, ABBins, BinsHead, fit_bins_on
from tinta.heads.regression import RegressionHead
from tinta.models.base import PooledOutput

CLASS_STRIDES = (1, 2)
DEFAULT_BINS_WEIGHT = 0.01  # the rebalanced bins loss (~3) weighs about what the regression loss (~0.04) does


@register_head
class JointHead(Head):
    name = "joint"
    native_resolution = True
    pooled_from = 2  # a,b at the output's size; the bins' logits may be trained from pooled features

    def __init__(self, bins: ABBins, temperature: float = DEFAULT_TEMPERATURE, rebalance: bool = True,
                 bins_weight: float = DEFAULT_BINS_WEIGHT, blend: float = 1.0, temperatures: tuple[float, ...] = (),
                 class_stride: int = 1):
        if class_stride not in CLASS_STRIDES:
            raise TintaError(f"class_stride must be one of {CLASS_STRIDES}, not {class_stride}")
        self.class_stride = int(class_stride)
        self.reg = RegressionHead("huber")
        self.cls = BinsHead(bins, temperature, rebalance, temperatures)
        self.bins_weight, self.blend = float(bins_weight), float(blend)
        self.out_channels = 2 + bins.q

    @property
    def main(self) -> Decoding:
        return self.cls.main

    @property
    def decodings(self) -> tuple[Decoding, ...]:
        return self.cls.decodings

    def with_temperatures(self, temperatures: tuple[float, ...]) -> "JointHead":
        return JointHead(self.cls.bins, self.cls.temperature, self.cls.rebalance, self.bins_weight, self.blend,
                         tuple(temperatures), self.class_stride)

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return lab[:, 1:]  # (B, 2, H, W) ab in Lab units

    def loss(self, out: torch.Tensor | PooledOutput, target: torch.Tensor) -> torch.Tensor:
        pooled = isinstance(out, PooledOutput)
        ab, logits = (out.main, out.pooled) if pooled else (out[:, :2], out[:, 2:])
        if ab.shape[-2:] != target.shape[-2:]:
            target = F.interpolate(target, size=ab.shape[-2:], mode="area")  # (B, 2, h, w)
        reg = self.reg.loss(ab, color.normalize_ab(target))
        return reg + self.bins_weight * self.cls.loss(logits, out.pool_target(target) if pooled else target)

    def confidence(self, logits: torch.Tensor) -> torch.Tensor:
        """``(B, 1, h, w)`` in [0, 1]: how far the bins to move the colour (0: stay at the regression mean)."""
        logp = F.log_softmax(logits, dim=1)
        entropy = -(logp.exp() * logp).sum(1, keepdim=True)  # (B, 1, h, w)
        return (self.blend * (1 - entropy / math.log(logits.shape[1]))).clamp(0, 1)

    @property
    def pooled_channels(self) -> tuple[int, int] | None:
        return (2, 2 + self.cls.bins.q) if self.class_stride > 1 else None  # the bins' logits

    def split(self, out: torch.Tensor | PooledOutput) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Model output -> (a,b ``(B, 2, h, w)`` normalised, bin logits at the class stride ``(B, Q, h/s, w/s)``,
        any further channels ``(B, k, h, w)``), from a full-size output or a :class:`PooledOutput` whose pooled
        part is the logits (:attr:`pooled_channels`)."""
        if isinstance(out, PooledOutput):
            return out.main[:, :2], out.pooled, out.main[:, 2:]
        q = self.cls.bins.q
        return out[:, :2], self.pool_logits(out[:, 2:2 + q]), out[:, 2 + q:]

    def colour_distribution(self, out: torch.Tensor | PooledOutput) -> tuple[torch.Tensor, torch.Tensor]:
        _, logits, _ = self.split(out)  # after a,b; before any further channel
        return self.cls.colour_distribution(self.upsample(logits, out.shape[-2:]))

    def pool_logits(self, logits: torch.Tensor) -> torch.Tensor:
        """Bin logits ``(B, Q, h, w)`` at the class stride: ``(B, Q, h/s, w/s)``, an odd last row or column
        averaged on its own."""
        return F.avg_pool2d(logits, self.class_stride, ceil_mode=True) if self.class_stride > 1 else logits

    def upsample(self, t: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """A map at the class stride back on the output's grid ``size``: x stride, cell centres aligned, the
        ceil's extra cropped."""
        if self.class_stride == 1:
            return t
        up = F.interpolate(t, scale_factor=self.class_stride, mode="bilinear", align_corners=False)
        return up[..., :size[0], :size[1]]

    def predict(self, out: torch.Tensor | PooledOutput, decoding: Decoding | None = None,
                saturation: float = 1.0) -> torch.Tensor:
        ab, logits, _ = self.split(out)  # (B, 2, h, w), (B, Q, h/s, w/s)
        return self.blended(ab, logits, decoding) * saturation

    def blended(self, ab: torch.Tensor, logits: torch.Tensor, decoding: Decoding | None) -> torch.Tensor:
        """The parts of :meth:`split` -> a,b ``(B, 2, h, w)`` in Lab units: the regression mean moved towards the
        bins' colour as far as the bins are sure."""
        ab_reg = color.denormalize_ab(ab)
        size = ab_reg.shape[-2:]
        ab_cls = self.upsample(self.cls.predict(logits, decoding), size)
        w = self.upsample(self.confidence(logits), size)
        return ab_reg + w * (ab_cls - ab_reg)

    def to_dict(self) -> dict:
        return {"name": self.name, "bins": self.cls.bins.to_dict(), "temperature": self.cls.temperature,
                "rebalance": self.cls.rebalance, "bins_weight": self.bins_weight, "blend": self.blend,
                **({"class_stride": self.class_stride} if self.class_stride != 1 else {})}

    @classmethod
    def from_dict(cls, d: dict) -> "JointHead":
        return cls(ABBins.from_dict(d["bins"]), d.get("temperature", DEFAULT_TEMPERATURE), d.get("rebalance", True),
                   d.get("bins_weight", DEFAULT_BINS_WEIGHT), d.get("blend", 1.0), (), d.get("class_stride", 1))

    @classmethod
    def for_training(cls, cfg, data) -> "JointHead":
        """Bins fitted on ``data`` as the bins head fits them; ``cfg.bins_weight`` (>= 0) on their loss."""
        bins = fit_bins_on(data, cfg.bins, cfg.bin_sigma, cfg.bin_lambda)
        return cls(bins, cfg.temperature, cfg.rebalance, cfg.bins_weight)
