"""Small per-pixel classifiers for 32x32 images (CIFAR-10 colourization over a K-colour palette).

``seed-cnn`` is the classic palette-classification CNN, layer for layer; ``small-unet`` is
the stronger classifier measured against it under the same protocol.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from tinta.models.base import ColorizationModel
from tinta.models.layers import DoubleConv, UpBlock
from tinta.models.registry import register


class SeedCNN(ColorizationModel):
    """Seed 1's CNN (the CIFAR-10 palette classifier): two 5x5 convolutions, each followed by max-pooling,
    two fully connected (MLP) layers, and a softmax over K colours for every pixel.

    conv 5x5 (1 -> 32) -> ReLU -> max-pool 2 -> conv 5x5 (32 -> 64) -> ReLU -> max-pool 2
    -> flatten (64 * 8 * 8 = 4096) -> FC 4096 -> 256 -> ReLU -> FC 256 -> 32 * 32 * K.
    The widths (32, 64) and hidden size (256) are ours; the document leaves them open.
    ``forward`` returns logits; the softmax lives in the loss (cross-entropy) and in
    decoding. The fully connected layers fix the input at ``size x size`` (32 by default).
    """

    def __init__(self, out_channels: int = 24, size: int = 32, widths=(32, 64), hidden: int = 256):
        super().__init__()
        self.size, self.k = size, out_channels
        c1, c2 = widths
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        )
        self.mlp = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * (size // 4) ** 2, hidden), nn.ReLU(inplace=True),
            nn.Linear(hidden, size * size * out_channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, 32, 32)
        if x.shape[-2:] != (self.size, self.size):
            raise ValueError(f"seed-cnn takes {self.size}x{self.size} input, got {tuple(x.shape[-2:])}")
        logits = self.mlp(self.features(x))  # (B, 32*32*K)
        return logits.view(-1, self.k, self.size, self.size)  # (B, K, 32, 32)


class SmallUNet(ColorizationModel):
    """A small fully convolutional U-Net (Ronneberger et al. 2015): three scales,
    DoubleConv units, bilinear upsampling with skip connections. Any input size
    divisible by 4; ``width`` sets the first stage's channels (x2 per scale)."""

    def __init__(self, out_channels: int = 24, width: int = 32):
        super().__init__()
        w = width
        self.enc1 = DoubleConv(1, w)  # (B, w, H, W)
        self.enc2 = DoubleConv(w, 2 * w)  # (B, 2w, H/2, W/2)
        self.mid = DoubleConv(2 * w, 4 * w)  # (B, 4w, H/4, W/4)
        self.pool = nn.MaxPool2d(2)
        self.up2 = UpBlock(4 * w, 2 * w, 2 * w)
        self.up1 = UpBlock(2 * w, w, w)
        self.head = nn.Conv2d(w, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, H, W)
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        m = self.mid(self.pool(e2))
        return self.head(self.up1(self.up2(m, e2), e1))  # (B, C, H, W)


@register("seed-cnn",
          "the seed 1 CIFAR-10 palette CNN: 2 conv 5x5 + max-pool, 2 MLP layers, softmax over K (32x32 only)",
          default_head="palette")
def seed_cnn(out_channels: int = 24, **kw) -> SeedCNN:
    return SeedCNN(out_channels=out_channels, **kw)


@register("small-unet", "small 3-scale U-Net, fully convolutional, any size (per-pixel classifier or regressor)",
          default_head="palette")
def small_unet(out_channels: int = 24, **kw) -> SmallUNet:
    return SmallUNet(out_channels=out_channels, **kw)
