"""The U-Net with global context (Iizuka, Simo-Serra & Ishikawa 2016, "Let there be Color!"): the
deepest encoder features, average-pooled over the whole picture, modulate every decoder stage
(FiLM, Perez et al. 2018: ``y * (1 + gamma) + beta`` per channel). A stage then knows "this is a
beach" or "this is a kitchen" even where its own receptive field sees only sand or tiles.

The FiLM layers are zero-initialised: before training the model is exactly the ``unet`` it was
initialised from (``--init-from``), so the global path only adds what it learns.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from tinta.models.lab import EffNetUNet
from tinta.models.registry import register


class ContextUNet(EffNetUNet):
    def __init__(self, out_channels: int = 2, imagenet: bool = True, width: int = 32):
        super().__init__(out_channels=out_channels, imagenet=imagenet, width=width)
        deep, w = self.encoder.feature_channels[-1], width
        self.film = nn.ModuleList(nn.Linear(deep, 2 * c) for c in (4 * w, 2 * w, 2 * w, w))  # gamma, beta per stage
        for layer in self.film:
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def decode(self, feats: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        f2, f4, f8, f16, f32 = feats
        g = f32.mean((2, 3))  # (B, 320): the whole picture
        y = f32
        for up, skip, film in zip((self.up16, self.up8, self.up4, self.up2), (f16, f8, f4, f2), self.film):
            gamma, beta = film(g)[:, :, None, None].chunk(2, 1)  # (B, c, 1, 1) each
            y = up(y, skip)
            y = y * (1 + gamma) + beta  # (B, c, h, w)
        return self.project(y, x)  # (B, C, H, W)


@register("unet-context", "the unet with global context: pooled deepest features modulate every decoder stage "
          "(FiLM)", imagenet_encoder=True)
def unet_context(out_channels: int = 2, **kw) -> ContextUNet:
    return ContextUNet(out_channels=out_channels, **kw)
