"""The Kaggle "image colorization" Lab ``.npy`` files (Seed 2's format).

Layout: a folder with ``gray_scale.npy`` (uint8 ``[N, H, W]``, OpenCV 8-bit L = L*255/100)
and ``ab/ab1.npy .. abK.npy`` (or ``ab1.npy .. abK.npy`` next to it), uint8
``[n_k, H, W, 2]`` holding a+128, b+128; concatenated in numeric order they give N.

The files are memory-mapped, never read whole: :class:`LabNpyImages` looks like a
``(N, 3, H, W)`` uint8 array in colour space ``'lab8'`` and gathers rows on indexing.

Splits are fixed: a permutation of ``range(N)`` from ``numpy.random.default_rng(0)``;
its first 10 % is ``test``, the next 10 % ``val``, the rest ``train`` (each sorted).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from tinta.data.base import DataSource, ImageSet
from tinta.errors import TintaError

SPLITS = ("train", "val", "test")
SPLIT_SEED = 0
HOLDOUT = 0.1  # fraction for each of val and test
LAYOUTS = "a folder with gray_scale.npy and ab/ab1.npy..abK.npy (or ab1.npy..abK.npy beside it)"


class LabNpyImages:
    """Lazy ``(n, 3, H, W)`` uint8 view (L, a+128, b+128) over the memory-mapped files,
    restricted to the global rows ``index``. Index it with ints, slices or int arrays."""

    dtype = np.dtype(np.uint8)
    ndim = 4

    def __init__(self, grey: np.ndarray, abs_: list[np.ndarray], index: np.ndarray):
        self.grey, self.abs = grey, abs_
        self.offsets = np.cumsum([0] + [len(a) for a in abs_])
        self.index = np.asarray(index, dtype=np.int64)
        self.shape = (len(self.index), 3, *grey.shape[1:])

    def __len__(self) -> int:
        return self.shape[0]

    def take_rows(self, idx: np.ndarray) -> "LabNpyImages":
        """A lazy view of rows ``idx`` (nothing is read)."""
        return LabNpyImages(self.grey, self.abs, self.index[np.asarray(idx, dtype=np.int64)])

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, (int, np.integer)):
            return self[np.array([key])][0]
        idx = np.arange(len(self))[key] if isinstance(key, slice) else np.asarray(key)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        if len(idx) and (idx.min() < -len(self) or idx.max() >= len(self)):
            raise IndexError(f"index out of range for {len(self)} images")
        g = self.index[idx]
        out = np.empty((len(g), *self.shape[1:]), dtype=np.uint8)
        out[:, 0] = self.grey[g]
        which = np.searchsorted(self.offsets, g, side="right") - 1
        for k in np.unique(which):
            sel = which == k
            out[sel, 1:] = self.abs[k][g[sel] - self.offsets[k]].transpose(0, 3, 1, 2)
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = self[np.arange(len(self))]
        return a if dtype is None else a.astype(dtype)


def find_files(root: Path) -> tuple[Path, list[Path]]:
    """``gray_scale.npy`` and the ab files in numeric order; TintaError if absent."""
    grey = root / "gray_scale.npy"
    pat = re.compile(r"ab(\d+)\.npy")
    for d in (root / "ab", root):
        found = (p for p in d.glob("ab*.npy") if pat.fullmatch(p.name))
        abs_ = sorted(found, key=lambda p: int(pat.fullmatch(p.name)[1]))
        if abs_:
            break
    if not grey.is_file() or not abs_:
        raise TintaError(f"no Lab .npy data in {root}; expected {LAYOUTS}")
    return grey, abs_


def _open(path: Path) -> np.ndarray:
    try:
        a = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as e:
        raise TintaError(f"cannot read {path}: {e}") from e
    if a.dtype != np.uint8:
        raise TintaError(f"{path} holds {a.dtype}, expected uint8")
    return a


def open_lab_npy(root: str | Path) -> LabNpyImages:
    """All N images of a Lab .npy folder, lazily, after checking shapes and counts."""
    grey_path, ab_paths = find_files(Path(root))
    grey = _open(grey_path)
    if grey.ndim != 3:
        raise TintaError(f"{grey_path} has shape {grey.shape}, expected [N, H, W]")
    abs_ = [_open(p) for p in ab_paths]
    for p, a in zip(ab_paths, abs_):
        if a.ndim != 4 or a.shape[1:] != (*grey.shape[1:], 2):
            raise TintaError(f"{p} has shape {a.shape}, expected [n, {grey.shape[1]}, {grey.shape[2]}, 2]")
    total = sum(len(a) for a in abs_)
    if total != len(grey):
        counts = ", ".join(f"{p.name}: {len(a)}" for p, a in zip(ab_paths, abs_))
        raise TintaError(f"{grey_path} has {len(grey)} images but the ab files have {total} ({counts})")
    return LabNpyImages(grey, abs_, np.arange(len(grey)))


def split_indices(n: int) -> dict[str, np.ndarray]:
    """The fixed 80/10/10 train/val/test indices of ``range(n)``."""
    perm = np.random.default_rng(SPLIT_SEED).permutation(n)
    k = int(round(n * HOLDOUT))
    return {"test": np.sort(perm[:k]), "val": np.sort(perm[k : 2 * k]), "train": np.sort(perm[2 * k :])}


def load_lab_npy(root: str | Path, split: str, size: int | None = None) -> ImageSet:
    """One split of a Lab .npy folder as an :class:`ImageSet` in colour space ``'lab8'``
    whose ``images`` is a lazy :class:`LabNpyImages` (no labels: all -1)."""
    if split not in SPLITS:
        raise TintaError(f"lab-npy data has splits {', '.join(SPLITS)}, not {split!r}")
    full = open_lab_npy(root)
    if size is not None and full.shape[2:] != (size, size):
        raise TintaError(f"lab-npy images are {full.shape[3]}x{full.shape[2]}; --size {size} is not supported for them")
    idx = split_indices(len(full))[split]
    images = LabNpyImages(full.grey, full.abs, idx)
    return ImageSet(
        images=images,
        labels=torch.full((len(idx),), -1, dtype=torch.long),
        classes=[],
        split=split,
        source=str(Path(root).resolve()),
        colorspace="lab8",
        skipped={},
    )


def load(path: Path, split: str, classes: Sequence[str | int] | None = None, size: int | None = None) -> ImageSet:
    """:func:`load_lab_npy`; TintaError for ``classes`` (the files have none)."""
    if classes:
        raise TintaError("lab-npy data has no classes; drop --classes")
    return load_lab_npy(path, split, size=size)


SOURCE = DataSource(LAYOUTS, lambda path: list(SPLITS), load)
