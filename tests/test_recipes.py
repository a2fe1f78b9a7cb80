"""The four recipes of docs/architecture.md, each walked once as its steps say: a new head, a new model, a
new command and a new data source, added from outside the package, then used the way users use the built-in
ones (trained, loaded from the run folder, colourizing, on the command line). A step the recipe forgets, or
one that stops working, fails here."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from tinta import color
from tinta.cli import COMMANDS, main
from tinta.data import DATASETS, check_root, dataset_splits, load_dataset
from tinta.data.base import DataSource, ImageSet
from tinta.heads import HEADS, Decoding, Head, head_from_dict, register_head
from tinta.inference import load_model
from tinta.models import ColorizationModel, create_model, registry
from tinta.models.registry import register
from tinta.runs import load_run
from tinta.train.config import TrainConfig
from tinta.train.loop import train

from helpers import photo, tiny_image_folder


class MeanColourHead(Head):
    """Recipe "Add a head", step 1: one colour per picture (its mean a,b), as 2 channels averaged over the
    picture."""

    name = "mean-colour"
    out_channels = 2

    def __init__(self, scale: float = 110.0):
        self.scale = scale

    def targets(self, rgb8, lab):
        return lab[:, 1:].mean(dim=(2, 3), keepdim=True) / self.scale  # (B, 2, 1, 1)

    def loss(self, out, target):
        return F.mse_loss(out.mean(dim=(2, 3), keepdim=True), target)

    @property
    def main(self):
        return Decoding("mean")

    def predict(self, out, decoding=None, saturation=1.0):
        return out.mean(dim=(2, 3), keepdim=True).expand_as(out) * self.scale * saturation  # (B, 2, h, w)

    def to_dict(self):
        return {"name": self.name, "scale": self.scale}

    @classmethod
    def from_dict(cls, d):
        return cls(d["scale"])

    @classmethod
    def for_training(cls, cfg, data):
        return cls()


class Pointwise(ColorizationModel):
    """Recipe "Add a model", step 1: L/100 ``(B, 1, H, W)`` -> ``(B, C, H, W)``, one 1x1 layer stack."""

    def __init__(self, out_channels: int, width: int = 8):
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(1, width, 1), nn.ReLU(), nn.Conv2d(width, out_channels, 1))

    def forward(self, x):
        return self.net(x)  # (B, C, H, W)


@pytest.fixture
def recipes(monkeypatch):
    """What each recipe's registration step does, undone after the test (the registries are global)."""
    register_head(MeanColourHead)  # "Add a head", steps 1-2 (the decorator, and being imported)
    register("pointwise", "a 1x1 colouriser (test)")(lambda out_channels, width=8: Pointwise(out_channels, width))
    yield
    HEADS.pop(MeanColourHead.name)
    registry._REGISTRY.pop("pointwise")


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tiny_image_folder(tmp_path_factory.mktemp("data") / "cifar")


def _train(root: Path, out: Path, **kw) -> Path:
    cfg = TrainConfig(**{"model": "pointwise", "dataset": "cifar10", "data_root": (str(root),), "classes": ("horse",),
                         "epochs": 1, "batch_size": 8, "val_fraction": 0.2, "out": str(out), **kw})
    train(cfg)
    return out


def _colourizes(run: Path) -> np.ndarray:
    out = np.array(load_model(str(run))(Image.fromarray(photo(24, 32)).convert("L")))
    assert out.shape == (24, 32, 3)
    return out


def test_add_a_head(recipes, root, tmp_path):
    run = _train(root, tmp_path / "run", head="mean-colour")  # TrainConfig takes the registered name
    _, head, info = load_run(run)
    assert isinstance(head, MeanColourHead) and info.head.to_dict() == {"name": "mean-colour", "scale": 110.0}
    assert head_from_dict(head.to_dict()).to_dict() == head.to_dict()
    rgb = _colourizes(run)
    ab = color.rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255)[0, 1:]
    assert ab.std(dim=(1, 2)).max() < 3  # one colour per picture, as the head decodes


def test_add_a_model(recipes, root, tmp_path):
    model = create_model("pointwise", 2, width=4)
    assert isinstance(model, ColorizationModel) and not model.takes_hints and model.pretrained_encoder() is None
    run = _train(root, tmp_path / "run", head="regression")
    loaded, _, info = load_run(run)
    assert isinstance(loaded, Pointwise) and info.architecture == "pointwise"
    _colourizes(run)
    assert main(["models"]) == 0


@dataclass(frozen=True)
class GreetOptions:
    """Recipe "Add a command", step 1: the options, one frozen dataclass."""

    name: str = field(default="world", metadata={"help": "who to greet"})
    times: int = field(default=1, metadata={"help": "how many times"})

    def __post_init__(self):
        if self.times < 1:
            from tinta.errors import TintaError

            raise TintaError(f"--times must be at least 1, got {self.times}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tinta.cli.args import add_config_args

    p.description = "greet someone"
    add_config_args(p, GreetOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.cli.args import config_from_args

    o = config_from_args(GreetOptions, args)
    print(" ".join([f"hello {o.name}"] * o.times))
    return 0


def test_add_a_command(monkeypatch, capsys):
    monkeypatch.setitem(COMMANDS, "greet", (__name__, "greet someone"))  # step 2: one line in COMMANDS
    monkeypatch.setitem(sys.modules, __name__, sys.modules[__name__])
    assert main(["greet", "--name", "tinta", "--times", "2"]) == 0
    assert capsys.readouterr().out.strip() == "hello tinta hello tinta"
    assert main(["greet", "--times", "0"]) == 2  # the dataclass's check, one line, no traceback
    assert "--times must be at least 1" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "greet someone" in capsys.readouterr().out


def _splits(path: Path) -> list[str]:
    return sorted(p.stem for p in Path(path).glob("*.npy"))


def _load(path: Path, split: str, classes=None, size=None) -> ImageSet:
    """Recipe "Add a data source", step 1: ``split.npy`` holds uint8 ``(N, H, W, 3)`` pictures, one class."""
    images = torch.from_numpy(np.load(Path(path) / f"{split}.npy")).permute(0, 3, 1, 2).contiguous()
    return ImageSet(images=images, labels=torch.zeros(len(images), dtype=torch.long), classes=["picture"],
                    split=split, source=str(path))


def test_add_a_data_source(recipes, monkeypatch, tmp_path):
    source = DataSource("a folder of train.npy / val.npy (uint8 N x H x W x 3)", _splits, _load)  # step 2
    monkeypatch.setitem(DATASETS, "npy-rgb", source)  # step 3: one line in DATASETS
    root = tmp_path / "npy"
    root.mkdir()
    np.save(root / "train.npy", np.stack([photo(16, 16, seed=i) for i in range(12)]))
    np.save(root / "val.npy", np.stack([photo(16, 16, seed=100 + i) for i in range(4)]))
    assert dataset_splits("npy-rgb", root) == ["train", "val"]
    check_root("npy-rgb", root)
    assert len(load_dataset("npy-rgb", root, "train")) == 12
    run = _train(root, tmp_path / "run", dataset="npy-rgb", classes=(), head="regression")
    assert load_run(run)[2].data["train"] + load_run(run)[2].data["val"] == 12
