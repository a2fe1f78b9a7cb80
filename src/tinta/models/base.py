"""What every tinta model is: :class:`ColorizationModel`, the one declaration of the attributes that
inference, export and training read besides ``forward`` (a hint-taking model also has the ``encode`` and
``prior`` of :class:`~tinta.models.guided.GuidedUNet`, for the retrieved colour prior of :mod:`tinta.prior`)."""

from __future__ import annotations

import torch.nn as nn


class ColorizationModel(nn.Module):
    """Base of tinta's models: L/100 ``(B, 1, H, W)`` -> ``(B, C, H, W)`` (a head's outputs per pixel).

    Subclasses keep these defaults or set them (as class attributes, or per instance in ``__init__``)."""

    # forward(x, g): x (B, 4, H, W) = L/100 and the hint planes, g (B, GLOBAL_DIM) or None (tinta.hints)
    takes_hints: bool = False
    # the encoder was initialised from ImageNet weights: trained at a lower rate, frozen for the first epochs
    pretrained: bool = False
    # the encoder's BatchNorm layers stay in eval mode in training (ImageNet statistics kept)
    freeze_bn: bool = False
    # models that predict below the input size (models.lab): False returns that smaller output un-upsampled;
    # models that predict at the input size ignore it
    upsample_output: bool = True

    def pretrained_encoder(self) -> nn.Module | None:
        """The ImageNet-initialised part of the model, or None (nothing was pretrained)."""
        return None
