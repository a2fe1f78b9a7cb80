"""The hint-taking U-Net (Zhang et al. 2017, "Real-Time User-Guided Image Colorization with Learned
Deep Priors"), built on the ``unet`` of :mod:`tinta.models.lab`.

Inputs: ``x`` ``(B, 4, H, W)`` = L/100 and the point-hint planes (a/110, b/110, mask; see
:mod:`tinta.hints`), and optionally a global hint ``g`` ``(B, GLOBAL_DIM)`` (an ab histogram and a
"given" flag). The hint planes enter beside the grey stem through their own stride-2 convolution,
so they reach every skip connection; the global hint is added to the stride-32 features through a
linear layer. Both are zero-initialised: with no hints, and before it is trained, the model is
exactly the U-Net it was initialised from (``--init-from`` a ``unet`` run). Their inputs are scaled by
``HINT_GAIN`` / ``GLOBAL_GAIN``: Adam moves each weight by about the learning rate per step whatever
its gradient, so without a gain these new layers would need thousands of steps to reach the scale of
the pretrained stem beside them (measured: after 500 steps at lr 3e-4 the hints changed PSNR by
< 0.05 dB); the gains make them learn as fast as the trunk.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from tinta.hints import GLOBAL_DIM, HINT_CHANNELS
from tinta.models.efficientnet_lite import EfficientNetLite0
from tinta.models.lab import EffNetUNet
from tinta.models.registry import register

HINT_GAIN, GLOBAL_GAIN = 10.0, 30.0


class GuidedUNet(EffNetUNet):
    takes_hints = True
    # fills the global hint of pictures given none: a callable (pooled deepest features (B, 320), skip_nearest)
    # -> (B, GLOBAL_DIM), the retrieved colour prior (tinta.prior.ColourIndex); None: zeros
    prior = None

    def __init__(self, out_channels: int = 2, imagenet: bool = True, width: int = 32):
        super().__init__(out_channels=out_channels, imagenet=imagenet, width=width)
        stem = self.encoder._conv_stem
        self.hint_stem = nn.Conv2d(HINT_CHANNELS, stem.out_channels, stem.kernel_size, stem.stride, stem.padding,
                                   bias=False)
        self.global_fc = nn.Linear(GLOBAL_DIM, EfficientNetLite0.FEATURE_CHANNELS[-1])
        for p in (self.hint_stem.weight, self.global_fc.weight, self.global_fc.bias):
            nn.init.zeros_(p)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Encoder features with the point hints, before the global hint: strides 2, 4, 8, 16, 32."""
        return self.encoder.features(self.grey(x[:, :1]), stem_extra=self.hint_stem(HINT_GAIN * x[:, 1:]))

    def features(self, x: torch.Tensor, g: torch.Tensor | None) -> list[torch.Tensor]:
        feats = self.encode(x)
        if self.prior is not None:  # pictures given no global hint (none, or a row of zeros) get the prior's
            retrieved = self.prior(feats[-1].mean((2, 3)), skip_nearest=self.training)  # (B, GLOBAL_DIM)
            g = retrieved if g is None else torch.where(g[:, -1:] > 0, g, retrieved)
        if g is None:  # no global hint: zeros, as in training without a prior
            g = x.new_zeros(x.shape[0], GLOBAL_DIM)
        feats[-1] = feats[-1] + self.global_fc(GLOBAL_GAIN * g)[:, :, None, None]  # (B, 320, H/32, W/32)
        return feats  # strides 2, 4, 8, 16, 32

    def forward(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor:  # x: (B, 4, H, W)
        return self.decode(self.features(x, g), x)  # (B, C, H, W)


@register("guided-unet", "the unet with point hints and a global colour hint as inputs (Zhang et al. 2017)",
          imagenet_encoder=True)
def guided_unet(out_channels: int = 2, **kw) -> GuidedUNet:
    return GuidedUNet(out_channels=out_channels, **kw)
