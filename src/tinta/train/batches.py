"""Training data as whole uint8 tensors: index batches turned into (rgb8, lab), augmented on the batch."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from tinta import color
from tinta.data.base import ImageSet, batch_rgb8, batch_to_lab, random_crop_flip
from tinta.hints import HINT_CHANNELS, sample_hint_planes, train_global_hints, train_hint_counts
from tinta.models import ColorizationModel


def model_input(lab: torch.Tensor) -> torch.Tensor:
    return color.normalize_l(lab[:, :1])  # (B, 1, H, W) in [0, 1]


def model_inputs(model: ColorizationModel, lab: torch.Tensor, gen: torch.Generator | None = None,
                 memory_format=torch.contiguous_format) -> tuple[torch.Tensor, ...]:
    """A batch's model inputs: ``(L/100,)``, or for a hint-taking model ``(L/100 + hint planes, global hint)``
    with hints simulated from the ground truth (``gen`` None: no hints at all, as validation measures)."""
    x = model_input(lab)
    if not model.takes_hints:
        return (x.contiguous(memory_format=memory_format),)
    B, _, H, W = x.shape
    if gen is None:
        planes, g = x.new_zeros(B, HINT_CHANNELS, H, W), None
    else:
        ab = lab[:, 1:]
        planes, g = sample_hint_planes(ab, train_hint_counts(B, gen), gen), train_global_hints(ab, gen)
    return torch.cat([x, planes], 1).contiguous(memory_format=memory_format), g


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
