"""Data sources. :func:`load_dataset` turns a data set kind, a path and a split into an
:class:`~tinta.data.base.ImageSet`. :data:`DATASETS` maps each kind to its
:class:`~tinta.data.base.DataSource` (accepted layouts, splits, loader); an unknown kind is a TintaError:

``cifar10``  CIFAR-10: official python or binary archive/folder, or an ImageFolder tree (.tar.gz)
``folder``   any folder of photos (or .tar/.tar.gz of one), near-grey photos skipped
``lab-npy``  the Kaggle ``gray_scale.npy`` + ``ab*.npy`` files, memory-mapped, colour space ``lab8``
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tinta.data import cifar, folder, labnpy
from tinta.data.base import DataSource, ImageSet
from tinta.errors import TintaError

DATASETS: dict[str, DataSource] = {"cifar10": cifar.SOURCE, "folder": folder.SOURCE, "lab-npy": labnpy.SOURCE}


@dataclass(frozen=True)
class InfoOptions:
    """The options of ``tinta data info``."""

    dataset: str = field(metadata={"help": "data set kind", "choices": tuple(DATASETS)})
    data_root: str = field(metadata={"help": "archive, folder or npy folder"})
    classes: tuple[str, ...] = field(default=(), metadata={"help": "class names or indices to keep (default: all)"})
    size: int | None = field(default=None, metadata={"help": "resize short side + centre crop to SIZE x SIZE"})

    def __post_init__(self):
        if self.size is not None and self.size < 1:
            raise TintaError(f"--size must be at least 1, got {self.size}")


def data_source(dataset: str) -> DataSource:
    """The source registered as ``dataset``; TintaError naming the known ones otherwise."""
    if dataset not in DATASETS:
        raise TintaError(f"unknown data set {dataset!r}; choose from {', '.join(DATASETS)}")
    return DATASETS[dataset]


def layouts(dataset: str) -> str:
    """The layouts accepted for ``dataset``, in words."""
    return data_source(dataset).layouts


def check_root(dataset: str, root: str | Path | None) -> Path:
    """``root`` as a Path; TintaError when the data set kind is unknown or the root missing or empty."""
    expected = layouts(dataset)
    if root is None or str(root) == "":
        raise TintaError(f"no data root given for {dataset}; expected {expected}")
    path = Path(root).expanduser()
    if not path.exists():
        raise TintaError(f"data root {path} does not exist; for {dataset} expected {expected}")
    if path.is_dir() and not any(path.iterdir()):
        raise TintaError(f"data root {path} is empty; for {dataset} expected {expected}")
    if path.is_file() and path.stat().st_size == 0:
        raise TintaError(f"data root {path} is an empty file; for {dataset} expected {expected}")
    return path


def dataset_splits(dataset: str, root: str | Path) -> list[str]:
    """The splits ``dataset`` at ``root`` offers."""
    return data_source(dataset).splits(check_root(dataset, root))


def load_dataset(
    dataset: str, root: str | Path, split: str, classes: Sequence[str | int] | None = None, size: int | None = None
) -> ImageSet:
    """One split of a data set. ``classes``: names or indices to keep; ``size``: resize the
    short side and centre-crop to ``size x size`` (folder data; CIFAR-10 is resized after loading)."""
    path = check_root(dataset, root)
    return data_source(dataset).load(path, split, classes=classes, size=size)


__all__ = ["DATASETS", "DataSource", "ImageSet", "check_root", "data_source", "dataset_splits", "layouts",
           "load_dataset"]
