"""Encoder-decoder colourization models for photos (L in, a,b or bin logits out, at H/2, upsampled):

- ``vanilla-cnn``: plain convolutional encoder-decoder, no skips, no pretrained weights (baseline);
- ``resnet``: ResNet-18 trunk (He et al. 2016) + upsampling decoder, ImageNet weights when a
  torchvision checkpoint is available, else from scratch;
- ``unet``: U-Net (Ronneberger et al. 2015) whose encoder is ImageNet-trained EfficientNet-Lite0,
  with skip connections at every scale.

Pretrained encoders see the grey image the way they saw photos: L is turned into its sRGB
grey level, normalised with the mean of the three channel statistics, and the first
convolution's RGB filters are summed into one grey filter. Their BatchNorm layers keep the
ImageNet statistics (held in eval mode) so small CPU batches cannot corrupt them.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from tinta import color
from tinta.models import efficientnet_lite
from tinta.models import resnet as resnet_mod
from tinta.models.base import ColorizationModel, PooledOutput
from tinta.models.efficientnet_lite import VARIANTS, EfficientNetLite, encoder_state_dict
from tinta.models.layers import UpBlock, conv_bn_relu
from tinta.models.registry import register


def grey_first_conv(conv: nn.Conv2d) -> nn.Conv2d:
    """A 1-input-channel copy of an RGB convolution whose filter is the sum of the RGB filters."""
    new = nn.Conv2d(1, conv.out_channels, conv.kernel_size, conv.stride, conv.padding, bias=conv.bias is not None)
    with torch.no_grad():
        new.weight.copy_(conv.weight.sum(dim=1, keepdim=True))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    return new


def upsample_to(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """Bilinear upsampling of the half-resolution output to the input's size."""
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)


class HalfResOutput(ColorizationModel):
    """The LAB models predict at H/2 and, by default, upsample their output to the input's size.
    With ``upsample_output = False`` they return it at H/2: training the ab-bins head that way
    (targets pooled to H/2, as Zhang et al. train at a quarter of the input size) spares
    upsampling and scoring ~313 logits at every full-resolution pixel (2.2x faster epochs on CPU)."""

    pools_output = True
    head: nn.Conv2d  # 1x1, decoder width -> out_channels

    def output(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return upsample_to(y, x) if self.upsample_output else y

    def project(self, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor | PooledOutput:
        """The output layer on decoder features ``y`` ``(B, w, H/2, W/2)`` -> ``(B, C, H, W)`` (see
        :meth:`output`); in training with ``pool_from`` set, a :class:`PooledOutput`."""
        if self.training and self.pool_from is not None:
            return self.pooled_projection(y, self.pool_from, self.head.out_channels, ceil=False)
        if not self.training and self.eval_pooled is not None and not self.upsample_output:
            return self.pooled_projection(y, *self.eval_pooled, ceil=True)
        return self.output(self.head(y), x)

    def pooled_projection(self, y: torch.Tensor, i: int, j: int, ceil: bool) -> PooledOutput:
        """The output layer with channels ``[i, j)`` on 2x2-pooled features ``(B, j-i, h/2, w/2)`` (``ceil``: an odd
        last row or column pooled on its own, else dropped) and the others, in order, at ``y``'s size."""
        weight, bias = self.head.weight, self.head.bias
        keep_w, keep_b = torch.cat([weight[:i], weight[j:]]), torch.cat([bias[:i], bias[j:]])
        main = F.conv2d(y, keep_w, keep_b) if len(keep_w) else y[:, :0]  # (B, C-(j-i), h, w); none for a bins head
        return PooledOutput(main, F.conv2d(F.avg_pool2d(y, 2, ceil_mode=ceil), weight[i:j], bias[i:j]))


class GreyInput(nn.Module):
    """L / 100 ``(B, 1, H, W)`` -> normalised grey level, as a pretrained RGB network expects."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]):
        super().__init__()
        self.mean, self.std = sum(mean) / len(mean), sum(std) / len(std)

    def forward(self, l_norm: torch.Tensor) -> torch.Tensor:
        grey = color.lightness_to_grey(l_norm * color.L_SCALE)  # (B, 1, H, W) in [0, 1]
        return (grey - self.mean) / self.std


class PretrainedEncoder(ColorizationModel):
    """A model whose ``encoder`` may hold ImageNet weights (``pretrained``); keeps the encoder's
    BatchNorm layers in eval mode (frozen ImageNet statistics) when ``freeze_bn``."""

    encoder: nn.Module

    def pretrained_encoder(self) -> nn.Module | None:
        return self.encoder if self.pretrained else None

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_bn:
            for m in self.encoder.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self


class VanillaCNN(HalfResOutput):
    """Encoder (3 stride-2 stages) -> decoder (2 upsampling stages), no skip connections.
    Like the other LAB models it predicts at half resolution and upsamples the output x2
    (chroma is low-frequency; JPEG 4:2:0 ground truth has half-resolution chroma anyway)."""

    def __init__(self, out_channels: int = 2, width: int = 32):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(
            conv_bn_relu(1, w, stride=2),  # (B, w, H/2, W/2)
            conv_bn_relu(w, 2 * w, stride=2),  # (B, 2w, H/4, W/4)
            conv_bn_relu(2 * w, 4 * w, stride=2), conv_bn_relu(4 * w, 4 * w),  # (B, 4w, H/8, W/8)
        )
        self.decoder = nn.Sequential(UpBlock(4 * w, 0, 2 * w), UpBlock(2 * w, 0, w))  # (B, w, H/2, W/2)
        self.head = nn.Conv2d(w, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, H, W), H, W even
        return self.project(self.decoder(self.encoder(x)), x)  # (B, C, H, W)


class ResNetColorizer(HalfResOutput, PretrainedEncoder):
    """ResNet-18 trunk (to layer3, stride 16) -> 3 upsampling stages to H/2, no skip connections."""

    def __init__(self, out_channels: int = 2, weights: str | None = None, imagenet: bool = True, width: int = 32):
        super().__init__()
        trunk = resnet_mod.ResNet18Trunk()
        path = resnet_mod.find_resnet18_weights(weights) if imagenet else None
        if path is not None:
            resnet_mod.load_resnet18_imagenet(trunk, path)
        self.pretrained = self.freeze_bn = path is not None
        trunk.conv1 = grey_first_conv(trunk.conv1)
        self.grey = GreyInput(resnet_mod.MEAN, resnet_mod.STD)
        self.encoder = trunk
        w = width
        self.decoder = nn.Sequential(UpBlock(256, 0, 4 * w), UpBlock(4 * w, 0, 2 * w), UpBlock(2 * w, 0, w))
        self.head = nn.Conv2d(w, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, H, W), H, W even
        f = self.encoder(self.grey(x))  # (B, 256, H/16, W/16)
        return self.project(self.decoder(f), x)  # (B, C, H, W)


class EffNetUNet(HalfResOutput, PretrainedEncoder):
    """U-Net with an EfficientNet-Lite encoder (``lite0`` or ``lite1``: the same channels, Lite1 has five
    more blocks) and skips at strides 16, 8, 4 and 2."""

    def __init__(self, out_channels: int = 2, imagenet: bool = True, width: int = 32, encoder: str = "lite0"):
        super().__init__()
        enc = EfficientNetLite(*VARIANTS[encoder][:2])
        if imagenet:
            enc.load_state_dict(encoder_state_dict(encoder))
        self.pretrained = self.freeze_bn = imagenet
        enc._conv_stem = grey_first_conv(enc._conv_stem)
        del enc._conv_head, enc._bn1, enc._fc  # the classifier head is not used
        self.encoder = enc
        self.grey = GreyInput(efficientnet_lite.MEAN, efficientnet_lite.STD)
        c2, c4, c8, c16, c32 = enc.feature_channels
        w = width  # decoder width
        self.up16 = UpBlock(c32, c16, 4 * w)
        self.up8 = UpBlock(4 * w, c8, 2 * w)
        self.up4 = UpBlock(2 * w, c4, 2 * w)
        self.up2 = UpBlock(2 * w, c2, w)
        self.head = nn.Conv2d(w, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, H, W), H, W even
        return self.decode(self.encoder.features(self.grey(x)), x)  # (B, C, H, W)

    def decode(self, feats: list[torch.Tensor], x: torch.Tensor) -> torch.Tensor:
        """Encoder features at strides 2..32 -> the output ``(B, C, H, W)`` (``x``: the input, for its size)."""
        f2, f4, f8, f16, f32 = feats
        y = self.up8(self.up16(f32, f16), f8)  # (B, 2w, H/8, W/8)
        y = self.up2(self.up4(y, f4), f2)  # (B, w, H/2, W/2)
        return self.project(y, x)


@register("vanilla-cnn", "the seed 2 baseline: plain conv encoder-decoder, no skips, from scratch")
def vanilla_cnn(out_channels: int = 2, **kw) -> VanillaCNN:
    return VanillaCNN(out_channels=out_channels, **kw)


@register("resnet", "ResNet-18 trunk + upsampling decoder; ImageNet weights if a torchvision file is found",
          imagenet_encoder=True)
def resnet(out_channels: int = 2, **kw) -> ResNetColorizer:
    return ResNetColorizer(out_channels=out_channels, **kw)


@register("unet", "U-Net with ImageNet EfficientNet-Lite0 encoder, skips at every scale", imagenet_encoder=True)
def unet(out_channels: int = 2, **kw) -> EffNetUNet:
    return EffNetUNet(out_channels=out_channels, **kw)


@register("unet-lite1", "the unet with an ImageNet EfficientNet-Lite1 encoder (deeper, same channels)",
          imagenet_encoder=True)
def unet_lite1(out_channels: int = 2, **kw) -> EffNetUNet:
    return EffNetUNet(out_channels=out_channels, encoder="lite1", **kw)
