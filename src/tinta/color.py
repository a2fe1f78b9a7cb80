"""sRGB <-> CIE Lab (D65, 2 degree observer) on batched torch tensors.

This is the only module in tinta that knows Lab constants. Everything is pure
tensor-in / tensor-out, differentiable, and works on any leading batch shape
with channels at dim -3: ``(3, H, W)`` or ``(B, 3, H, W)``.

Value ranges
    sRGB   float in [0, 1] (uint8 in [0, 255] is accepted and divided by 255)
    L      [0, 100]
    a, b   roughly [-128, 127] (sRGB gamut: a in [-86, 98], b in [-108, 94])

The formulas and constants follow scikit-image's ``rgb2lab`` / ``lab2rgb``
(sRGB primaries, D65 white (0.95047, 1.0, 1.08883)), so results agree with it
to ~1e-4. They are also kornia's: :func:`rgb_to_lab` equals
``kornia.color.rgb_to_lab`` bit for bit (float32 and float64, checked against
kornia 0.9.0), and :func:`lab_to_rgb` equals ``kornia.color.lab_to_rgb`` in
float32 and to ~2e-15 in float64 (kornia hard-codes the inverse matrix, we
invert the forward one). One difference: with ``clip=False``, linear RGB below
0 is clamped to 0 here, where kornia extends the linear segment to negative
values. kornia guards the cube root at black the same way, so gradients are
finite in both.

We keep these ~40 lines rather than depend on kornia only to keep the package
at torch + numpy + Pillow (kornia brings kornia-rs, a compiled extension, with
it), and because tinta needs a few things kornia does not have: uint8 input,
the L-only helpers (:func:`rgb_to_grey`, :func:`lightness_to_grey`,
:func:`grey_to_lightness`) and OpenCV's 8-bit Lab (:func:`opencv8_to_lab`).

One other Lab path exists, on purpose: film frames (``tinta.video.pipeline.lightness`` / ``to_rgb8``) go
through OpenCV's float Lab conversion, the same D65 sRGB formulas within 0.3 L but several times faster per
720p frame on numpy arrays; ``tests/test_video.py`` pins the two paths to each other. Everything else
(pictures, training, evaluation, serving) uses the functions here.

Model normalisation is defined here once: ``L / 100`` in [0, 1] and
``ab / 110`` in about [-1, 1].
"""

from __future__ import annotations

import torch

L_SCALE = 100.0
AB_SCALE = 110.0

# sRGB (linear) -> XYZ, D65; the matrix scikit-image uses.
_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
_WHITE_D65 = (0.95047, 1.0, 1.08883)
_EPS = 0.008856  # (6/29)^3, as rounded by scikit-image
_KAPPA = 7.787  # 1 / (3 (6/29)^2), as rounded by scikit-image
_F_EPS = 0.2068966  # 6/29


def _check(x: torch.Tensor, name: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (..., 3, H, W), got {tuple(x.shape)}")


def _matrix(x: torch.Tensor, inverse: bool = False) -> torch.Tensor:
    m = torch.tensor(_XYZ_FROM_RGB, dtype=torch.float64)
    if inverse:
        m = torch.linalg.inv(m)
    return m.to(device=x.device, dtype=x.dtype)


def _apply3x3(m: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,...jhw->...ihw", m, x)


def to_float_rgb(rgb: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [0, 1]; float input is returned as is."""
    if rgb.dtype == torch.uint8:
        return rgb.float() / 255.0
    if not rgb.is_floating_point():
        raise TypeError(f"RGB tensors must be uint8 or floating point, got {rgb.dtype}")
    return rgb


def srgb_to_linear(c: torch.Tensor) -> torch.Tensor:
    """sRGB companding undone: [0, 1] -> linear [0, 1]."""
    return torch.where(c > 0.04045, ((c.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4, c / 12.92)


def linear_to_srgb(c: torch.Tensor) -> torch.Tensor:
    """Linear [0, 1] -> sRGB [0, 1] (input clamped at 0 to keep the power real)."""
    c = c.clamp(min=0.0)
    return torch.where(c > 0.0031308, 1.055 * c.clamp(min=0.0031308) ** (1 / 2.4) - 0.055, 12.92 * c)


def _f(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > _EPS, t.clamp(min=_EPS) ** (1.0 / 3.0), _KAPPA * t + 16.0 / 116.0)


def _f_inv(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t > _F_EPS, t**3, (t - 16.0 / 116.0) / _KAPPA)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(..., 3, H, W)`` uint8 or float [0, 1] -> Lab float, L [0, 100]."""
    _check(rgb, "rgb")
    rgb = to_float_rgb(rgb)
    xyz = _apply3x3(_matrix(rgb), srgb_to_linear(rgb))
    white = torch.tensor(_WHITE_D65, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    fx, fy, fz = _f(xyz / white).unbind(-3)
    L = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return torch.stack([L, a, b], dim=-3)


def _lab_to_linear(lab: torch.Tensor) -> torch.Tensor:
    _check(lab, "lab")
    if not lab.is_floating_point():
        raise TypeError(f"lab must be floating point, got {lab.dtype}")
    L, a, b = lab.unbind(-3)
    fy = (L + 16.0) / 116.0
    fx = fy + a / 500.0
    fz = (fy - b / 200.0).clamp(min=0.0)  # scikit-image clamps z at 0 too
    white = torch.tensor(_WHITE_D65, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    xyz = _f_inv(torch.stack([fx, fy, fz], dim=-3)) * white
    return _apply3x3(_matrix(lab, inverse=True), xyz)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """Lab ``(..., 3, H, W)`` -> sRGB float; clipped to [0, 1] unless ``clip=False``."""
    rgb = linear_to_srgb(_lab_to_linear(lab))
    return rgb.clamp(0.0, 1.0) if clip else rgb


_LUT_SIZE = 1 << 16
_SRGB8_LUT: torch.Tensor | None = None


def lab_to_rgb8(lab: torch.Tensor) -> torch.Tensor:
    """Lab ``(..., 3, H, W)`` -> sRGB uint8, for painting results: the sRGB curve read from a 65,536-entry
    table over linear [0, 1] instead of a power per value (about 2x faster on a CPU). Equals
    ``rgb_to_uint8(lab_to_rgb(lab))`` but for values within 1/65535 of a rounding step, which may land
    one level off (about 0.2% of values of a photo, never more than 1)."""
    global _SRGB8_LUT
    if _SRGB8_LUT is None:
        ramp = torch.arange(_LUT_SIZE, dtype=torch.float64) / (_LUT_SIZE - 1)
        _SRGB8_LUT = rgb_to_uint8(linear_to_srgb(ramp))
    lin = _lab_to_linear(lab)
    return _SRGB8_LUT.to(lin.device)[(lin.clamp(0.0, 1.0) * (_LUT_SIZE - 1) + 0.5).long()]


def lightness_to_grey(L: torch.Tensor) -> torch.Tensor:
    """L ``(..., 1, H, W)`` in [0, 100] -> sRGB grey level in [0, 1] with exactly that L."""
    fy = (L + 16.0) / 116.0
    return linear_to_srgb(_f_inv(fy)).clamp(0.0, 1.0)


def rgb_to_grey(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(..., 3, H, W)`` -> grey ``(..., 1, H, W)`` float [0, 1] whose L is the image's L.

    This is the grey photo tinta colourizes: converting it back to Lab gives
    the colour image's own L channel and a = b = 0.
    """
    return lightness_to_grey(rgb_to_lab(rgb)[..., :1, :, :])


def grey_to_lightness(grey: torch.Tensor) -> torch.Tensor:
    """Grey level ``(..., 1, H, W)`` uint8 or float [0, 1] -> L in [0, 100]."""
    grey = to_float_rgb(grey)
    y = srgb_to_linear(grey)  # for a neutral colour, linear R = G = B = Y
    return 116.0 * _f(y) - 16.0


def normalize_l(L: torch.Tensor) -> torch.Tensor:
    """L [0, 100] -> model input [0, 1]."""
    return L / L_SCALE


def normalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """ab [-128, 127] -> model target, about [-1, 1]."""
    return ab / AB_SCALE


def denormalize_ab(ab: torch.Tensor) -> torch.Tensor:
    """Model output ab (about [-1, 1]) -> ab in Lab units."""
    return ab * AB_SCALE


def join_lab(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L ``(..., 1, H, W)`` and ab ``(..., 2, H, W)`` -> Lab ``(..., 3, H, W)``."""
    return torch.cat([L, ab], dim=-3)


def opencv8_to_lab(lab8: torch.Tensor) -> torch.Tensor:
    """OpenCV 8-bit Lab (L*255/100, a+128, b+128), uint8 ``(..., 3, H, W)`` -> Lab float."""
    x = lab8.float()
    return torch.stack([x[..., 0, :, :] * (100.0 / 255.0), x[..., 1, :, :] - 128.0, x[..., 2, :, :] - 128.0], dim=-3)


def lab_to_opencv8(lab: torch.Tensor) -> torch.Tensor:
    """Lab float ``(..., 3, H, W)`` -> OpenCV 8-bit Lab uint8 (rounded, clipped)."""
    L, a, b = lab.unbind(-3)
    out = torch.stack([L * (255.0 / 100.0), a + 128.0, b + 128.0], dim=-3)
    return out.round().clamp(0, 255).to(torch.uint8)


def rgb_to_uint8(rgb: torch.Tensor) -> torch.Tensor:
    """Float sRGB [0, 1] -> uint8 [0, 255], rounded."""
    return (rgb.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8)
