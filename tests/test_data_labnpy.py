"""The Kaggle Lab .npy format: memory-mapped, lazy gathers, 80/10/10 splits, values."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_to_lab
from tinta.data.labnpy import LabNpyImages, load_lab_npy, open_lab_npy, split_indices
from tinta.errors import TintaError

N, H, W = 30, 12, 16
COUNTS = (12, 10, 8)


def write_lab_npy(root, rgb: np.ndarray, in_ab_folder: bool = True, counts=COUNTS):
    """Write ``rgb`` (N, 3, H, W) uint8 in the Kaggle layout; returns the OpenCV-8 Lab (N, 3, H, W)."""
    lab8 = color.lab_to_opencv8(color.rgb_to_lab(torch.from_numpy(rgb))).numpy()
    root.mkdir(parents=True, exist_ok=True)
    np.save(root / "gray_scale.npy", lab8[:, 0])
    ab_dir = root / "ab" if in_ab_folder else root
    ab_dir.mkdir(exist_ok=True)
    ab = lab8[:, 1:].transpose(0, 2, 3, 1)  # (N, H, W, 2)
    start = 0
    for k, n in enumerate(counts, 1):
        np.save(ab_dir / f"ab{k}.npy", np.ascontiguousarray(ab[start : start + n]))
        start += n
    return lab8


@pytest.fixture
def rgb():
    return np.random.default_rng(0).integers(0, 256, (N, 3, H, W), dtype=np.uint8)


@pytest.mark.parametrize("in_ab_folder", [True, False])
def test_values_match_rgb_to_lab(tmp_path, rgb, in_ab_folder):
    lab8 = write_lab_npy(tmp_path / "kaggle", rgb, in_ab_folder)
    full = open_lab_npy(tmp_path / "kaggle")
    assert full.shape == (N, 3, H, W) and isinstance(full.grey, np.memmap)
    got = full[np.arange(N)]
    assert got.dtype == np.uint8 and np.array_equal(got, lab8)
    lab = color.opencv8_to_lab(torch.from_numpy(got))
    err = (lab - color.rgb_to_lab(torch.from_numpy(rgb))).abs()
    assert err[:, 0].max() <= 0.2 and err[:, 1:].max() <= 0.51  # 8-bit rounding only


def test_splits_and_lazy_gather(tmp_path, rgb):
    lab8 = write_lab_npy(tmp_path / "k", rgb)
    idx = split_indices(N)
    assert [len(idx[s]) for s in ("train", "val", "test")] == [24, 3, 3]
    assert np.array_equal(np.sort(np.concatenate(list(idx.values()))), np.arange(N))
    assert all(np.array_equal(idx[s], split_indices(N)[s]) for s in idx)  # fixed
    sets = {s: load_lab_npy(tmp_path / "k", s) for s in ("train", "val", "test")}
    for s, ds in sets.items():
        assert isinstance(ds.images, LabNpyImages) and ds.colorspace == "lab8" and len(ds) == len(idx[s])
        assert ds.size == (H, W) and (ds.labels == -1).all()
    tr = sets["train"]
    pick = torch.tensor([23, 0, 11, 12, 5])  # out of order, across ab files
    batch = tr.get(pick)
    assert batch.shape == (5, 3, H, W) and batch.dtype == torch.uint8
    assert np.array_equal(batch.numpy(), lab8[idx["train"][pick.numpy()]])
    assert np.array_equal(tr.images[3], lab8[idx["train"][3]])
    assert np.array_equal(tr.images[-1], lab8[idx["train"][-1]])
    assert np.array_equal(tr.images[2:5], lab8[idx["train"][2:5]])
    assert np.array_equal(np.asarray(sets["val"].images), lab8[idx["val"]])
    sub = tr.subset(torch.tensor([1, 2]))
    assert torch.equal(sub.get([0, 1]), torch.from_numpy(lab8[idx["train"][[1, 2]]]))
    lab = batch_to_lab(batch, tr.colorspace)
    assert torch.allclose(lab, color.opencv8_to_lab(batch))
    with pytest.raises(IndexError):
        tr.images[np.array([len(tr)])]


def test_errors(tmp_path, rgb):
    write_lab_npy(tmp_path / "k", rgb, counts=(12, 10, 7))  # one image short
    with pytest.raises(TintaError,
                       match=r"30 images but the ab files have 29 \(ab1.npy: 12, ab2.npy: 10, ab3.npy: 7\)"):
        load_lab_npy(tmp_path / "k", "train")
    (tmp_path / "only").mkdir()
    np.save(tmp_path / "only" / "gray_scale.npy", np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(TintaError, match="no Lab .npy data"):
        load_dataset("lab-npy", tmp_path / "only", "train")
    with pytest.raises(TintaError, match="does not exist.*gray_scale.npy"):
        load_dataset("lab-npy", tmp_path / "nope", "train")
    with pytest.raises(TintaError, match="splits"):
        load_lab_npy(tmp_path / "k", "holdout")
    good = tmp_path / "good"
    write_lab_npy(good, rgb)
    with pytest.raises(TintaError, match="no classes"):
        load_dataset("lab-npy", good, "train", classes=["cat"])
    with pytest.raises(TintaError, match="--size 8"):
        load_dataset("lab-npy", good, "train", size=8)
    np.save(good / "ab" / "ab2.npy", np.zeros((10, H, W, 2), np.float32))
    with pytest.raises(TintaError, match="expected uint8"):
        load_lab_npy(good, "val")


def test_subset_of_lab_npy_stays_lazy(tmp_path, rgb):
    root = tmp_path / "kaggle"
    write_lab_npy(root, rgb)
    ds = load_dataset("lab-npy", root, "train")
    sub = ds.subset([0, 2, 3])
    assert isinstance(sub.images, LabNpyImages) and len(sub) == 3
    assert torch.equal(sub.get([1]), ds.get([2]))


def test_trains_and_evaluates_on_kaggle_files(tmp_path, rgb, capsys):
    """Seed 2's Kaggle format works end to end: train a regression model, evaluate on test."""
    import json

    from tinta.cli import main

    write_lab_npy(tmp_path / "kaggle", np.ascontiguousarray(rgb[:, :, :12, :12]))
    run = tmp_path / "run"
    assert main(["train", "--model", "vanilla-cnn", "--width", "8", "--dataset", "lab-npy", "--data-root",
                 str(tmp_path / "kaggle"), "--epochs", "1", "--batch-size", "8", "--out", str(run)]) == 0
    assert main(["evaluate", "--run", str(run), "--split", "test", "--no-judge"]) == 0
    report = json.loads((run / "eval-test.json").read_text())
    assert report["images"] == 3 and np.isfinite(report["results"]["ab"]["psnr"])
