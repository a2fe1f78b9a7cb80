"""The joint head's hue at a separately regressed chroma.

Regressing a,b where the hue is ambiguous averages opposite colours: the mean's direction (the hue) is
plausible, its length (the chroma) far too short, and a picture comes out as a brown wash. On a training
hold-out of 512 photos (``scripts/hue_chroma_probe.py``) the shipped ``default``'s hues at the photos' own
chroma would score +2.9 dB and +8.8 points of judge agreement. The length of ab does not cancel between
hues, so one more output channel regresses it.

Output channels: ``[a, b, logits over Q bins, chroma]`` (the joint head's, then |ab| / 110), so a joint
run's weights start this head with its colours unchanged. Loss: the joint loss + ``chroma_weight`` x L1 of
the chroma channel against the truth's |ab| / 110 (area-pooled to the output's size), or with ``chroma_target``
"projection" against the truth's a,b projected on the predicted regression hue (short where that hue is wrong).
Decoding: the joint head's a,b rescaled to the length ``|ab| + mix x R^hue_gate x (chroma - |ab|)`` (``mix`` 0:
the joint head's colours). ``R`` in [0, 1] is how much the bins agree on the hue, ``|sum p ab| / sum p |ab|``
over the predicted bin distribution ``p`` (1: one hue; near 0: opposite hues, whose mean is the brown wash);
``hue_gate`` 0 (the default) leaves the chroma ungated, larger values keep the short mean where the hue is
unsure.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinta.errors import TintaError
from tinta.heads.base import Decoding, register_head
from tinta.heads.bins import DEFAULT_TEMPERATURE, ABBins
from tinta.heads.joint import DEFAULT_BINS_WEIGHT, JointHead
from tinta.models.base import PooledOutput

CHROMA_TARGETS = ("length", "projection")
MIN_LENGTH = 2.0  # ab units: below this the joint colour's direction is noise, so it is scaled less


@register_head
class ChromaHead(JointHead):
    name = "chroma"
    grows_from = ("joint",)  # a joint run's head and weights start this head

    def __init__(self, bins: ABBins, temperature: float = DEFAULT_TEMPERATURE, rebalance: bool = True,
                 bins_weight: float = DEFAULT_BINS_WEIGHT, blend: float = 1.0, temperatures: tuple[float, ...] = (),
                 chroma_weight: float = 1.0, mix: float = 1.0, class_stride: int = 1, hue_gate: float = 0.0,
                 chroma_target: str = "length"):
        super().__init__(bins, temperature, rebalance, bins_weight, blend, temperatures, class_stride)
        if chroma_target not in CHROMA_TARGETS:
            raise TintaError(f"chroma_target must be one of {CHROMA_TARGETS}, not {chroma_target!r}")
        self.chroma_weight, self.mix, self.hue_gate = float(chroma_weight), float(mix), float(hue_gate)
        self.chroma_target = chroma_target
        self.out_channels = 3 + bins.q

    def with_temperatures(self, temperatures: tuple[float, ...]) -> "ChromaHead":
        return ChromaHead(self.cls.bins, self.cls.temperature, self.cls.rebalance, self.bins_weight, self.blend,
                          tuple(temperatures), self.chroma_weight, self.mix, self.class_stride, self.hue_gate,
                          self.chroma_target)

    def loss(self, out: torch.Tensor | PooledOutput, target: torch.Tensor) -> torch.Tensor:
        pooled = isinstance(out, PooledOutput)
        last = out.pooled[:, -1:] if pooled else out[:, -1:]  # (B, 1, h, w): the chroma channel
        joint = PooledOutput(out.main, out.pooled[:, :-1]) if pooled else out[:, :-1]
        small = out.pool_target(target) if pooled else F.interpolate(target, size=last.shape[-2:], mode="area")
        chroma = F.l1_loss(last, self.chroma_of(small, out.main[:, :2] if pooled else out[:, :2], last) / 110)
        return super().loss(joint, target) + self.chroma_weight * chroma

    def predict(self, out: torch.Tensor | PooledOutput, decoding: Decoding | None = None,
                saturation: float = 1.0) -> torch.Tensor:
        ab_norm, logits, last = self.split(out)
        ab = self.blended(ab_norm, logits, decoding)  # (B, 2, h, w): the joint head's colour
        length = ab.norm(dim=1, keepdim=True)
        chroma = 110 * last.clamp(min=0)  # (B, 1, h, w)
        gate = self.hue_agreement(logits, ab.shape[-2:]) ** self.hue_gate if self.hue_gate else 1.0
        want = length + self.mix * gate * (chroma - length)
        return ab * (want / length.clamp(min=MIN_LENGTH)) * saturation

    def chroma_of(self, ab: torch.Tensor, ab_pred: torch.Tensor, last: torch.Tensor) -> torch.Tensor:
        """The chroma channel's target ``(B, 1, h, w)`` in ab units from the truth's a,b ``ab`` on its grid:
        ``length`` |ab|; ``projection`` ab along the predicted regression hue (``ab_pred``, normalised a,b,
        resized to the grid, no gradient), at least 0: short where the predicted hue is off."""
        if self.chroma_target == "length":
            return ab.norm(dim=1, keepdim=True)
        hue = F.adaptive_avg_pool2d(ab_pred.detach().float(), last.shape[-2:])  # (B, 2, h, w)
        hue = hue / hue.norm(dim=1, keepdim=True).clamp(min=MIN_LENGTH / 110)
        return (ab * hue).sum(1, keepdim=True).clamp(min=0)

    def hue_agreement(self, logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Bin logits at the class stride ``(B, Q, h/s, w/s)`` -> ``R = |sum p ab| / sum p |ab|`` in [0, 1],
        upsampled to the output's grid ``size`` ``(B, 1, h, w)`` as the joint head's colour is."""
        p = logits.softmax(1)  # (B, Q, h/s, w/s)
        centres = self.cls.bins.centres.to(p)  # (Q, 2)
        mean = torch.einsum("bqhw,qc->bchw", p, centres).norm(dim=1, keepdim=True)
        spread = torch.einsum("bqhw,q->bhw", p, centres.norm(dim=1))[:, None]
        return self.upsample((mean / spread.clamp(min=1e-6)).clamp(0, 1), size)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "name": self.name, "chroma_weight": self.chroma_weight, "mix": self.mix,
                **({"hue_gate": self.hue_gate} if self.hue_gate else {}),
                **({"chroma_target": self.chroma_target} if self.chroma_target != "length" else {})}

    @classmethod
    def from_dict(cls, d: dict) -> "ChromaHead":
        j = JointHead.from_dict(d)
        return cls(j.cls.bins, j.cls.temperature, j.cls.rebalance, j.bins_weight, j.blend, (),
                   d.get("chroma_weight", 1.0), d.get("mix", 1.0), j.class_stride, d.get("hue_gate", 0.0),
                   d.get("chroma_target", "length"))

    @classmethod
    def for_training(cls, cfg, data) -> "ChromaHead":
        j = JointHead.for_training(cfg, data)
        return cls(j.cls.bins, j.cls.temperature, j.cls.rebalance, j.bins_weight, chroma_weight=cfg.chroma_weight,
                   chroma_target=cfg.chroma_target)
