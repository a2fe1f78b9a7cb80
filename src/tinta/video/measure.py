"""Measuring flicker: how much a clip's colour changes from one frame to the next once the motion
is taken out. For every pair of consecutive frames within a shot, the previous frame's a,b are
warped onto the current one by the optical flow of the ground truth's lightness (OpenCV DIS,
preset MEDIUM, at full size); the change ``ab_t - warp(ab_t-1)`` is averaged over cells of
``CELL`` x ``CELL`` pixels, and flicker is the mean length of that change (Lab chroma units) over the
cells, taking only pixels the motion explains (source inside the frame, warped L within ``L_TOLERANCE``
of the frame's own). Averaging over a cell keeps what the eye sees as flicker (a region changing
colour) and drops what warping a fine texture by a flow that is a fraction of a pixel off adds at
every pixel. The ground truth's own flicker is the floor (codec noise, resampling). Holds small clips
in memory (tests, benchmarks).
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
CELL = 8  # flicker is measured on the mean change over CELL x CELL pixel cells


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


def flicker(ab: list[np.ndarray], moves: list[Motion], cell: int = CELL) -> float:
    """Mean over frame pairs of the mean chroma change ``||mean over a cell of (ab_t - warp(ab_t-1))||`` over
    ``cell`` x ``cell`` pixel cells (valid pixels only; cells at least half valid); a,b ``(H, W, 2)``.
    ``cell=1``: per pixel, where resampling a fine texture counts as change too."""
    cv2 = require_cv2()
    per_pair = []
    for m in moves:
        prev, _ = warp(ab[m.t - 1], m.flow)
        v = m.valid.astype(np.float32)
        d = (ab[m.t] - prev) * v[..., None]
        if cell > 1:
            size = (max(1, d.shape[1] // cell), max(1, d.shape[0] // cell))
            d, v = (cv2.resize(x, size, interpolation=cv2.INTER_AREA) for x in (d, v))
        keep = v >= 0.5
        if keep.any():
            per_pair.append(float(np.sqrt(((d[keep] / v[keep][:, None]) ** 2).sum(-1)).mean()))
    return float(np.mean(per_pair)) if per_pair else 0.0


def chroma_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean ``||a - b||`` of two a,b images ``(H, W, 2)`` (Lab units)."""
    return float(np.sqrt(((a - b) ** 2).sum(-1)).mean())
