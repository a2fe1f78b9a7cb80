"""ResNet-18 (He et al. 2016) in plain PyTorch with torchvision's module names, so the
standard torchvision ImageNet checkpoint (``resnet18-f37072fd.pth``) loads unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn as nn

from tinta.errors import TintaError
from tinta.files import sha256_file

RESNET18_FILE = "resnet18-f37072fd.pth"
# torch hub names a checkpoint by the first 8 hex digits of its sha256; that is what we check.
RESNET18_SHA256_PREFIX = "f37072fd"
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet18Trunk(nn.Module):
    """conv1/bn1/maxpool and layer1..layer3 of ResNet-18 (layer4 and fc dropped).
    ``forward``: ``(B, 3, H, W)`` -> ``(B, 256, H/16, W/16)``."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, H/4, W/4)
        return self.layer3(self.layer2(self.layer1(x)))  # (B, 256, H/16, W/16)


def find_resnet18_weights(path: str | os.PathLike | None = None) -> Path | None:
    """An explicit path, else the torch hub cache (``$TORCH_HOME/hub/checkpoints``), else None."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise TintaError(f"ResNet-18 weights not found: {p}")
        return p
    torch_home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    p = torch_home / "hub" / "checkpoints" / RESNET18_FILE
    return p if p.is_file() else None


def load_resnet18_imagenet(trunk: ResNet18Trunk, path: Path, check_hash: bool = True) -> None:
    """Load a torchvision-format ResNet-18 checkpoint (sha256-checked) into ``trunk``."""
    if check_hash:
        digest = sha256_file(path)
        if not digest.startswith(RESNET18_SHA256_PREFIX):
            raise TintaError(
                f"{path}: sha256 {digest[:12]}... does not match torchvision's ResNet-18 ({RESNET18_SHA256_PREFIX})"
            )
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith(("layer4.", "fc."))}
    missing, unexpected = trunk.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise TintaError(f"{path}: not a ResNet-18 checkpoint (missing {missing[:3]}, unexpected {unexpected[:3]})")
