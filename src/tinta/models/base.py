"""What every tinta model is: :class:`ColorizationModel`, the one declaration of the attributes that
inference, export and training read besides ``forward`` (a hint-taking model also has the ``encode`` and
``prior`` of :class:`~tinta.models.guided.GuidedUNet`, for the retrieved colour prior of :mod:`tinta.prior`)."""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn as nn
import torch.nn.functional as F


class PooledOutput(NamedTuple):
    """A training output in two resolutions (see :attr:`ColorizationModel.pool_from`): the first ``pool_from``
    channels at the model's output size ``(B, k, h, w)``, the others from 2x2-pooled features
    ``(B, C - k, h/2, w/2)`` (Zhang et al. train their colour classes at a quarter of the input size)."""

    main: torch.Tensor
    pooled: torch.Tensor

    def float(self) -> "PooledOutput":
        return PooledOutput(self.main.float(), self.pooled.float())

    @property
    def nbytes(self) -> int:
        return self.main.nbytes + self.pooled.nbytes

    @property
    def shape(self) -> torch.Size:
        """The main output's shape ``(B, k, h, w)``: the grid a decoded colour comes out on."""
        return self.main.shape

    def pool_target(self, target: torch.Tensor) -> torch.Tensor:
        """A target ``(B, C, H, W)`` on the pooled channels' grid: area-resized to the main output's size,
        then 2x2-averaged as the features were (an odd last row or column dropped on both sides)."""
        if target.shape[-2:] != self.main.shape[-2:]:
            target = F.interpolate(target, size=self.main.shape[-2:], mode="area")
        return F.avg_pool2d(target, 2)


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
    # the output layer is 1x1 on features at the output size, so the channels from ``pool_from`` on can be
    # computed from 2x2-pooled features (the same numbers as pooling those outputs, for a fraction of the work)
    pools_output: bool = False
    # set by training (``--bins-stride 4``): in training mode, forward returns a PooledOutput split there
    pool_from: int | None = None
    # set by inference for a head that decodes its colour classes at stride 2 (Head.pooled_channels): in eval
    # mode, forward returns a PooledOutput with channels [i, j) from 2x2-pooled features (ceil: an odd last row
    # or column pooled on its own) and the others, in order, as ``main``
    eval_pooled: tuple[int, int] | None = None

    def pretrained_encoder(self) -> nn.Module | None:
        """The ImageNet-initialised part of the model, or None (nothing was pretrained)."""
        return None
