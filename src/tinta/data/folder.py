"""Folders of ordinary photos (recursive), or a ``.tar`` / ``.tar.gz`` of one.

Layout
    With split folders (``train/``, ``val/``, ``test/`` at the top, or under one common
    top folder), ``split`` picks one; the label is the first folder below the split
    (``train/<class>/.../x.jpg``), -1 for files directly in the split folder. Files
    outside the split folders are ignored.

    Without split folders the whole tree is split deterministically: a file is in ``val``
    when the first 32 bits of SHA-1 of its relative path, over 2**32, are below 0.1
    (about 10 %), else in ``train``. The label is the first folder under the root, -1 for
    files at the top. ``test`` falls back to ``val`` when the tree has no ``test`` folder.

Class indices are positions in the sorted list of class folders over the whole tree,
so they agree between splits. Near-grey photos (:func:`~tinta.data.images.is_near_grey`)
and undecodable files are skipped and counted in ``ImageSet.skipped``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tinta.data import images as imgs
from tinta.data.archive import is_archive, iter_tar
from tinta.data.base import (
    DataSource,
    ImageSet,
    cache_dir,
    cache_key,
    cache_write,
    load_cached,
    save_cached,
    source_fingerprint,
)
from tinta.errors import TintaError

SPLIT_NAMES = ("train", "val", "test")
VAL_FRACTION = 0.1
LAYOUTS = (
    "a folder of photos (searched recursively; .jpg .jpeg .png .tif .tiff .webp .bmp), optionally "
    "with split folders train/ val/ test/ and class folders <split>/<class>/; or a .tar/.tar.gz of one"
)


def list_images(root: Path) -> list[str]:
    """Sorted relative (posix) paths of the image files in a folder or tar archive.
    An archive's listing is cached next to the decoded data (listing a .tar.gz reads it all)."""
    if not is_archive(root):
        files = (p for p in root.rglob("*") if p.is_file() and imgs.is_image_name(p.name))
        return sorted(p.relative_to(root).as_posix() for p in files)
    listing = cache_dir() / f"listing-{source_fingerprint(root)}.json"
    if listing.exists():
        try:
            return json.loads(listing.read_text())
        except ValueError:
            pass
    names = sorted(n for n, _ in iter_tar(root, want=lambda n: False) if imgs.is_image_name(n))
    cache_write(listing.name, lambda tmp: tmp.write_text(json.dumps(names)))
    return names


def read_files(root: Path, names: Sequence[str]) -> Iterator[bytes]:
    """The bytes of ``names`` (as from :func:`list_images`), in the order given.
    An archive is read in one sequential pass; the wanted members are held in memory."""
    if not is_archive(root):
        for n in names:
            yield (root / n).read_bytes()
        return
    wanted = set(names)
    found = {n: d for n, d in iter_tar(root, want=wanted.__contains__) if d is not None}
    for n in names:
        yield found.get(n, b"")


@dataclass
class Tree:
    """Where each image of a photo tree belongs: split and class."""

    names: list[str]  # paths as stored (relative to the root / member names)
    splits: list[str]  # split folders present, [] when the tree is split by hash
    split_of: list[str]
    class_of: list[str | None]

    @property
    def classes(self) -> list[str]:
        return sorted({c for c in self.class_of if c is not None})

    def available_splits(self) -> list[str]:
        return list(self.splits) if self.splits else ["train", "val"]

    def resolve_split(self, split: str) -> str:
        if split in self.available_splits():
            return split
        if split == "test" and "val" in self.available_splits():
            return "val"
        raise TintaError(f"no split {split!r}; this data has {', '.join(self.available_splits())}")


def _hash_split(rel: str) -> str:
    h = int.from_bytes(hashlib.sha1(rel.encode("utf-8")).digest()[:4], "big")
    return "val" if h / 2**32 < VAL_FRACTION else "train"


def scan_tree(names: list[str]) -> Tree:
    """Find split folders (at the top or below one common top folder) and class folders."""
    parts = [n.split("/") for n in names]
    skip = 0
    tops = {p[0] for p in parts}
    if (
        len(tops) == 1
        and all(len(p) > 1 for p in parts)
        and not tops & set(SPLIT_NAMES)
        and any(len(p) > 2 and p[1] in SPLIT_NAMES for p in parts)
    ):
        skip = 1  # e.g. imagenette2/train/...
    splits = sorted({p[skip] for p in parts if len(p) > skip + 1 and p[skip] in SPLIT_NAMES}, key=SPLIT_NAMES.index)
    keep, split_of, class_of = [], [], []
    for n, p in zip(names, parts):
        rel = p[skip:]
        if splits:
            if len(rel) < 2 or rel[0] not in splits:
                continue
            s, rest = rel[0], rel[1:]
        else:
            s, rest = _hash_split("/".join(rel)), rel
        keep.append(n)
        split_of.append(s)
        class_of.append(rest[0] if len(rest) > 1 else None)
    return Tree(keep, splits, split_of, class_of)


def resolve_classes(requested: Sequence[str | int] | None, names: Sequence[str]) -> list[int] | None:
    """Class names or indices (ints or digit strings) -> sorted indices into ``names``."""
    if not requested:
        return None
    out = set()
    for c in requested:
        if isinstance(c, (int, np.integer)) or (isinstance(c, str) and c.strip().isdigit()):
            i = int(c)
            if not 0 <= i < len(names):
                raise TintaError(f"class index {i} out of range 0..{len(names) - 1}")
            out.add(i)
        elif c in names:
            out.add(list(names).index(c))
        else:
            raise TintaError(f"unknown class {c!r}; classes are: {' '.join(names) or '(none)'}")
    return sorted(out)


def decode_to_set(
    root: Path, names: list[str], labels: list[int], size: int | None, skip_grey: bool,
    classes: list[str], split: str, source: str,
) -> ImageSet:
    """Decode ``names`` (in order) into one ``(N, 3, H, W)`` uint8 set; bad files are counted, not fatal."""
    skipped = {"near_grey": 0, "corrupt": 0} if skip_grey else {"corrupt": 0}
    out: np.ndarray | None = None
    kept: list[int] = []
    stream = imgs.decode_many(read_files(root, names), size, skip_grey, count=len(names))
    for i, (status, hwc) in enumerate(stream):
        if status != "ok":
            skipped[status] += 1
            continue
        if out is None:
            out = np.empty((len(names), 3, *hwc.shape[:2]), dtype=np.uint8)
        elif hwc.shape[:2] != out.shape[2:]:
            raise TintaError(
                f"images in {root} differ in size ({names[kept[0]]}: {out.shape[3]}x{out.shape[2]}, "
                f"{names[i]}: {hwc.shape[1]}x{hwc.shape[0]}); pass --size N to resize and centre-crop"
            )
        out[len(kept)] = hwc.transpose(2, 0, 1)
        kept.append(i)
    if out is None:
        out = np.empty((0, 3, size or 0, size or 0), dtype=np.uint8)
    return ImageSet(
        images=torch.from_numpy(out[: len(kept)]),
        labels=torch.tensor([labels[i] for i in kept], dtype=torch.long),
        classes=classes,
        split=split,
        source=source,
        skipped=skipped,
    )


def load_folder(
    root: str | Path, split: str, size: int | None = None, classes: Sequence[str | int] | None = None
) -> ImageSet:
    """One split of a photo folder / archive as an RGB :class:`ImageSet` (cached after the first decode)."""
    root = Path(root)
    key = cache_key("folder", root, split, size, extra=json.dumps([str(c) for c in classes or []]))
    cached = load_cached(key)
    if cached is not None:
        return cached
    tree = scan_tree(list_images(root))
    if not tree.names:
        raise TintaError(f"no images found in {root}; expected {LAYOUTS}")
    real = tree.resolve_split(split)
    names = tree.classes
    wanted = resolve_classes(classes, names)
    index = {c: i for i, c in enumerate(names)}
    sel, labels = [], []
    for n, s, c in zip(tree.names, tree.split_of, tree.class_of):
        lab = index.get(c, -1)
        if s == real and (wanted is None or lab in wanted):
            sel.append(n)
            labels.append(lab)
    if not sel:
        for_classes = f" for classes {list(classes)}" if classes else ""
        raise TintaError(f"no images in split {real!r} of {root}{for_classes}")
    ds = decode_to_set(root, sel, labels, size, True, names, split, str(root.resolve()))
    if len(ds) == 0:
        raise TintaError(f"none of the {len(sel)} images in split {real!r} of {root} could be used ({ds.skipped})")
    save_cached(ds, key)
    return ds


def folder_splits(root: str | Path) -> list[str]:
    """The splits a photo folder offers: its split folders, else ``train`` and ``val``."""
    return scan_tree(list_images(Path(root))).available_splits()


SOURCE = DataSource(LAYOUTS, folder_splits, load_folder)
