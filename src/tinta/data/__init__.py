"""Data sources. :func:`load_dataset` turns a data set kind, a path and a split into an
:class:`~tinta.data.base.ImageSet`:

``cifar10``  CIFAR-10: official python or binary archive/folder, or an ImageFolder tree (.tar.gz)
``folder``   any folder of photos (or .tar/.tar.gz of one), near-grey photos skipped
``lab-npy``  the Kaggle ``gray_scale.npy`` + ``ab*.npy`` files, memory-mapped, colour space ``lab8``
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tinta.data.base import ImageSet
from tinta.errors import TintaError

DATASETS = ("cifar10", "folder", "lab-npy")


def layouts(dataset: str) -> str:
    """The layouts accepted for ``dataset``, in words."""
    if dataset == "cifar10":
        from tinta.data.cifar import LAYOUTS
    elif dataset == "folder":
        from tinta.data.folder import LAYOUTS
    else:
        from tinta.data.labnpy import LAYOUTS
    return LAYOUTS


def check_root(dataset: str, root: str | Path | None) -> Path:
    """``root`` as a Path; TintaError when the data set kind is unknown or the root missing or empty."""
    if dataset not in DATASETS:
        raise TintaError(f"unknown data set {dataset!r}; choose from {', '.join(DATASETS)}")
    if root is None or str(root) == "":
        raise TintaError(f"no data root given for {dataset}; expected {layouts(dataset)}")
    path = Path(root).expanduser()
    if not path.exists():
        raise TintaError(f"data root {path} does not exist; for {dataset} expected {layouts(dataset)}")
    if path.is_dir() and not any(path.iterdir()):
        raise TintaError(f"data root {path} is empty; for {dataset} expected {layouts(dataset)}")
    if path.is_file() and path.stat().st_size == 0:
        raise TintaError(f"data root {path} is an empty file; for {dataset} expected {layouts(dataset)}")
    return path


def dataset_splits(dataset: str, root: str | Path) -> list[str]:
    """The splits ``dataset`` at ``root`` offers."""
    path = check_root(dataset, root)
    if dataset == "cifar10":
        from tinta.data.cifar import SPLITS
        return list(SPLITS)
    if dataset == "lab-npy":
        from tinta.data.labnpy import SPLITS
        return list(SPLITS)
    from tinta.data.folder import folder_splits
    return folder_splits(path)


def _resize_set(ds: ImageSet, size: int) -> ImageSet:
    """Resize (short side) + centre-crop every image of an in-memory RGB set."""
    import numpy as np
    import torch
    from PIL import Image

    from tinta.data.images import resize_center_crop

    x = np.asarray(ds.images)
    out = np.empty((len(x), 3, size, size), dtype=np.uint8)
    for i, chw in enumerate(x):
        out[i] = np.asarray(resize_center_crop(Image.fromarray(chw.transpose(1, 2, 0)), size)).transpose(2, 0, 1)
    return ImageSet(torch.from_numpy(out), ds.labels, ds.classes, ds.split, ds.source, ds.colorspace, dict(ds.skipped))


def load_dataset(
    dataset: str, root: str | Path, split: str, classes: Sequence[str | int] | None = None, size: int | None = None
) -> ImageSet:
    """One split of a data set. ``classes``: names or indices to keep; ``size``: resize the
    short side and centre-crop to ``size x size`` (folder data; CIFAR-10 is resized after loading)."""
    path = check_root(dataset, root)
    if dataset == "cifar10":
        from tinta.data.cifar import load_cifar10

        ds = load_cifar10(path, split, classes)
        return _resize_set(ds, size) if size and ds.size != (size, size) else ds
    if dataset == "folder":
        from tinta.data.folder import load_folder

        return load_folder(path, split, size=size, classes=classes)
    if classes:
        raise TintaError("lab-npy data has no classes; drop --classes")
    from tinta.data.labnpy import load_lab_npy

    return load_lab_npy(path, split, size=size)


__all__ = ["DATASETS", "ImageSet", "load_dataset", "dataset_splits", "layouts", "check_root"]
