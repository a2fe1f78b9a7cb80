"""CIFAR-10 in its python (pickle), binary and ImageFolder shapes, plus the cache."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch
from PIL import Image

from tinta.data import cifar, load_dataset
from tinta.data.base import cache_dir
from tinta.data.cifar import RestrictedUnpickler, load_cifar10, unpickle
from tinta.errors import TintaError
from tinta.files import TMP_MARK

from data_helpers import (
    CLASSES,
    PER_BATCH,
    cifar_arrays,
    make_tar,
    make_tar_of_contents,
    py2_pickle,
    write_cifar_binary,
    write_cifar_python,
    write_image_folder,
)


def expected(split: str, classes=None):
    arrays = cifar_arrays()
    pairs = arrays[:5] if split == "train" else arrays[5:]
    x = np.concatenate([d for d, _ in pairs]).reshape(-1, 3, 32, 32)
    y = np.concatenate([labels for _, labels in pairs])
    if classes is not None:
        m = np.isin(y, classes)
        x, y = x[m], y[m]
    return x, y


def check(ds, split, classes=None):
    x, y = expected(split, classes)
    assert ds.images.dtype == torch.uint8 and tuple(ds.images.shape[1:]) == (3, 32, 32)
    assert np.array_equal(ds.images.numpy(), x)
    assert np.array_equal(ds.labels.numpy(), y)
    assert ds.classes == CLASSES and ds.split == split and ds.colorspace == "rgb"


@pytest.mark.parametrize("py2", [True, False])
def test_python_folder(tmp_path, py2):
    d = write_cifar_python(tmp_path, py2=py2)
    check(load_cifar10(d, "train"), "train")
    check(load_cifar10(d, "test"), "test")
    check(load_cifar10(tmp_path, "train"), "train")  # a folder holding cifar-10-batches-py/


def test_pixel_layout_is_planar(tmp_path):
    """data rows are R plane, G plane, B plane, each row-major 32x32."""
    d = write_cifar_python(tmp_path)
    ds = load_cifar10(d, "train")
    row = cifar_arrays()[0][0][0]
    img = ds.images[0].numpy()
    assert img[0, 0, 1] == row[1] and img[1, 0, 0] == row[1024] and img[2, 1, 0] == row[2048 + 32]


def test_python_archive_and_folder_holding_it(tmp_path):
    d = write_cifar_python(tmp_path / "src")
    (tmp_path / "dl").mkdir()
    arc = make_tar(d, tmp_path / "dl" / "cifar-10-python.tar.gz")
    check(load_cifar10(arc, "train", classes=["horse", 2]), "train", [2, 7])
    check(load_cifar10(tmp_path / "dl", "test"), "test")
    # an archive under another name is recognised from its members
    other = tmp_path / "mirror.tgz"
    os.rename(arc, other)
    check(load_cifar10(other, "test", classes=["7"]), "test", [7])


def test_binary_folder_and_archive(tmp_path):
    d = write_cifar_binary(tmp_path / "b")
    check(load_cifar10(d, "train"), "train")
    check(load_cifar10(tmp_path / "b", "test", classes=[0]), "test", [0])
    arc = make_tar(d, tmp_path / "cifar-10-binary.tar.gz")
    check(load_cifar10(arc, "train", classes=["ship"]), "train", [8])


@pytest.mark.parametrize("packed", [False, True])
def test_image_folder(tmp_path, packed):
    root = write_image_folder(tmp_path / "jpeg", classes=("horse", "airplane", "ship"), per_class=3, fmt="png")
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(root / "train" / "horse" / "0003.jpg")  # jpg too
    src = make_tar_of_contents(root, tmp_path / "cifar10-jpeg.tar.gz") if packed else root
    tr = load_cifar10(src, "train")
    assert tr.classes == CLASSES and tr.size == (32, 32)
    assert tr.labels.tolist() == [0] * 3 + [7] * 4 + [8] * 3  # sorted paths: airplane, horse, ship
    ref = np.asarray(Image.open(root / "train" / "airplane" / "0000.png"))
    assert np.array_equal(tr.images[0].numpy().transpose(1, 2, 0), ref)
    te = load_cifar10(src, "test", classes=["horse"])
    assert len(te) == 3 and set(te.labels.tolist()) == {7}
    assert te.skipped == {"corrupt": 0}


def test_cache_second_load_equal_and_from_cache(tmp_path, monkeypatch):
    d = write_cifar_python(tmp_path)
    first = load_cifar10(d, "train", classes=["horse"])
    monkeypatch.setattr(cifar, "detect", lambda root: pytest.fail("not served from the cache"))
    second = load_cifar10(d, "train", classes=["horse"])
    assert torch.equal(first.images, second.images) and torch.equal(first.labels, second.labels)
    assert second.classes == first.classes and second.skipped == first.skipped


def test_a_killed_cache_write_is_swept_by_the_next(tmp_path):
    stale = cache_dir() / f".cifar10-train-native-0.safetensors{TMP_MARK}999999999"  # no such process
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half")
    load_cifar10(write_cifar_python(tmp_path), "train", classes=["horse"])
    assert not stale.exists()
    assert all(p.suffix == ".safetensors" and TMP_MARK not in p.name for p in cache_dir().iterdir())


def test_cache_invalidated_when_source_changes(tmp_path):
    d = write_cifar_binary(tmp_path)
    first = load_cifar10(d, "test")
    rec = bytearray((d / "test_batch.bin").read_bytes())
    rec[1] ^= 0xFF
    (d / "test_batch.bin").write_bytes(bytes(rec))
    os.utime(d / "test_batch.bin", ns=(1, 1))
    second = load_cifar10(d, "test")
    assert second.images[0, 0, 0, 0] == first.images[0, 0, 0, 0] ^ 0xFF


def test_malicious_pickle_refused(tmp_path):
    sentinel = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return os.system, (f"touch {sentinel}",)

    d = write_cifar_python(tmp_path / "c")
    (d / "data_batch_3").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}, protocol=2))
    with pytest.raises(TintaError, match="refusing to load global"):
        load_cifar10(d, "train")
    assert not sentinel.exists()
    for payload in (pickle.dumps(os.system), py2_pickle({"x": eval})):
        with pytest.raises(TintaError, match="refusing"):
            unpickle(payload, "evil")


def test_restricted_unpickler_allows_only_numpy_trio():
    u = RestrictedUnpickler.__new__(RestrictedUnpickler)
    assert u.find_class("numpy", "ndarray") is np.ndarray
    assert u.find_class("numpy", "dtype") is np.dtype
    assert callable(u.find_class("numpy.core.multiarray", "_reconstruct"))
    refused = [("numpy", "load"), ("builtins", "eval"), ("numpy._core.numeric", "_frombuffer"), ("os", "system")]
    for mod, name in refused:
        with pytest.raises(pickle.UnpicklingError):
            u.find_class(mod, name)


def test_errors(tmp_path):
    with pytest.raises(TintaError, match="no CIFAR-10 data"):
        load_cifar10(tmp_path, "train")
    with pytest.raises(TintaError, match="splits"):
        load_cifar10(tmp_path, "val")
    d = write_cifar_python(tmp_path / "c")
    with pytest.raises(TintaError, match="unknown class 'zebra'"):
        load_cifar10(d, "train", classes=["zebra"])
    (d / "data_batch_5").unlink()
    with pytest.raises(TintaError, match="data_batch_5"):
        load_cifar10(d, "train")


def test_load_dataset_dispatch_and_resize(tmp_path):
    d = write_cifar_python(tmp_path)
    ds = load_dataset("cifar10", d, "test", size=48)
    assert tuple(ds.images.shape) == (PER_BATCH, 3, 48, 48)
    with pytest.raises(TintaError, match="does not exist.*cifar-10-python.tar.gz"):
        load_dataset("cifar10", tmp_path / "nope", "train")
    (tmp_path / "empty").mkdir()
    with pytest.raises(TintaError, match="is empty"):
        load_dataset("cifar10", tmp_path / "empty", "train")
    with pytest.raises(TintaError, match="unknown data set"):
        load_dataset("mnist", d, "train")
