"""Training data as whole uint8 tensors: index batches turned into (rgb8, lab), augmented on the batch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tinta import color
from tinta.data.base import ImageSet, batch_rgb8, batch_to_lab, random_crop_flip


def model_input(lab: torch.Tensor) -> torch.Tensor:
    return color.normalize_l(lab[:, :1])  # (B, 1, H, W) in [0, 1]


@dataclass
class Batches:
    """Index batches of an ImageSet turned into (rgb8, lab) on a device, optionally augmented."""

    data: ImageSet
    device: torch.device

    def fetch(self, idx: torch.Tensor, crop=None, flip=False, gen=None) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.data.get(idx)  # (B, 3, H, W) uint8
        if crop or flip:
            raw = random_crop_flip(raw, crop, flip, gen)
        lab = batch_to_lab(raw, self.data.colorspace)
        return batch_rgb8(raw, lab, self.data.colorspace).to(self.device), lab.to(self.device)
