"""Per-pixel classification over a K-colour palette (:class:`~tinta.palette.Palette`), cross-entropy.

Two decodings: ``chroma`` (the main one: the palette colour's a,b joined with the input's own L)
and ``palette`` (the palette colour itself, its lightness included, as in the classic
palette-classification formulation).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinta import color
from tinta.errors import TintaError
from tinta.heads.base import Decoding, Head, register_head
from tinta.palette import Palette

CHROMA = Decoding("chroma")
PALETTE = Decoding("palette", own_lightness=True)


@register_head
class PaletteHead(Head):
    name = "palette"

    def __init__(self, palette: Palette):
        self.palette = palette
        self.out_channels = palette.k
        rgb = palette.rgb.round().clamp(0, 255) / 255.0  # (K, 3) float64, as the palette decoding paints
        self._lab = color.rgb_to_lab(rgb.T[:, :, None])[..., 0].T.float()  # (K, 3)

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return self.palette.quantize(rgb8)  # (B, H, W) int64

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, target)

    @property
    def main(self) -> Decoding:
        return CHROMA

    @property
    def decodings(self) -> tuple[Decoding, ...]:
        return (PALETTE, CHROMA)

    def predict(self, out: torch.Tensor, decoding: Decoding | None = None, saturation: float = 1.0) -> torch.Tensor:
        """Most likely palette colour: a,b ``(B, 2, h, w)`` (x saturation), or Lab ``(B, 3, h, w)``."""
        idx = out.argmax(1)  # (B, h, w)
        if decoding is not None and decoding.own_lightness:
            return self._lab.to(out.device)[idx].permute(0, 3, 1, 2)  # (B, 3, h, w)
        ab = self.palette.ab().to(out.device, torch.float32)  # (K, 2)
        return ab[idx].permute(0, 3, 1, 2) * saturation  # (B, 2, h, w)

    def batch_stats(self, out: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {"correct": float((out.argmax(1) == target).sum()), "pixels": float(target.numel())}

    def references(self, rgb8: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"quantized-gt": self.palette.to_rgb(self.palette.quantize(rgb8))}

    def to_dict(self) -> dict:
        return {"name": self.name, "palette": self.palette.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "PaletteHead":
        return cls(Palette.from_dict(d["palette"]))

    @classmethod
    def for_training(cls, cfg, data) -> "PaletteHead":
        """The palette JSON ``cfg.palette``, else K-means with ``cfg.k`` (>= 2) colours fitted on the train and
        test pixels of ``cfg.classes`` (none: all) of the one data source ``cfg.dataset`` at ``cfg.roots``."""
        if cfg.palette:
            return cls(Palette.load(cfg.palette))
        print(f"fitting a K={cfg.k} palette on the train+test pixels of {cfg.classes or 'all classes'} ...")
        if len(cfg.roots) > 1:
            raise TintaError("a palette is fitted on one data source; fit it with `tinta palette` and pass --palette")
        from tinta.kmeans import fit_palette

        return cls(fit_palette(cfg.dataset, cfg.roots[0], list(cfg.classes) or None, k=cfg.k, seed=cfg.seed))
