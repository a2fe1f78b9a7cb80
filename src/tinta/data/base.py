"""Images as whole uint8 tensors, the decode-once cache, and batched augmentation.

Every data source (CIFAR-10 in its three formats, folders of photos, the Kaggle
Lab ``.npy`` files) ends up as an :class:`ImageSet`: a ``(N, 3, H, W)`` uint8
tensor (or memory-mapped array) plus labels. Training draws index batches,
gathers them, and augments the whole batch at once on tensors (airbench style),
so nothing is decoded per sample after the first pass.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from tinta import color
from tinta.errors import TintaError
from tinta.files import atomic_write, sweep_stale_temps

CACHE_VERSION = 1


@dataclass
class ImageSet:
    """One split of a data set.

    ``images`` is ``(N, 3, H, W)`` uint8: sRGB when ``colorspace == "rgb"``, OpenCV
    8-bit Lab when ``"lab8"``. It may be a torch tensor or a numpy array / memmap
    (indexing returns a fresh tensor either way, see :meth:`get`).
    """

    images: torch.Tensor | np.ndarray
    labels: torch.Tensor  # (N,) int64, -1 where unknown
    classes: list[str]
    split: str
    source: str
    colorspace: str = "rgb"
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        return int(self.images.shape[-2]), int(self.images.shape[-1])

    def get(self, idx: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """uint8 ``(B, 3, H, W)`` for the given indices (in this set's colour space)."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        if isinstance(self.images, torch.Tensor):
            return self.images[idx]
        order = np.argsort(idx.numpy(), kind="stable")  # memmaps read fastest in order
        out = np.empty((len(idx), *self.images.shape[1:]), dtype=np.uint8)
        out[order] = self.images[idx.numpy()[order]]
        return torch.from_numpy(out)

    def subset(self, idx: torch.Tensor, split: str | None = None) -> "ImageSet":
        """The images at ``idx``; lazy sources (memory-mapped npy files) stay lazy."""
        idx = torch.as_tensor(idx, dtype=torch.long)
        lazy = hasattr(self.images, "take_rows")
        return ImageSet(
            images=self.images.take_rows(idx.numpy()) if lazy else self.get(idx),
            labels=self.labels[idx],
            classes=self.classes,
            split=split or self.split,
            source=self.source,
            colorspace=self.colorspace,
            skipped=dict(self.skipped),
        )


@dataclass(frozen=True)
class DataSource:
    """One kind of data set, an entry of :data:`tinta.data.DATASETS`: the roots it accepts (in words, for
    error messages), the splits a root offers, and its loader,
    ``load(path, split, classes=None, size=None) -> ImageSet`` (``classes``: names or indices to keep;
    ``size``: short side resized to it and centre-cropped)."""

    layouts: str
    splits: Callable[[Path], list[str]]
    load: Callable[..., ImageSet]


def concat_sets(sets: Sequence[ImageSet], split: str) -> ImageSet:
    """Several sets of one size and colour space as one: classes are prefixed by their source's
    position (``0:cat``, ``1:cat``) when there are several, skipped counts kept per source."""
    if len(sets) == 1:
        return sets[0]
    if len({s.size for s in sets}) > 1 or len({s.colorspace for s in sets}) > 1:
        raise TintaError("the data sources differ in image size or colour space; give --size to resize them all")
    classes, labels, skipped = [], [], {}
    for i, s in enumerate(sets):
        labels.append(torch.where(s.labels >= 0, s.labels + len(classes), s.labels))
        classes += [f"{i}:{c}" for c in s.classes]
        skipped.update({f"{s.source}: {k}": v for k, v in s.skipped.items()})
    images = torch.cat([torch.as_tensor(np.asarray(s.images)) if not isinstance(s.images, torch.Tensor) else s.images
                        for s in sets])
    return ImageSet(images, torch.cat(labels), classes, split, " + ".join(s.source for s in sets), sets[0].colorspace,
                    skipped)


def spread_subset(data: ImageSet, count: int | None) -> ImageSet:
    """At most ``count`` images evenly spaced over ``data`` (every source and class of a joined set keeps its
    share), or all of them (``count`` None, 0, or at least ``len(data)``)."""
    if not count or count >= len(data):
        return data
    return data.subset(torch.linspace(0, len(data) - 1, count).round().long())


def weighted_subset(data: ImageSet, weight: float) -> ImageSet:
    """``round(weight * len(data))`` images (at least one): every image ``int(weight)`` times, then an evenly
    spread part of the set for the fraction left (``weight`` 2.5: all twice, every other one a third time)."""
    n = len(data)
    whole, rest = int(weight), round((weight - int(weight)) * n)
    if whole == 1 and rest == 0:
        return data
    part = torch.linspace(0, n - 1, rest).round().long() if rest else torch.zeros(0, dtype=torch.long)
    idx = torch.cat([torch.arange(n).repeat(whole), part])
    return data.subset(idx if len(idx) else torch.zeros(1, dtype=torch.long))


def batch_to_lab(batch: torch.Tensor, colorspace: str) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` in ``colorspace`` -> float Lab ``(B, 3, H, W)``."""
    if colorspace == "rgb":
        return color.rgb_to_lab(batch)
    if colorspace == "lab8":
        return color.opencv8_to_lab(batch)
    raise ValueError(f"unknown colour space {colorspace!r}")


def holdout_split(n: int, fraction: float, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic (train_idx, holdout_idx) of ``range(n)``; the same for the same n, fraction, seed."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction must be in [0, 1), got {fraction}")
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    k = int(round(n * fraction))
    return perm[k:].sort().values, perm[:k].sort().values


def iterate_batches(n: int, batch_size: int) -> Iterator[torch.Tensor]:
    """Index batches over ``range(n)`` in order (training shuffles with
    :func:`tinta.train.distributed.epoch_batches`)."""
    for start in range(0, n, batch_size):
        yield torch.arange(start, min(n, start + batch_size))


def batch_rgb8(raw: torch.Tensor, lab: torch.Tensor, colorspace: str) -> torch.Tensor:
    """uint8 sRGB ``(B, 3, H, W)`` of a batch read in ``colorspace`` (``rgb`` as is, else from its Lab)."""
    return raw if colorspace == "rgb" else color.rgb_to_uint8(color.lab_to_rgb(lab))


def random_crop_flip(
    batch: torch.Tensor, crop: int | None, flip: bool, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Batched augmentation of ``(B, C, H, W)``: one random crop and horizontal flip per image."""
    B, C, H, W = batch.shape
    if crop is not None and (crop < H or crop < W):
        if crop > H or crop > W:
            raise ValueError(f"crop {crop} larger than images {H}x{W}")
        oy = torch.randint(0, H - crop + 1, (B,), generator=generator)
        ox = torch.randint(0, W - crop + 1, (B,), generator=generator)
        ar = torch.arange(crop)
        rows = (oy[:, None] + ar)[:, :, None]  # (B, crop, 1)
        cols = (ox[:, None] + ar)[:, None, :]  # (B, 1, crop)
        bi = torch.arange(B)[:, None, None]
        batch = batch.permute(0, 2, 3, 1)[bi, rows, cols].permute(0, 3, 1, 2).contiguous()  # (B, C, crop, crop)
    if flip:
        mask = torch.rand(B, generator=generator) < 0.5
        batch = torch.where(mask[:, None, None, None], batch.flip(-1), batch)
    return batch


# --- the decode-once cache -------------------------------------------------------------


def cache_dir() -> Path:
    """``$TINTA_CACHE``, default ``~/.cache/tinta``."""
    return Path(os.environ.get("TINTA_CACHE") or Path.home() / ".cache" / "tinta")


def source_fingerprint(path: Path) -> str:
    """Cheap identity of a data root: absolute path, size and mtime (of the file, or of
    the directory's entries' stats, not their contents)."""
    path = Path(path).resolve()
    h = hashlib.sha1(str(path).encode())
    st = path.stat()
    h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            s = p.stat()
            h.update(f"{p.relative_to(path)}:{s.st_size}:{s.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cache_key(kind: str, root: Path, split: str, size: int | None, extra: str = "") -> str:
    fp = source_fingerprint(root)
    raw = f"v{CACHE_VERSION}|{kind}|{fp}|{split}|{size}|{extra}"
    return f"{kind}-{split}-{size or 'native'}-{hashlib.sha1(raw.encode()).hexdigest()[:16]}"


def cache_write(name: str, write: Callable[[Path], object]) -> Path:
    """Write the cache file ``name`` through :func:`tinta.files.atomic_write` (``write(tmp)``, then the
    rename); first removes what an earlier killed writer left in the cache."""
    d = cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(d)
    return atomic_write(d / name, write)


def save_cached(ds: ImageSet, key: str) -> Path:
    """Write ``ds`` to the cache as one safetensors file (see :func:`cache_write`)."""
    from safetensors.torch import save_file

    meta = {
        "classes": json.dumps(ds.classes),
        "split": ds.split,
        "source": ds.source,
        "colorspace": ds.colorspace,
        "skipped": json.dumps(ds.skipped),
    }
    images = torch.as_tensor(np.asarray(ds.images)).contiguous()
    tensors = {"images": images, "labels": ds.labels.contiguous()}
    return cache_write(f"{key}.safetensors", lambda tmp: save_file(tensors, str(tmp), metadata=meta))


def load_cached(key: str) -> ImageSet | None:
    from safetensors import safe_open

    path = cache_dir() / f"{key}.safetensors"
    if not path.exists():
        return None
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata()
            images, labels = f.get_tensor("images"), f.get_tensor("labels")
    except Exception:  # a damaged cache entry is rebuilt, not trusted
        return None
    return ImageSet(
        images=images,
        labels=labels,
        classes=json.loads(meta["classes"]),
        split=meta["split"],
        source=meta["source"],
        colorspace=meta["colorspace"],
        skipped=json.loads(meta["skipped"]),
    )
