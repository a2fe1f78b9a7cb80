"""A K-colour palette: K centres in sRGB and Lab, nearest-centre quantization, JSON I/O.
Fitted by :func:`tinta.kmeans.kmeans_palette`; used by the palette head."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from tinta import color
from tinta.errors import TintaError
from tinta.files import not_a_file, write_text

SPACES = ("rgb", "lab")
_CHUNK = 1 << 14  # pixels per block in Palette.quantize


@dataclass
class Palette:
    """K colours: ``rgb`` ``(K, 3)`` float64 in [0, 255] and ``lab`` ``(K, 3)``, the same centres in
    Lab. Pixels are matched to the nearest centre in ``space`` (where the centres were fitted)."""

    rgb: torch.Tensor
    lab: torch.Tensor
    space: str = "rgb"
    k: int = 24
    seed: int = 0
    inertia: float = float("nan")  # mean squared distance per pixel, in ``space``
    iterations: int = 0
    seconds: float = 0.0
    source: str = ""
    classes: list[str] = field(default_factory=list)
    pixels: int = 0
    distinct: int = 0
    n_init: int = 1

    @property
    def centres(self) -> torch.Tensor:  # (K, 3) float64, in the clustering space
        return self.rgb if self.space == "rgb" else self.lab

    def quantize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 sRGB ``(B, 3, H, W)`` -> ``(B, H, W)`` int64 index of the nearest centre in ``space``
        (exact: float64 on the CPU, float32 on other devices), in blocks of pixels."""
        if images.dtype != torch.uint8 or images.dim() < 3 or images.shape[-3] != 3:
            raise ValueError(f"images must be uint8 (B, 3, H, W), got {images.dtype} {tuple(images.shape)}")
        dtype = torch.float64 if images.device.type == "cpu" else torch.float32
        flat = images.movedim(-3, -1).reshape(-1, 3)  # (N, 3) uint8
        C = self.centres.to(images.device, dtype)  # (K, 3)
        out = torch.empty(len(flat), dtype=torch.long, device=images.device)
        for s in range(0, len(flat), _CHUNK):
            x = flat[s : s + _CHUNK].to(dtype)  # (n, 3)
            if self.space == "lab":
                x = color.rgb_to_lab(x.T[..., None] / 255.0)[..., 0].T
            out[s : s + _CHUNK] = ((x[:, None, :] - C) ** 2).sum(-1).argmin(1)
        return out.view(*images.shape[:-3], *images.shape[-2:])

    def to_rgb(self, indices: torch.Tensor) -> torch.Tensor:
        """Indices ``(B, H, W)`` -> uint8 ``(B, 3, H, W)``, each pixel its palette colour (rounded)."""
        lut = self.rgb.round().clamp(0, 255).to(device=indices.device, dtype=torch.uint8)  # (K, 3)
        return lut[indices].movedim(-1, -3)

    def ab(self) -> torch.Tensor:  # (K, 2) float32 a, b of the centres, for chroma-only decoding
        return self.lab[:, 1:].float()

    def to_dict(self) -> dict:
        """JSON-ready dict (what :meth:`save` writes and model files embed)."""
        return {"format": "tinta-palette", "version": 1,
                **asdict(self), "rgb": self.rgb.tolist(), "lab": self.lab.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Palette":
        """Inverse of :meth:`to_dict`; ValueError when ``d`` is not a valid palette."""
        d = dict(d)
        if d.pop("format", None) != "tinta-palette" or d.pop("version", None) != 1:
            raise ValueError("not a tinta palette (version 1)")
        p = cls(**{**d, **{c: torch.tensor(d[c], dtype=torch.float64) for c in ("rgb", "lab")}})
        if p.rgb.shape != (p.k, 3) or p.lab.shape != (p.k, 3) or p.space not in SPACES:
            raise ValueError(f"expected k={p.k} colours in rgb/lab and space in {SPACES}")
        return p

    def save(self, path: str | Path) -> Path:  # JSON, written to a temporary name, then renamed
        return write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> "Palette":
        """Read a palette JSON written by :meth:`save`; TintaError when missing or invalid."""
        path = Path(path)
        if not path.is_file():
            why = not_a_file(path)
            raise TintaError(f"palette file not found: {path}" if why == "no such file" else f"{path}: {why}")
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as e:
            raise TintaError(f"invalid palette file {path}: {e}") from None
