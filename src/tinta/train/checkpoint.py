"""Run folders: weights as safetensors, configuration and history as JSON / CSV.

A run folder holds ``config.json`` (the TrainConfig, the task and its palette, the model's
construction arguments), ``last.safetensors`` and ``best.safetensors`` (weights),
``optimizer.pt`` (the optimizer state, read back with ``weights_only=True``),
``state.json`` (epoch, best score) and ``metrics.csv`` (one row per epoch).
Every file is written under a temporary name and renamed, so an interrupted
run never leaves a half-written checkpoint.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from tinta.errors import TintaError


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def write_json(path: Path, obj: Any) -> None:
    tmp = _tmp(path)
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TintaError(f"{path}: not found") from None
    except json.JSONDecodeError as e:
        raise TintaError(f"{path}: not valid JSON ({e})") from None


def save_weights(model: nn.Module, path: Path, half: bool = False, metadata: dict[str, str] | None = None) -> None:
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    tmp = _tmp(path)
    save_file(state, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def load_weights(model: nn.Module, path: Path) -> None:
    if not Path(path).is_file():
        raise TintaError(f"{path}: checkpoint not found")
    try:
        state = load_file(str(path))
    except Exception as e:
        raise TintaError(f"{path}: not a safetensors checkpoint ({e})") from None
    own = model.state_dict()
    state = {k: v.to(own[k].dtype) if k in own else v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise TintaError(f"{path}: weights do not fit this model (missing {missing[:3]}, unexpected {unexpected[:3]})")


def save_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    tmp = _tmp(path)
    torch.save(opt.state_dict(), tmp)
    os.replace(tmp, path)


def load_optimizer(opt: torch.optim.Optimizer, path: Path) -> None:
    opt.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))


class MetricsLog:
    """Appends one CSV row per epoch; on resume, rows after the resumed epoch are dropped."""

    def __init__(self, path: Path, keep_until_epoch: int | None = None):
        self.path = path
        self.rows: list[dict[str, Any]] = []
        if keep_until_epoch is not None and path.exists():
            with path.open() as f:
                self.rows = [r for r in csv.DictReader(f) if int(r["epoch"]) <= keep_until_epoch]

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        fields = list(dict.fromkeys(k for r in self.rows for k in r))
        tmp = _tmp(self.path)
        with tmp.open("w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            w.writerows(self.rows)
        os.replace(tmp, self.path)
