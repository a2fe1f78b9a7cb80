"""Colourization as classification over quantized ab bins, after Zhang, Isola & Efros,
"Colorful Image Colorization" (ECCV 2016):

- the ab plane is cut into a grid of size 10; only bins the training data uses are kept
  (about 313 on ImageNet-like photos);
- targets are soft-encoded over the 5 nearest bins with a Gaussian (sigma 5);
- each pixel's loss is weighted by class rebalancing: w ~ ((1 - lambda) p~ + lambda / Q)^-1,
  p~ the Gaussian-smoothed empirical bin distribution, normalised so E_p~[w] = 1;
- predictions are decoded with the annealed mean: softmax(log p / T), T ~ 0.38.

Any set of ab centres can serve as the bins: a K-means palette's a,b too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from tinta.errors import TintaError
from tinta.files import read_json, write_json
from tinta.heads.base import Decoding, Head, register_head
from tinta.models.base import PooledOutput
from tinta.palette import Palette

if TYPE_CHECKING:
    from tinta.data.base import ImageSet

DEFAULT_TEMPERATURE = 0.38


@dataclass
class ABBins:
    centres: torch.Tensor  # (Q, 2) ab of each bin
    prior: torch.Tensor  # (Q,) smoothed empirical distribution p~
    weights: torch.Tensor  # (Q,) rebalancing weight per bin
    grid: float = 10.0
    sigma: float = 5.0
    lam: float = 0.5
    neighbours: int = 5
    source: str = "grid"
    _table: tuple[torch.Tensor, torch.Tensor] | None = field(default=None, repr=False, compare=False)

    @property
    def q(self) -> int:
        return int(self.centres.shape[0])

    def to_dict(self) -> dict:
        return {"centres": self.centres.tolist(), "prior": self.prior.tolist(), "weights": self.weights.tolist(),
                "grid": self.grid, "sigma": self.sigma, "lam": self.lam, "neighbours": self.neighbours,
                "source": self.source}

    @classmethod
    def from_dict(cls, d: dict) -> "ABBins":
        t = lambda k: torch.tensor(d[k], dtype=torch.float32)  # noqa: E731
        return cls(t("centres"), t("prior"), t("weights"), d["grid"], d["sigma"], d["lam"], d["neighbours"],
                   d["source"])

    def save(self, path: str | Path) -> None:
        write_json(Path(path), self.to_dict())

    @classmethod
    def load(cls, path: str | Path) -> "ABBins":
        try:
            return cls.from_dict(read_json(Path(path)))
        except KeyError as e:
            raise TintaError(f"{path}: not an ab-bins file (missing {e})") from None


def rebalance_weights(prior: torch.Tensor, lam: float) -> torch.Tensor:
    w = 1.0 / ((1 - lam) * prior + lam / prior.numel())
    return w / (prior * w).sum()  # E_prior[w] = 1


def smooth_prior(centres: torch.Tensor, counts: torch.Tensor, sigma: float) -> torch.Tensor:
    """Empirical distribution over the bins, smoothed with a Gaussian in ab (sigma in ab units)."""
    p = counts / counts.sum()
    k = torch.exp(-torch.cdist(centres, centres) ** 2 / (2 * sigma**2))  # (Q, Q)
    s = k @ p
    return s / s.sum()


def fit_grid_bins(ab: torch.Tensor, grid: float = 10.0, sigma: float = 5.0, lam: float = 0.5,
                  min_count: int = 1, neighbours: int = 5) -> ABBins:
    """Keep the grid bins that the pixels ``ab`` ``(N, 2)`` fall in at least ``min_count`` times."""
    idx = torch.floor((ab + 110.0) / grid).long().clamp(0, int(220 / grid) - 1)  # (N, 2)
    n = int(220 / grid)
    counts = torch.bincount(idx[:, 0] * n + idx[:, 1], minlength=n * n).float()
    keep = (counts >= min_count).nonzero().squeeze(1)
    if keep.numel() < 2:
        raise TintaError("too few distinct colours to build ab bins (is the data grey?)")
    centres = torch.stack([keep // n, keep % n], 1).float() * grid - 110.0 + grid / 2  # (Q, 2)
    prior = smooth_prior(centres, counts[keep], sigma)
    return ABBins(centres, prior, rebalance_weights(prior, lam), grid, sigma, lam, neighbours, "grid")


def bins_from_centres(centres: torch.Tensor, ab: torch.Tensor, sigma: float = 5.0, lam: float = 0.5,
                      neighbours: int = 5, source: str = "palette") -> ABBins:
    """Bins at given ab centres (e.g. a palette's); the prior counts nearest-centre hits of ``ab``."""
    nearest = torch.cdist(ab, centres).argmin(1)
    counts = torch.bincount(nearest, minlength=centres.shape[0]).float() + 1e-3
    prior = smooth_prior(centres, counts, sigma)
    return ABBins(centres.float(), prior, rebalance_weights(prior, lam), 0.0, sigma, lam,
                  min(neighbours, centres.shape[0]), source)


def fit_bins_on(data: ImageSet, spec: str = "grid", sigma: float = 5.0, lam: float = 0.5) -> ABBins:
    """ab bins from the pixels of (up to 2000 images of) ``data``: ``spec`` ``"grid"`` keeps the grid
    cells they use, a palette JSON path puts the bins at its colours' a,b. ``sigma`` in ab units,
    ``lam`` in [0, 1] (0: full rebalancing)."""
    from tinta.data.base import batch_to_lab

    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(data), generator=g)[:2000]
    lab = batch_to_lab(data.get(idx.sort().values), data.colorspace)  # (n, 3, H, W)
    ab = lab[:, 1:, ::2, ::2].permute(0, 2, 3, 1).reshape(-1, 2)  # every 4th pixel
    if spec == "grid":
        return fit_grid_bins(ab, sigma=sigma, lam=lam)
    return bins_from_centres(Palette.load(spec).ab().float(), ab, sigma=sigma, lam=lam, source=f"palette {spec}")


def soft_encode(bins: ABBins, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """ab ``(B, 2, H, W)`` -> (indices ``(B, k, H, W)`` of the k nearest bins, Gaussian weights summing to 1)."""
    B, _, H, W = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)  # (BHW, 2)
    d = torch.cdist(flat, bins.centres.to(ab))  # (BHW, Q)
    dist, idx = d.topk(bins.neighbours, dim=1, largest=False)  # (BHW, k)
    w = torch.softmax(-(dist**2) / (2 * bins.sigma**2), dim=1)
    shape = (B, H, W, bins.neighbours)
    return idx.view(shape).permute(0, 3, 1, 2), w.view(shape).permute(0, 3, 1, 2)


LOOKUP_STEP = 1.0  # ab units between the cells of the soft-encoding table
LOOKUP_RANGE = 110.0  # the table covers a, b in [-110, 110]; values beyond are clamped to its edge


def _lookup_table(bins: ABBins) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`soft_encode` of every point of an ab grid (step :data:`LOOKUP_STEP`), built once per bins:
    (indices ``(n*n, k)``, weights ``(n*n, k)``), row ``i * n + j`` for a = i * step - 110, b = j * step - 110."""
    if bins._table is None:
        axis = torch.arange(-LOOKUP_RANGE, LOOKUP_RANGE + LOOKUP_STEP / 2, LOOKUP_STEP)
        grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), 0)[None]  # (1, 2, n, n)
        idx, w = soft_encode(bins, grid)  # (1, k, n, n)
        bins._table = idx[0].flatten(1).t().contiguous(), w[0].flatten(1).t().contiguous()
    return bins._table


def soft_encode_fast(bins: ABBins, ab: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`soft_encode` read from a table: each ab rounded to the nearest table point (at most
    ``LOOKUP_STEP / 2`` per axis away, against the Gaussian's sigma of 5), ~50x faster than the exact
    nearest-bin search on a CPU batch. ab ``(B, 2, H, W)`` -> (indices, weights) ``(B, k, H, W)``."""
    table_idx, table_w = _lookup_table(bins)
    n = round(2 * LOOKUP_RANGE / LOOKUP_STEP) + 1
    cell = ((ab.detach().float() + LOOKUP_RANGE) / LOOKUP_STEP).round().long().clamp(0, n - 1)  # (B, 2, H, W)
    flat = cell[:, 0] * n + cell[:, 1]  # (B, H, W)
    idx, w = table_idx.to(ab.device)[flat], table_w.to(ab.device)[flat]  # (B, H, W, k)
    return idx.permute(0, 3, 1, 2), w.permute(0, 3, 1, 2).to(ab.dtype)


def rebalanced_soft_ce(logits: torch.Tensor, ab: torch.Tensor, bins: ABBins, rebalance: bool = True) -> torch.Tensor:
    """Multinomial cross-entropy against soft-encoded targets (:func:`soft_encode_fast`), weighted per
    pixel by the rebalancing weight of the pixel's nearest bin. logits ``(B, Q, H, W)``, ab ``(B, 2, H, W)``."""
    idx, w = soft_encode_fast(bins, ab)
    logp = F.log_softmax(logits, dim=1).gather(1, idx)  # (B, k, H, W)
    ce = -(w * logp).sum(1)  # (B, H, W)
    if rebalance:
        ce = ce * bins.weights.to(ce)[idx[:, 0]]  # nearest bin's weight
    return ce.mean()


def annealed_mean(logits: torch.Tensor, bins: ABBins, temperature: float = DEFAULT_TEMPERATURE) -> torch.Tensor:
    """logits ``(B, Q, H, W)`` -> ab ``(B, 2, H, W)``: mean of softmax(logits / T) over bin centres.
    (softmax(log p / T) = softmax(logits / T).) T = 1 is the mean, T -> 0 the mode."""
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    p = torch.softmax(logits / temperature, dim=1)
    return torch.einsum("bqhw,qc->bchw", p, bins.centres.to(p))


@register_head
class BinsHead(Head):
    """Classification over ab bins: rebalanced soft cross-entropy, trained and decoded at the
    model's own output resolution, decoded with the annealed mean at ``temperature`` (the
    one the model is used at) and, for reports, at each of ``temperatures``."""

    name = "bins"
    native_resolution = True
    pooled_from = 0

    def __init__(self, bins: ABBins, temperature: float = DEFAULT_TEMPERATURE, rebalance: bool = True,
                 temperatures: tuple[float, ...] = ()):
        if not temperature > 0 or any(not t > 0 for t in temperatures):
            raise ValueError(f"temperatures must be > 0, got {temperature}, {temperatures}")
        self.bins, self.temperature, self.rebalance = bins, float(temperature), rebalance
        self.temperatures = tuple(float(t) for t in temperatures) or (self.temperature,)
        self.out_channels = bins.q

    @property
    def main(self) -> Decoding:
        return Decoding(f"T={self.temperature:g}", temperature=self.temperature)

    @property
    def decodings(self) -> tuple[Decoding, ...]:
        return tuple(Decoding(f"T={t:g}", temperature=t) for t in self.temperatures)

    def with_temperatures(self, temperatures: tuple[float, ...]) -> "BinsHead":
        return BinsHead(self.bins, self.temperature, self.rebalance, tuple(temperatures))

    def targets(self, rgb8: torch.Tensor, lab: torch.Tensor) -> torch.Tensor:
        return lab[:, 1:]  # (B, 2, H, W) ab; soft-encoded inside the loss

    def loss(self, out: torch.Tensor | PooledOutput, target: torch.Tensor) -> torch.Tensor:
        """Logits at the targets' size, or smaller (then the ab targets are area-pooled to it)."""
        if isinstance(out, PooledOutput):  # every channel is a logit: all of them pooled
            out, target = out.pooled, out.pool_target(target)
        if out.shape[-2:] != target.shape[-2:]:
            target = F.interpolate(target, size=out.shape[-2:], mode="area")  # (B, 2, h, w)
        return rebalanced_soft_ce(out, target, self.bins, self.rebalance)

    def colour_distribution(self, out: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return out, self.bins.centres  # (B, Q, h, w), (Q, 2)

    def predict(self, out: torch.Tensor, decoding: Decoding | None = None, saturation: float = 1.0) -> torch.Tensor:
        """Annealed mean; ``saturation`` s divides the temperature (s > 1: more vivid, s = 0: grey)."""
        if saturation <= 0:
            return out.new_zeros(out.shape[0], 2, *out.shape[2:])
        t = decoding.temperature if decoding is not None and decoding.temperature else self.temperature
        return annealed_mean(out, self.bins, t / saturation)

    def to_dict(self) -> dict:
        return {"name": self.name, "bins": self.bins.to_dict(), "temperature": self.temperature,
                "rebalance": self.rebalance}

    @classmethod
    def from_dict(cls, d: dict) -> "BinsHead":
        return cls(ABBins.from_dict(d["bins"]), d.get("temperature", DEFAULT_TEMPERATURE), d.get("rebalance", True))

    @classmethod
    def for_training(cls, cfg, data) -> "BinsHead":
        """Bins fitted on ``data`` (:func:`fit_bins_on` with ``cfg.bins``, ``cfg.bin_sigma``, ``cfg.bin_lambda``),
        validated at ``cfg.temperature`` (> 0), rebalanced when ``cfg.rebalance``."""
        return cls(fit_bins_on(data, cfg.bins, cfg.bin_sigma, cfg.bin_lambda), cfg.temperature, cfg.rebalance)
