"""Weights that ship inside tinta, declared as data (timm style).

``weights/registry.json`` maps a name (``default``, ``cifar-horse`` ...) to a file in
``weights/`` with its sha256, the architecture, the task (and palette, for palette
models), the render size, and the metrics its model card reports. Nothing is loaded
until asked; the sha256 is checked on every load.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from tinta.errors import TintaError
from tinta.models import create_model
from tinta.train import checkpoint as ckpt

WEIGHTS_DIR = Path(__file__).parent / "weights"
REGISTRY_FILE = WEIGHTS_DIR / "registry.json"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def registry(weights_dir: Path = WEIGHTS_DIR) -> dict[str, dict]:
    file = Path(weights_dir) / "registry.json"
    if not file.exists():
        return {}
    return json.loads(file.read_text())


def _task_from_entry(entry: dict):
    from tinta.train.tasks import PaletteTask, RegressionTask

    if entry["task"] == "palette":
        from tinta.palette import Palette

        return PaletteTask(Palette.from_dict(entry["palette"]))
    if entry["task"] == "bins":
        from tinta.train.bins import ABBins
        from tinta.train.tasks import BinTask

        return BinTask(ABBins.from_dict(entry["bins"]), (entry["temperature"],), entry.get("rebalance", True))
    return RegressionTask(entry.get("loss", "huber"))


def load_pretrained(name: str, weights_dir: Path = WEIGHTS_DIR):
    """(model in eval mode, task, registry entry) for a shipped weight name."""
    reg = registry(weights_dir)
    if name not in reg:
        raise TintaError(f"no shipped weights named {name!r}; available: {', '.join(sorted(reg)) or 'none'}")
    entry = reg[name]
    path = Path(weights_dir) / entry["file"]
    if not path.is_file():
        raise TintaError(f"{path}: shipped weights missing from the installation")
    if sha256_file(path) != entry["sha256"]:
        raise TintaError(f"{path}: sha256 mismatch; the file is damaged")
    task = _task_from_entry(entry)
    kwargs = {"imagenet": False} if entry["architecture"] in ("resnet", "unet") else {}
    if entry.get("width"):
        kwargs["width"] = entry["width"]
    model = create_model(entry["architecture"], task.out_channels, **kwargs)
    ckpt.load_weights(model, path)
    return model.eval(), task, entry


def package_run(run_dir: str | Path, name: str, description: str, render_size: int | None,
                card: str, metrics: dict, weights_dir: Path = WEIGHTS_DIR) -> dict:
    """Copy a run's best weights into the package as fp16 safetensors and register them."""
    from tinta.train.loop import load_run

    run_dir = Path(run_dir)
    model, task, config = load_run(run_dir)
    weights_dir.mkdir(parents=True, exist_ok=True)
    file = f"{name}.safetensors"
    ckpt.save_weights(model, weights_dir / file, half=True, metadata={"name": name, "architecture": config["train"]["model"]})
    entry = {
        "file": file,
        "sha256": sha256_file(weights_dir / file),
        "bytes": (weights_dir / file).stat().st_size,
        "architecture": config["train"]["model"],
        "task": task.name,
        "loss": config["train"]["loss"],
        "render_size": render_size,
        "width": config["train"].get("width"),
        "description": description,
        "data": f"{config['train']['dataset']}: {config['train']['data_root']} classes={list(config['train']['classes']) or 'all'}",
        "metrics": metrics,
        "card": f"{name}.md",
    }
    if task.name == "palette":
        entry["palette"] = task.palette.to_dict()
    if task.name == "bins":
        entry["bins"], entry["temperature"] = task.bins.to_dict(), task.main
        entry["rebalance"] = task.rebalance
    (weights_dir / f"{name}.md").write_text(card)
    reg_file = weights_dir / "registry.json"
    reg = json.loads(reg_file.read_text()) if reg_file.exists() else {}
    reg[name] = entry
    tmp = reg_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(reg, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, reg_file)
    shutil.copyfile(run_dir / "config.json", weights_dir / f"{name}.train-config.json")
    return entry
