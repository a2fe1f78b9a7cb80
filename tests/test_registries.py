"""The extension points are registries: every registered head builds itself for training, every data
source is one table entry, every model is a ColorizationModel, and an unknown name is a clear TintaError."""

from __future__ import annotations

import pytest
import torch

from tinta.data import DATASETS, check_root, dataset_splits, layouts, load_dataset
from tinta.data.base import DataSource
from tinta.errors import TintaError
from tinta.heads import HEADS, Head, head_class, head_from_dict
from tinta.models import ColorizationModel, create_model, registry
from tinta.runs import RunInfo
from tinta.train.config import TrainConfig
from tinta.train.fit_heads import build_head

from helpers import tiny_image_folder

# options away from their defaults, so a head that ignored one would show it
OPTIONS = {"loss": "l1", "temperature": 0.5, "rebalance": False, "bins_weight": 0.02, "perceptual_weight": 0.07,
           "colourfulness_weight": 0.3}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny CIFAR-style folder and its horse training images."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TINTA_CACHE", str(tmp_path_factory.mktemp("cache")))
    root = tiny_image_folder(tmp_path_factory.mktemp("data") / "cifar")
    yield root, load_dataset("cifar10", root, "train", classes=["horse"])
    mp.undo()


def _cfg(root, head: str, **kw) -> TrainConfig:
    return TrainConfig(**{"model": "small-unet", "head": head, "dataset": "cifar10", "data_root": (str(root),),
                          "classes": ("horse",), "k": 4, **OPTIONS, **kw})


@pytest.mark.parametrize("name", sorted(HEADS))
def test_every_registered_head_is_built_for_training(name, tiny, tmp_path):
    root, train_set = tiny
    head = build_head(_cfg(root, name), tmp_path / "run", train_set)
    assert type(head) is HEADS[name] and head.name == name and head.out_channels >= 2
    d = head.to_dict()
    assert {k: d[k] for k in OPTIONS if k in d} == {k: v for k, v in OPTIONS.items() if k in d}  # the run's options
    assert head_from_dict(d).to_dict() == d
    ab = head.predict(torch.randn(1, head.out_channels, 4, 4), head.main)
    assert ab.shape == (1, 2, 4, 4)
    assert RunInfo.read(tmp_path / "run").head.to_dict() == d  # written once, in config.json, before the model
    assert build_head(_cfg(root, "regression", resume=True), tmp_path / "run", train_set).to_dict() == d  # resume
    assert build_head(_cfg(root, "regression"), tmp_path / "run", train_set, write=False).to_dict() == d  # DDP rank
    assert build_head(_cfg(root, "regression"), tmp_path / "fresh", train_set).name == "regression"


def test_unknown_head_name_is_a_user_error(tiny, tmp_path):
    root, train_set = tiny
    known = ", ".join(sorted(HEADS))
    with pytest.raises(TintaError, match=f"unknown head 'nope'; known: {known}"):
        head_class("nope")
    with pytest.raises(TintaError, match=f"unknown head 'nope'; known: {known}"):
        build_head(_cfg(root, "nope"), tmp_path / "run", train_set)
    with pytest.raises(TintaError, match="unknown head 'nope'"):
        head_from_dict({"name": "nope"})


def test_a_head_without_for_training_cannot_be_trained(tiny):
    class Untrainable(Head):
        name = "untrainable"

    with pytest.raises(TintaError, match="untrainable head cannot be trained"):
        Untrainable.for_training(_cfg(tiny[0], "regression"), tiny[1])


def test_a_palette_is_fitted_on_one_data_source(tiny, tmp_path):
    root, train_set = tiny
    with pytest.raises(TintaError, match="one data source.*--palette"):
        build_head(_cfg(root, "palette", data_root=(str(root), str(root))), tmp_path / "run", train_set)


def test_unknown_data_set_is_a_user_error(tiny):
    root = tiny[0]
    message = "unknown data set 'mnist'; choose from cifar10, folder, lab-npy"
    for call in (lambda: load_dataset("mnist", root, "train"), lambda: dataset_splits("mnist", root),
                 lambda: layouts("mnist"), lambda: check_root("mnist", root)):
        with pytest.raises(TintaError, match=message):
            call()


def test_every_data_source_is_one_table_entry(tiny):
    root = tiny[0]
    assert set(DATASETS) == {"cifar10", "folder", "lab-npy"}
    for name, source in DATASETS.items():
        assert isinstance(source, DataSource) and layouts(name) == source.layouts and source.layouts
    assert dataset_splits("cifar10", root) == ["train", "test"]
    assert dataset_splits("folder", root) == ["train", "test"]
    assert len(load_dataset("folder", root, "test", classes=["horse"], size=16)) == 6


def test_every_model_is_a_colorization_model(monkeypatch):
    for name in ("small-unet", "vanilla-cnn"):
        model = create_model(name, 2, width=4)
        assert isinstance(model, ColorizationModel)
        assert not model.takes_hints and not model.pretrained and model.pretrained_encoder() is None
    monkeypatch.setitem(registry._REGISTRY, "plain", registry.Architecture(lambda out_channels: torch.nn.Identity(),
                                                                          "not a ColorizationModel"))
    with pytest.raises(TypeError, match="not a ColorizationModel"):
        create_model("plain", 2)
