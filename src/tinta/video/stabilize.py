"""Temporal stabiliser: per-frame colour predictions made steady along the motion, reset at cuts.

Colourizing each frame on its own flickers: the model sees a slightly different picture every
frame (the camera moved, grain changed) and a coat's predicted colour wanders. The stabiliser
works on the small a,b the model predicts (its render size, so it costs well under a millisecond
a frame) and keeps, per pixel, a running blend of the new prediction and the previous *output*
carried along the motion:

    flow       DIS optical flow (OpenCV) from this frame's L to the previous frame's, at render size
    history    previous output a,b warped by the flow (backward warp: where each pixel came from)
    trust      exp(-(r / sigma)^2) where r is how badly the warped previous L matches this L (after
               removing a global brightness change, e.g. an old film's exposure flicker): occluded,
               uncovered or mis-tracked pixels trust their history less; pixels warped from outside
               the previous frame not at all
    output     (1 - k) * prediction + k * history,  k = strength * trust

A *cut* is a frame whose motion explains less than ``1 - cut_fraction`` of its pixels (their L
residual above ``cut_residual``): the history is dropped there and the output is the prediction,
so no colour is carried from one shot into the next. The filter is causal (one frame of state), so
memory is bounded and a long film streams through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def require_cv2():
    """OpenCV, or a TintaError saying how to install it."""
    try:
        import cv2
    except ImportError:
        from tinta.errors import TintaError

        raise TintaError("colourizing video needs PyAV and OpenCV: pip install 'tinta[video]'") from None
    return cv2


@dataclass
class StabilizeOptions:
    # defaults chosen on photos-mix val clips (benchmarks/video.py --source photos-mix): the shortest memory
    # that met the flicker goal; strength 0.9 is a time constant of about 10 frames
    strength: float = 0.9  # weight of the motion-compensated history, 0 (per frame) to < 1
    sigma: float = 12.0  # L units: a pixel whose warped L is this far off keeps exp(-1) of the history weight
    cut_residual: float = 12.0  # L units: a pixel this far off is not explained by the motion
    cut_fraction: float = 0.5  # share of unexplained pixels that marks a cut

    def __post_init__(self):
        if not 0.0 <= self.strength < 1.0:
            from tinta.errors import TintaError

            raise TintaError(f"stabiliser strength must be in [0, 1), got {self.strength}")


def dis_flow(cur: np.ndarray, prev: np.ndarray, dis=None) -> np.ndarray:
    """Backward optical flow ``(h, w, 2)`` float32 (x, y): pixel p of ``cur`` was at p + flow in ``prev``.
    ``cur``, ``prev``: L ``(h, w)`` in [0, 100] (float) or grey uint8; ``dis``: an OpenCV DIS flow
    object (default: a new one, preset FAST)."""
    cv2 = require_cv2()
    dis = dis or cv2.DISOpticalFlow_create(cv2.DISOpticalFlow_PRESET_FAST)
    return dis.calc(_grey8(cur), _grey8(prev), None)


def _grey8(L: np.ndarray) -> np.ndarray:
    return L if L.dtype == np.uint8 else np.clip(L * 2.55 + 0.5, 0, 255).astype(np.uint8)


def warp(img: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``img`` ``(h, w)`` or ``(h, w, C)`` float32 sampled at p + flow (bilinear, edges clamped) and a
    mask ``(h, w)`` bool of the pixels whose source lies inside the image."""
    cv2 = require_cv2()
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    mx, my = gx + flow[..., 0], gy + flow[..., 1]
    inside = (mx >= -0.5) & (mx <= w - 0.5) & (my >= -0.5) & (my <= h - 0.5)
    return cv2.remap(img, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), inside


def resize_flow(flow: np.ndarray, h: int, w: int) -> np.ndarray:
    """A flow field resized to ``(h, w)``, its vectors scaled with it."""
    cv2 = require_cv2()
    fh, fw = flow.shape[:2]
    if (fh, fw) == (h, w):
        return flow
    out = cv2.resize(flow, (w, h), interpolation=cv2.INTER_LINEAR)
    out[..., 0] *= w / fw
    out[..., 1] *= h / fh
    return out


class Stabilizer:
    """Call once per frame, in order: ``ab = stabilizer(L, ab)``; :meth:`reset` between clips."""

    def __init__(self, options: StabilizeOptions | None = None):
        self.options = options or StabilizeOptions()
        self.cuts = 0  # cuts detected so far
        cv2 = require_cv2()
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOpticalFlow_PRESET_FAST)
        self.reset()

    def reset(self) -> None:
        self.prev_L: np.ndarray | None = None
        self.prev_ab: np.ndarray | None = None

    def __call__(self, L: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, bool]:
        """L ``(H, W)`` float32 in [0, 100] (the model's input, render size) and the predicted a,b
        ``(2, h, w)`` float32 (render or the model's native size) -> (stabilised a,b ``(2, h, w)``,
        whether this frame starts a new shot)."""
        o = self.options
        cut = self.prev_L is None or self.prev_L.shape != L.shape or self.prev_ab.shape != ab.shape
        out = ab
        if not cut and o.strength > 0:
            k, cut = self._trust(L, ab.shape[1:])
            if not cut:
                history, _ = warp(np.ascontiguousarray(self.prev_ab.transpose(1, 2, 0)), self._flow_small)
                out = ab + k[None] * (history.transpose(2, 0, 1) - ab)
        self.cuts += int(cut and self.prev_L is not None)
        self.prev_L, self.prev_ab = L, np.ascontiguousarray(out, dtype=np.float32)
        return out, cut

    def _trust(self, L: np.ndarray, size: tuple[int, int]) -> tuple[np.ndarray, bool]:
        """Per-pixel history weight ``(h, w)`` at a,b size, and whether the motion fails (a cut)."""
        o = self.options
        flow = dis_flow(L, self.prev_L, self._dis)
        warped, inside = warp(self.prev_L, flow)
        diff = L - warped
        r = np.abs(diff - np.median(diff[inside])) if inside.any() else np.abs(diff)
        unexplained = float(((r > o.cut_residual) | ~inside).mean())
        if unexplained > o.cut_fraction:
            return np.zeros(size, np.float32), True
        trust = np.exp(-((r / o.sigma) ** 2)) * inside
        cv2 = require_cv2()
        h, w = size
        self._flow_small = resize_flow(flow, h, w)
        k = cv2.resize(trust.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) * o.strength
        return k, False
