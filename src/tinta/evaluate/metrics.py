"""Image metrics on batched tensors. All take sRGB ``(B, 3, H, W)`` (uint8, or float in
[0, 255]) and return one value per image ``(B,)``, so means are over images."""

from __future__ import annotations

import torch


def _f64(x: torch.Tensor) -> torch.Tensor:
    return x.to(torch.float64)


def psnr(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-10) -> torch.Tensor:
    """PSNR in dB on the 8-bit scale, per image: 10 log10(255^2 / MSE)."""
    mse = ((_f64(pred) - _f64(target)) ** 2).mean((1, 2, 3))
    return 10 * torch.log10(255.0**2 / mse.clamp(min=eps))


def _gaussian_band(n: int, size: int, sigma: float) -> torch.Tensor:
    """``(n - size + 1, n)`` float64 matrix whose rows are the normalised Gaussian window
    at each valid position: ``band @ z`` filters ``z`` along its first axis ("valid" mode)."""
    g = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-(g**2) / (2 * sigma**2))
    g = g / g.sum()
    rows = torch.arange(n - size + 1)[:, None]
    offset = torch.arange(n)[None, :] - rows  # (n - size + 1, n)
    inside = (offset >= 0) & (offset < size)
    return torch.where(inside, g[offset.clamp(0, size - 1)], torch.zeros((), dtype=torch.float64))


def ssim(pred: torch.Tensor, target: torch.Tensor, sigma: float = 1.5, size: int = 11) -> torch.Tensor:
    """SSIM of Wang et al. (2004) per image: Gaussian window (11x11, sigma 1.5),
    K1 = 0.01, K2 = 0.03, L = 255, per channel then averaged, valid region only.

    The separable Gaussian filter runs as two float64 matrix products (exact, and an order
    of magnitude faster on a CPU than a float64 depthwise convolution)."""
    x, y = _f64(pred), _f64(target)
    H, W = x.shape[-2:]
    bh, bw = _gaussian_band(H, size, sigma).to(x.device), _gaussian_band(W, size, sigma).to(x.device)
    z = torch.stack([x, y, x * x, y * y, x * y], 1)  # (B, 5, C, H, W)
    mx, my, exx, eyy, exy = (bh @ z @ bw.T).unbind(1)  # each (B, C, H - size + 1, W - size + 1)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    sxx, syy, sxy = exx - mx**2, eyy - my**2, exy - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return s.mean((1, 2, 3))


def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler & Suesstrunk (2003) colourfulness per image, on the 0..255 scale:
    sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2), rg = R - G, yb = (R + G)/2 - B."""
    r, g, b = _f64(rgb).unbind(1)
    rg = (r - g).flatten(1)
    yb = (0.5 * (r + g) - b).flatten(1)
    sd = torch.sqrt(rg.var(1, unbiased=False) + yb.var(1, unbiased=False))
    mean = torch.sqrt(rg.mean(1) ** 2 + yb.mean(1) ** 2)
    return sd + 0.3 * mean


def pixel_accuracy(pred_idx: torch.Tensor, target_idx: torch.Tensor) -> torch.Tensor:
    """Fraction of pixels whose class matches, per image ``(B,)``."""
    return (pred_idx == target_idx).flatten(1).double().mean(1)



def frechet_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two sets of feature vectors ``(N, D)`` and ``(M, D)``
    (FID's formula, Heusel et al. 2017): ``|mu_x - mu_y|^2 + tr(S_x + S_y - 2 (S_x S_y)^(1/2))``.
    ``tr (S_x S_y)^(1/2)`` is computed as ``sum sqrt(eig(S_x^(1/2) S_y S_x^(1/2)))`` (a symmetric PSD
    matrix with the same eigenvalues), in float64. 0 for identical sets; needs at least 2 vectors each."""
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise ValueError(f"need two (N >= 2, D) feature sets of one D, got {tuple(x.shape)} and {tuple(y.shape)}")
    x, y = _f64(x), _f64(y)
    mx, my = x.mean(0), y.mean(0)
    sx, sy = torch.cov(x.T), torch.cov(y.T)
    ex, vx = torch.linalg.eigh(sx)
    root_x = (vx * ex.clamp(min=0).sqrt()) @ vx.T  # S_x^(1/2)
    middle = torch.linalg.eigvalsh(root_x @ sy @ root_x).clamp(min=0).sqrt().sum()
    return max(0.0, float(((mx - my) ** 2).sum() + sx.trace() + sy.trace() - 2 * middle))  # >= 0 up to rounding
