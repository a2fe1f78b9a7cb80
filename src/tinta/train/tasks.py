"""What a model predicts per pixel, how it is trained, and how its output becomes colour.

- :class:`RegressionTask`: normalised a,b (2 channels), Huber / L1 / L2 loss.
- :class:`PaletteTask`: one of K palette colours (founding document 1), cross-entropy;
  decoded either the seed's way (the palette RGB for every pixel) or chroma-only
  (the palette colour's a,b joined with the input's own L).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinta import color


class RegressionTask:
    name = "regression"
    out_channels = 2
    decodings = ("ab",)
    main_decoding = "ab"

    def __init__(self, loss: str = "huber"):
        if loss not in ("huber", "l1", "l2"):
            raise ValueError(f"unknown regression loss {loss!r}")
        self.loss_name = loss

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return color.normalize_ab(lab[:, 1:])  # (B, 2, H, W)

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.loss_name == "l1":
            return F.l1_loss(out, target)
        if self.loss_name == "l2":
            return F.mse_loss(out, target)
        return F.smooth_l1_loss(out, target, beta=0.1)

    def predict_ab(self, out: torch.Tensor, saturation: float = 1.0) -> torch.Tensor:
        """ab in Lab units ``(B, 2, H, W)``; ``saturation`` scales the chroma."""
        return color.denormalize_ab(out) * saturation

    def decode(self, out: torch.Tensor, L: torch.Tensor, decoding: str = "ab", **kw) -> torch.Tensor:
        """-> sRGB float ``(B, 3, H, W)``; ``L`` is ``(B, 1, H, W)`` in [0, 100]."""
        return color.lab_to_rgb(color.join_lab(L, self.predict_ab(out, **kw)))

    def batch_stats(self, out: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {}


class PaletteTask:
    name = "palette"
    decodings = ("palette", "chroma")
    main_decoding = "chroma"

    def __init__(self, palette):
        self.palette = palette
        self.out_channels = palette.k

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return self.palette.quantize(rgb8)  # (B, H, W) int64

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(out, target)

    def predict_ab(self, out: torch.Tensor, saturation: float = 1.0) -> torch.Tensor:
        """Chroma of the most likely palette colour, ``(B, 2, H, W)``, scaled by ``saturation``."""
        ab = self.palette.ab().to(out.device, torch.float32)  # (K, 2)
        return ab[out.argmax(1)].permute(0, 3, 1, 2) * saturation  # (B, 2, H, W)

    def decode(self, out: torch.Tensor, L: torch.Tensor, decoding: str = "chroma", **kw) -> torch.Tensor:
        if decoding == "palette":
            return self.palette.to_rgb(out.argmax(1)).float() / 255.0  # (B, 3, H, W)
        if decoding == "chroma":
            return color.lab_to_rgb(color.join_lab(L, self.predict_ab(out)))
        raise ValueError(f"palette decoding must be one of {self.decodings}, got {decoding!r}")

    def batch_stats(self, out: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {"correct": float((out.argmax(1) == target).sum()), "pixels": float(target.numel())}


class BinTask:
    """Classification over ab bins (Zhang et al. 2016): rebalanced soft cross-entropy,
    decoded with the annealed mean at each of ``temperatures`` (the first is the default)."""

    name = "bins"

    def __init__(self, bins, temperatures: tuple[float, ...] = (0.38,), rebalance: bool = True,
                 main: float | None = None):
        self.bins, self.rebalance = bins, rebalance
        self.temperatures = tuple(temperatures)
        self.main = main if main in self.temperatures else self.temperatures[0]
        self.out_channels = bins.q

    @property
    def decodings(self) -> tuple[str, ...]:
        return tuple(f"T={t:g}" for t in self.temperatures)

    @property
    def main_decoding(self) -> str:  # the temperature the model is used at (e.g. by tinta colorize)
        return f"T={self.main:g}"

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return lab[:, 1:]  # (B, 2, H, W) ab; soft-encoded inside the loss

    def loss(self, out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Logits at the targets' size, or smaller (then the ab targets are area-pooled to it)."""
        from tinta.train.bins import rebalanced_soft_ce

        if out.shape[-2:] != target.shape[-2:]:
            target = F.interpolate(target, size=out.shape[-2:], mode="area")  # (B, 2, h, w)
        return rebalanced_soft_ce(out, target, self.bins, self.rebalance)

    def predict_ab(self, out: torch.Tensor, saturation: float = 1.0, temperature: float | None = None) -> torch.Tensor:
        """Annealed mean; ``saturation`` s divides the temperature (s > 1: more vivid, s = 0: grey)."""
        from tinta.train.bins import annealed_mean

        if saturation <= 0:
            return out.new_zeros(out.shape[0], 2, *out.shape[2:])
        return annealed_mean(out, self.bins, (temperature or self.main) / saturation)

    def decode(self, out: torch.Tensor, L: torch.Tensor, decoding: str | None = None, **kw) -> torch.Tensor:
        t = float(decoding.split("=")[1]) if decoding else None
        return color.lab_to_rgb(color.join_lab(L, self.predict_ab(out, temperature=t, **kw)))

    def batch_stats(self, out: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
        return {}
