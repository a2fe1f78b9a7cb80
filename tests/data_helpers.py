"""Tiny data sets in the exact on-disk formats tinta reads (shared by tests/test_data_*.py)."""

from __future__ import annotations

import io
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

try:
    from numpy._core.multiarray import _reconstruct
except ImportError:  # numpy < 2
    from numpy.core.multiarray import _reconstruct

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
PER_BATCH = 20


class Py2Pickler(pickle._Pickler):
    """Writes pickles as Python 2's cPickle did for the official CIFAR-10 files:
    str/bytes as BINSTRING, the array rebuilt via ``numpy.core.multiarray._reconstruct``."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _py2str(self, b: bytes) -> None:
        n = len(b)
        self.write((pickle.SHORT_BINSTRING + bytes([n]) if n < 256 else pickle.BINSTRING + struct.pack("<i", n)) + b)
        self.memoize(b)

    def save_bytes(self, obj):
        self._py2str(obj)

    def save_str(self, obj):
        self._py2str(obj.encode("latin1"))

    dispatch[bytes] = save_bytes
    dispatch[str] = save_str

    def save_global(self, obj, name=None):
        if obj is _reconstruct:
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def py2_pickle(obj) -> bytes:
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def cifar_arrays(seed: int = 0, n_batches: int = 6) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(data uint8[n, 3072], labels int[n])`` for data_batch_1..5 and test_batch."""
    rng = np.random.default_rng(seed)
    out = []
    for b in range(n_batches):
        data = rng.integers(0, 256, (PER_BATCH, 3072), dtype=np.uint8)
        labels = (np.arange(PER_BATCH) + b) % 10
        out.append((data, labels))
    return out


BATCH_NAMES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def write_cifar_python(root: Path, seed: int = 0, py2: bool = True) -> Path:
    """``root/cifar-10-batches-py/`` with pickled batches; returns that folder."""
    d = root / "cifar-10-batches-py"
    d.mkdir(parents=True)
    dump = py2_pickle if py2 else (lambda o: pickle.dumps(o, protocol=4))
    for name, (data, labels) in zip(BATCH_NAMES, cifar_arrays(seed)):
        obj = {"batch_label": f"{name} of 6", "labels": [int(y) for y in labels], "data": data,
               "filenames": [f"img_{i}.png" for i in range(len(labels))]}
        if not py2:
            obj = {k.encode(): v for k, v in obj.items()}
        (d / name).write_bytes(dump(obj))
    meta = {"num_cases_per_batch": PER_BATCH, "label_names": CLASSES, "num_vis": 3072}
    (d / "batches.meta").write_bytes(dump(meta if py2 else {k.encode(): v for k, v in meta.items()}))
    (d / "readme.html").write_text("<html></html>")
    return d


def write_cifar_binary(root: Path, seed: int = 0) -> Path:
    d = root / "cifar-10-batches-bin"
    d.mkdir(parents=True)
    for name, (data, labels) in zip(BATCH_NAMES, cifar_arrays(seed)):
        rec = np.concatenate([labels.astype(np.uint8)[:, None], data], axis=1)
        (d / f"{name}.bin").write_bytes(rec.tobytes())
    (d / "batches.meta.txt").write_text("\n".join(CLASSES) + "\n\n")
    return d


def make_tar(src: Path, out: Path) -> Path:
    """``out`` (.tar.gz) holding ``src`` under its own name, like the official archives."""
    with tarfile.open(out, "w:gz") as tf:
        tf.add(src, arcname=src.name)
    return out


def make_tar_of_contents(src: Path, out: Path) -> Path:
    """``out`` holding ``src``'s contents at the top (like cifar10-jpeg.tar.gz)."""
    with tarfile.open(out, "w:gz") as tf:
        for p in sorted(src.iterdir()):
            tf.add(p, arcname=p.name)
    return out


def colour_image(rng: np.random.Generator, h: int = 32, w: int = 32) -> np.ndarray:
    """A smooth colourful HWC uint8 image (survives JPEG well, clearly not grey)."""
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), np.full_like(x, 128)], -1)
    return ((base + rng.integers(-10, 10, 3)).clip(0, 255)).astype(np.uint8)


def write_image_folder(root: Path, splits=("train", "test"), classes=("cat", "horse"), per_class: int = 3,
                       size: int = 32, fmt: str = "png", seed: int = 0) -> Path:
    """``root/<split>/<class>/NNNN.<fmt>``."""
    rng = np.random.default_rng(seed)
    for s in splits:
        for c in classes:
            d = root / s / c
            d.mkdir(parents=True)
            for i in range(per_class):
                Image.fromarray(colour_image(rng, size, size)).save(d / f"{i:04d}.{fmt}")
    return root
