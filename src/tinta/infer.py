"""Running a colourization model on images of any size.

The model sees a resized copy of the lightness (short side ``render_size``); its output
is upsampled back to full resolution and joined with the full-resolution L, so no
detail of the input is lost: only chroma, which the eye resolves coarsely, comes
from the smaller render.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from tinta import color


def render_shape(h: int, w: int, render_size: int | None) -> tuple[int, int]:
    """(h, w) scaled so the short side is ``render_size`` (even sides); unchanged if None."""
    if not render_size or min(h, w) == render_size:
        return h, w
    s = render_size / min(h, w)
    return max(2, round(h * s / 2) * 2), max(2, round(w * s / 2) * 2)


@torch.no_grad()
def model_output(model: torch.nn.Module, L: torch.Tensor, render_size: int | None = None) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] -> the model's output ``(B, C, H, W)`` at full size,
    computed at ``render_size`` and upsampled bilinearly."""
    H, W = L.shape[-2:]
    x = color.normalize_l(L)
    rh, rw = render_shape(H, W, render_size)
    if (rh, rw) != (H, W):
        x = F.interpolate(x, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
    out = model(x)
    if out.shape[-2:] != (H, W):
        out = F.interpolate(out, size=(H, W), mode="bilinear", align_corners=False)
    return out
