"""config.json is written and read through one schema, RunInfo: training runs and shipped weights laid
out as runs (tinta.pretrained.as_run) alike, with the keys older readers know."""

from __future__ import annotations

import json

import pytest

from tinta import pretrained
from tinta.heads import RegressionHead
from tinta.runs import RunInfo
from tinta.train.config import TrainConfig

# the keys `tinta train` has always written to config.json
TRAINING_KEYS = {"train", "head", "task", "out_channels", "pretrained_encoder", "parameters", "transfer_schedule",
                 "data", "processes", "device"}


def test_config_json_round_trips_through_run_info(tmp_path):
    cfg = TrainConfig(model="small-unet", head="regression", data_root=("x",), width=8)
    extra = {"transfer_schedule": {"encoder_frozen_epochs": 0, "encoder_lr_mult": 0.1, "encoder_batchnorm": "trained"},
             "processes": 1, "device": "cpu"}
    data = {"train": 4, "val": 1, "skipped": {}, "size": [32, 48]}
    info = RunInfo.create(cfg.to_dict(), RegressionHead("l1"), 123, False, data, extra)
    written = json.loads(info.write(tmp_path).read_text())
    assert set(written) == TRAINING_KEYS
    assert written["head"] == {"name": "regression", "loss": "l1"} and written["task"] == "regression"
    back = RunInfo.read(tmp_path)
    assert (back.architecture, back.width, back.native_size, back.parameters) == ("small-unet", 8, 32, 123)
    assert json.loads(json.dumps(back.to_dict())) == written


@pytest.mark.parametrize("name", ["cifar-horse", "vivid", "default"])
def test_shipped_weights_laid_out_as_a_run(name, tmp_path):
    """as_run writes config.json through RunInfo: the shipped training config's keys and values, and
    the registry's head (older shipped configs had none)."""
    entry = pretrained.registry()[name]
    folder = pretrained.as_run(name, tmp_path / name)
    shipped = json.loads((pretrained.WEIGHTS_DIR / f"{entry.config_name}.train-config.json").read_text())
    written = json.loads((folder / "config.json").read_text())
    assert set(written) == set(shipped) | {"head"}
    assert {k: written[k] for k in shipped if k != "head"} == {k: v for k, v in shipped.items() if k != "head"}
    assert written["head"] == entry.head.to_dict() == RunInfo.read(folder).head.to_dict()
