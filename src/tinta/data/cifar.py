"""CIFAR-10 in its three shapes, found automatically from ``root``.

(a) python     ``cifar-10-python.tar.gz`` or ``cifar-10-batches-py/`` (or a folder holding
               either): pickled ``data_batch_1..5``, ``test_batch``, ``batches.meta``.
(b) binary     ``cifar-10-binary.tar.gz`` or ``cifar-10-batches-bin/``: records of 1 label
               byte + 3072 pixel bytes in ``data_batch_1..5.bin``, ``test_batch.bin``.
(c) folder     an ImageFolder tree ``<split>/<class>/*.jpg|png`` or a .tar.gz of one.

Pickles can run arbitrary code when loaded, so batches are read with
:class:`RestrictedUnpickler`: it refuses every global except the three numpy needs to
rebuild an array (``numpy.core.multiarray._reconstruct`` (or ``numpy._core...``),
``numpy.ndarray``, ``numpy.dtype``); dicts, lists, bytes and ints need none.

Order is deterministic: official batch order for (a) and (b), sorted paths for (c).
Labels are the official class indices (0 airplane ... 9 truck).
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from tinta.data import folder
from tinta.data.archive import iter_tar
from tinta.data.base import DataSource, ImageSet, cache_key, load_cached, save_cached
from tinta.data.images import resize_center_crop
from tinta.errors import TintaError

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
SPLITS = ("train", "test")
PY_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
BIN_BATCHES = {s: [f"{b}.bin" for b in bs] for s, bs in PY_BATCHES.items()}
ARCHIVES = {"cifar-10-python.tar.gz": "python", "cifar-10-binary.tar.gz": "binary"}
LAYOUTS = (
    "cifar-10-python.tar.gz or its cifar-10-batches-py/ folder (or a folder holding either); "
    "cifar-10-binary.tar.gz or cifar-10-batches-bin/; "
    "an ImageFolder tree <split>/<class>/*.jpg|png with train/ and test/ (or a .tar.gz of one)"
)


def _numpy_globals() -> dict[tuple[str, str], object]:
    try:
        from numpy._core.multiarray import _reconstruct
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct
    return {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves no global but numpy's array-rebuilding trio."""

    def find_class(self, module: str, name: str):
        obj = _numpy_globals().get((module, name))
        if obj is None:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from a CIFAR pickle")
        return obj


def unpickle(data: bytes, what: str) -> dict:
    """A CIFAR batch pickle (Python 2 era, hence ``encoding='bytes'``) -> dict with str keys."""
    try:
        obj = RestrictedUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:
        raise TintaError(f"cannot read CIFAR pickle {what}: {e}") from e
    if not isinstance(obj, dict):
        raise TintaError(f"CIFAR pickle {what} holds a {type(obj).__name__}, not a dict")
    return {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _as_text(x) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else str(x)


def _parse_py_batch(data: bytes, what: str) -> tuple[np.ndarray, np.ndarray]:
    d = unpickle(data, what)
    try:
        raw = d["data"]
        if isinstance(raw, (bytes, bytearray)):
            raw = np.frombuffer(raw, dtype=np.uint8)
        x = np.asarray(raw, dtype=np.uint8).reshape(-1, 3, 32, 32)
        y = np.asarray(d.get("labels", d.get("fine_labels")), dtype=np.int64).reshape(-1)
    except Exception as e:
        raise TintaError(f"CIFAR pickle {what} is not a batch of 32x32 images: {e}") from e
    if len(x) != len(y):
        raise TintaError(f"CIFAR pickle {what}: {len(x)} images but {len(y)} labels")
    return x, y


def _parse_bin_batch(data: bytes, what: str) -> tuple[np.ndarray, np.ndarray]:
    if len(data) % 3073:
        raise TintaError(f"CIFAR binary batch {what} is {len(data)} bytes, not a multiple of 3073")
    rec = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3073)
    return rec[:, 1:].reshape(-1, 3, 32, 32).copy(), rec[:, 0].astype(np.int64)


def _batch_files(fmt: str, split: str) -> list[str]:
    meta = "batches.meta" if fmt == "python" else "batches.meta.txt"
    return [meta] + (PY_BATCHES if fmt == "python" else BIN_BATCHES)[split]


def _read_from_dir(d: Path, fmt: str, split: str) -> dict[str, bytes]:
    out = {}
    for n in _batch_files(fmt, split):
        if (d / n).is_file():
            out[n] = (d / n).read_bytes()
    return out


def _read_from_tar(path: Path, fmt: str, split: str) -> dict[str, bytes]:
    wanted, out = set(_batch_files(fmt, split)), {}
    for name, data in iter_tar(path, want=lambda n: n.rsplit("/", 1)[-1] in wanted):
        base = name.rsplit("/", 1)[-1]
        if data is not None and base not in out:
            out[base] = data
    return out


def _tar_format(path: Path) -> str:
    """'python', 'binary' or 'folder' for an archive, from its name or its first members."""
    if path.name in ARCHIVES:
        return ARCHIVES[path.name]
    for i, (name, _) in enumerate(iter_tar(path, want=lambda n: False)):
        base = name.rsplit("/", 1)[-1]
        if base in ("data_batch_1", "test_batch", "batches.meta"):
            return "python"
        if base in ("data_batch_1.bin", "test_batch.bin", "batches.meta.txt"):
            return "binary"
        if i > 50:
            break
    return "folder"


def detect(root: Path) -> tuple[str, Path]:
    """``(format, path)``: the CIFAR-10 shape found at ``root`` and the file/folder to read."""
    if folder.is_archive(root):
        return _tar_format(root), root
    if not root.is_dir():
        raise TintaError(f"{root} is not a CIFAR-10 archive or folder; expected {LAYOUTS}")
    for d in (root, root / "cifar-10-batches-py", root / "cifar-10-batches-bin"):
        if (d / "data_batch_1").is_file() or (d / "test_batch").is_file():
            return "python", d
        if (d / "data_batch_1.bin").is_file() or (d / "test_batch.bin").is_file():
            return "binary", d
    for name, fmt in ARCHIVES.items():
        if (root / name).is_file():
            return fmt, root / name
    if any((root / s).is_dir() for s in SPLITS):
        return "folder", root
    raise TintaError(f"no CIFAR-10 data found in {root}; expected {LAYOUTS}")


def _class_names(fmt: str, files: dict[str, bytes]) -> list[str]:
    if fmt == "python" and "batches.meta" in files:
        names = unpickle(files["batches.meta"], "batches.meta").get("label_names")
        if names:
            return [_as_text(n) for n in names]
    if fmt == "binary" and "batches.meta.txt" in files:
        names = [ln.strip() for ln in files["batches.meta.txt"].decode("utf-8", "replace").splitlines()]
        if any(names):
            return [n for n in names if n]
    return list(CLASSES)


def _load_batches(fmt: str, path: Path, split: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    files = _read_from_tar(path, fmt, split) if path.is_file() else _read_from_dir(path, fmt, split)
    batches = (PY_BATCHES if fmt == "python" else BIN_BATCHES)[split]
    missing = [b for b in batches if b not in files]
    if missing:
        raise TintaError(f"CIFAR-10 {fmt} data at {path} lacks {', '.join(missing)}")
    parse = _parse_py_batch if fmt == "python" else _parse_bin_batch
    xs, ys = zip(*(parse(files[b], b) for b in batches))
    return np.concatenate(xs), np.concatenate(ys), _class_names(fmt, files)


def _load_folder(path: Path, split: str) -> tuple[list[str], list[int], list[str]]:
    tree = folder.scan_tree(folder.list_images(path))
    if split not in tree.splits:
        present = tree.splits or "none"
        raise TintaError(f"CIFAR-10 folder {path} has no {split}/ split (found: {present}); expected {LAYOUTS}")
    found = tree.classes
    names = list(CLASSES) if set(found) <= set(CLASSES) else found
    index = {c: i for i, c in enumerate(names)}
    sel = [(n, index[c]) for n, s, c in zip(tree.names, tree.split_of, tree.class_of) if s == split and c]
    return [n for n, _ in sel], [y for _, y in sel], names


def load_cifar10(root: str | Path, split: str, classes: Sequence[str | int] | None = None) -> ImageSet:
    """One split (``'train'`` or ``'test'``) of CIFAR-10 as ``(N, 3, 32, 32)`` uint8 RGB,
    optionally only some classes (names or official indices); cached after the first read."""
    if split not in SPLITS:
        raise TintaError(f"CIFAR-10 has splits {' and '.join(SPLITS)}, not {split!r}")
    root = Path(root)
    key = cache_key("cifar10", root, split, None, extra=json.dumps([str(c) for c in classes or []]))
    cached = load_cached(key)
    if cached is not None:
        return cached
    fmt, path = detect(root)
    source = f"{root.resolve()} (CIFAR-10 {fmt})"
    if fmt == "folder":
        names_, labels, class_names = _load_folder(path, split)
        wanted = folder.resolve_classes(classes, class_names)
        keep = [i for i, y in enumerate(labels) if wanted is None or y in wanted]
        ds = folder.decode_to_set(path, [names_[i] for i in keep], [labels[i] for i in keep], None, False,
                                  class_names, split, source)
        if ds.size != (32, 32) and len(ds):
            raise TintaError(f"CIFAR-10 folder {path} holds {ds.size[1]}x{ds.size[0]} images, not 32x32")
    else:
        x, y, class_names = _load_batches(fmt, path, split)
        wanted = folder.resolve_classes(classes, class_names)
        if wanted is not None:
            m = np.isin(y, wanted)
            x, y = x[m], y[m]
        ds = ImageSet(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y), class_names, split, source,
                      skipped={"corrupt": 0})
    if len(ds) == 0:
        raise TintaError(f"no CIFAR-10 {split} images in {root}" + (f" for classes {list(classes)}" if classes else ""))
    save_cached(ds, key)
    return ds



def resize_set(ds: ImageSet, size: int) -> ImageSet:
    """Resize (short side) + centre-crop every image of an in-memory RGB set."""
    x = np.asarray(ds.images)
    out = np.empty((len(x), 3, size, size), dtype=np.uint8)
    for i, chw in enumerate(x):
        out[i] = np.asarray(resize_center_crop(Image.fromarray(chw.transpose(1, 2, 0)), size)).transpose(2, 0, 1)
    return ImageSet(torch.from_numpy(out), ds.labels, ds.classes, ds.split, ds.source, ds.colorspace, dict(ds.skipped))


def load(path: Path, split: str, classes: Sequence[str | int] | None = None, size: int | None = None) -> ImageSet:
    """:func:`load_cifar10`, resized after loading when ``size`` is given (the 32x32 images are cached)."""
    ds = load_cifar10(path, split, classes)
    return resize_set(ds, size) if size and ds.size != (size, size) else ds


SOURCE = DataSource(LAYOUTS, lambda path: list(SPLITS), load)
