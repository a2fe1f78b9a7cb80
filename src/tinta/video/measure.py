"""Measuring flicker: how much a clip's colour changes from one frame to the next once the motion
is taken out. For every pair of consecutive frames within a shot, the previous frame's a,b are
warped onto the current one by the optical flow of the ground truth's lightness (OpenCV DIS,
preset MEDIUM, at full size), and flicker is the mean chroma distance ``||ab_t - warp(ab_t-1)||``
(Lab units) over the pixels the motion explains (source inside the frame, warped L within
``L_TOLERANCE`` of the frame's own). The ground truth's own flicker is the floor: codec noise and
resampling, not colour that changes. Holds small clips in memory (tests, benchmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tinta import color
from tinta.video.io import require_av
from tinta.video.stabilize import require_cv2, warp

L_TOLERANCE = 3.0  # L units: pixels whose warped lightness is further off are not compared


def decode(path: str | Path) -> list[np.ndarray]:
    """Every frame of a (small) video file, ``(H, W, 3)`` uint8."""
    av = require_av()
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def lab(rgb8: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(H, W, 3)`` uint8 -> (L ``(H, W)`` in [0, 100], a,b ``(H, W, 2)``), float32, by :mod:`tinta.color`."""
    x = color.rgb_to_lab(torch.from_numpy(np.ascontiguousarray(rgb8)).permute(2, 0, 1))
    return x[0].numpy(), np.ascontiguousarray(x[1:].permute(1, 2, 0).numpy())


@dataclass
class Motion:
    """The ground truth's motion between frame t-1 and t, for every t that is not the first of a shot."""

    t: int
    flow: np.ndarray  # (H, W, 2): pixel p of frame t was at p + flow in frame t-1
    valid: np.ndarray  # (H, W) bool: pixels the motion explains


def motion(L: list[np.ndarray], cuts: list[int] | set[int] = ()) -> list[Motion]:
    """Flow and valid pixels of every consecutive pair of ``L`` (ground-truth lightness ``(H, W)``)
    that does not span a cut (``cuts``: first frames of shots)."""
    cv2 = require_cv2()
    dis = cv2.DISOpticalFlow_create(cv2.DISOpticalFlow_PRESET_MEDIUM)
    out = []
    for t in range(1, len(L)):
        if t in set(cuts):
            continue
        g = [np.clip(x * 2.55 + 0.5, 0, 255).astype(np.uint8) for x in (L[t], L[t - 1])]
        flow = dis.calc(g[0], g[1], None)
        warped, inside = warp(L[t - 1], flow)
        out.append(Motion(t, flow, inside & (np.abs(L[t] - warped) < L_TOLERANCE)))
    return out


def flicker(ab: list[np.ndarray], moves: list[Motion]) -> float:
    """Mean over frame pairs of the mean ``||ab_t - warp(ab_t-1)||`` over valid pixels (a,b ``(H, W, 2)``)."""
    per_pair = []
    for m in moves:
        if not m.valid.any():
            continue
        prev, _ = warp(ab[m.t - 1], m.flow)
        d = np.sqrt(((ab[m.t] - prev) ** 2).sum(-1))
        per_pair.append(float(d[m.valid].mean()))
    return float(np.mean(per_pair)) if per_pair else 0.0


def chroma_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean ``||a - b||`` of two a,b images ``(H, W, 2)`` (Lab units)."""
    return float(np.sqrt(((a - b) ** 2).sum(-1)).mean())
