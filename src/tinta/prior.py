"""Retrieved colour prior: what colours photos like this one have.

A hint-taking model (``guided-unet``) takes a global hint, the ab histogram of the colours a picture
should have (Zhang et al. 2017). When the user gives none, a :class:`ColourIndex` fills it in: the
grey picture's pooled deepest encoder features (B, D) are matched by cosine similarity against
those of ``count`` training photos, and the mean ab histogram of the ``k`` nearest is the hint.
The index is a few MB of float16 (keys ``(N, D)``, histograms ``(N, GLOBAL_GRID^2)``) kept as
``prior.safetensors`` in the run folder beside the weights (:func:`tinta.runs.index_run` builds it,
:func:`tinta.runs.load_run` attaches it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from tinta import color
from tinta.data.base import ImageSet, batch_to_lab, spread_subset
from tinta.errors import TintaError
from tinta.files import atomic_write
from tinta.hints import GLOBAL_DIM, HINT_CHANNELS, ab_histogram
from tinta.models.base import ColorizationModel

PRIOR_FILE = "prior.safetensors"
DEFAULT_K = 16


@dataclass(frozen=True)
class PriorOptions:
    """How a run's colour index is built (``tinta prior`` options)."""

    data_root: tuple[str, ...] = field(default=(), metadata={
        "help": "training photos to index (archive or folder; repeatable); their train split is used"})
    dataset: str = field(default="folder", metadata={"help": "data set kind of --data-root"})
    size: int | None = field(default=None, metadata={"help": "short side the photos are read at (default: the "
                                                              "run's training size)"})
    count: int = field(default=4096, metadata={"help": "photos in the index (evenly spaced over the sources)"})
    k: int = field(default=DEFAULT_K, metadata={"help": "nearest photos whose histograms are averaged"})

    def __post_init__(self):
        if not self.data_root:
            raise TintaError("--data-root is required: the training photos to index")
        if self.count < 1 or self.k < 1 or self.k > self.count:
            raise TintaError(f"need 1 <= --k <= --count, got k={self.k}, count={self.count}")


@dataclass
class ColourIndex:
    keys: torch.Tensor  # (N, D) float16, unit length: pooled encoder features of the photos' grey
    hists: torch.Tensor  # (N, GLOBAL_DIM - 1) float16: their ab histograms (each sums to 1)
    k: int = DEFAULT_K

    def __post_init__(self):
        n = len(self.keys)
        if self.keys.dim() != 2 or self.hists.shape != (n, GLOBAL_DIM - 1) or n == 0:
            raise TintaError(f"not a colour index: keys {tuple(self.keys.shape)}, histograms "
                             f"{tuple(self.hists.shape)} (want (N, D) and (N, {GLOBAL_DIM - 1}))")
        if not 1 <= self.k <= n:
            raise TintaError(f"the colour index's k must be between 1 and {n}, got {self.k}")

    def __call__(self, pooled: torch.Tensor, skip_nearest: bool = False) -> torch.Tensor:
        """Pooled features ``(B, D)`` -> global hint ``(B, GLOBAL_DIM)``: the mean histogram of the k
        nearest photos and the "given" flag. ``skip_nearest`` (training, where the picture itself is
        likely in the index): the nearest photo is left out."""
        sim = F.normalize(pooled.float(), dim=1) @ self.keys.float().T  # (B, N)
        near = sim.topk(min(self.k + skip_nearest, len(self.keys)), dim=1).indices[:, int(skip_nearest):]  # (B, k)
        hist = self.hists.float()[near].mean(1)  # (B, GLOBAL_DIM - 1)
        return torch.cat([hist / hist.sum(1, keepdim=True).clamp(min=1e-8), hist.new_ones(len(hist), 1)], 1)

    def save(self, path: Path) -> None:
        tensors = {"keys": self.keys.half().contiguous(), "hists": self.hists.half().contiguous()}
        atomic_write(Path(path), lambda tmp: save_file(tensors, str(tmp), metadata={"k": str(self.k)}))

    @classmethod
    def load(cls, path: Path) -> "ColourIndex":
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), "pt") as f:
                k = int((f.metadata() or {}).get("k", DEFAULT_K))
            t = load_file(str(path))
            return cls(t["keys"], t["hists"], k)
        except (KeyError, ValueError, OSError, SafetensorError) as e:
            raise TintaError(f"{path}: not a tinta colour index ({e.__class__.__name__}: {e})") from None


@torch.no_grad()
def build_index(model: ColorizationModel, data: ImageSet, count: int = 4096, k: int = DEFAULT_K,
                batch_size: int = 64) -> ColourIndex:
    """The index of ``count`` photos of ``data`` evenly spaced (all if fewer), keyed by ``model.encode``
    (the hint-taking model's encoder features without hints)."""
    if not model.takes_hints:
        raise TintaError("a colour index is built for a hint-taking model (guided-unet)")
    model.eval()
    data = spread_subset(data, count)
    keys, hists = [], []
    for chunk in torch.arange(len(data)).split(batch_size):
        lab = batch_to_lab(data.get(chunk), data.colorspace)  # (b, 3, H, W)
        x = torch.cat([color.normalize_l(lab[:, :1]), lab.new_zeros(len(lab), HINT_CHANNELS, *lab.shape[-2:])], 1)
        keys.append(F.normalize(model.encode(x)[-1].mean((2, 3)), dim=1))  # (b, D)
        hists.append(ab_histogram(lab[:, 1:])[:, :-1])  # (b, GLOBAL_DIM - 1)
    return ColourIndex(torch.cat(keys).half(), torch.cat(hists).half(), k)
