"""Weights that ship inside tinta, declared as data (timm style).

``weights/registry.json`` maps a name (``default``, ``vivid`` ...) to a :class:`WeightsEntry`:
the fp16 safetensors file and its sha256, the architecture, the head, the render size and
the metrics its model card reports. Nothing is loaded until asked; the sha256 is checked
on every load. An entry may instead name another's weights with other head options (``decoding_of``,
``head_options``: e.g. ``vivid``, the ``default`` network decoded with more colour): it follows that entry,
so re-packaging the network updates both.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch.nn as nn

from tinta.errors import TintaError
from tinta.files import read_json, sha256_file, write_json, write_text
from tinta.heads import Head, head_from_dict
from tinta.models import create_model
from tinta.runs import RunInfo, load_run, load_weights, save_weights

WEIGHTS_DIR = Path(__file__).parent / "weights"
EXAMPLES_DIR = Path(__file__).parent / "assets" / "examples"  # grey example photos (public domain / CC0)
_LEGACY_HEAD_KEYS = ("task", "loss", "palette", "bins", "temperature", "rebalance", "bins_weight", "blend")


@dataclass
class WeightsEntry:
    """One shipped model in ``registry.json``."""

    name: str
    file: str
    sha256: str
    bytes: int
    architecture: str
    head: Head
    render_size: int | None
    description: str = ""
    data: str = ""
    width: int | None = None
    card: str = ""
    metrics: dict = field(default_factory=dict)
    decoding_of: str = ""  # another entry whose network (file, training config) this one decodes differently

    @property
    def config_name(self) -> str:
        """The entry whose ``NAME.train-config.json`` describes this network's training."""
        return self.decoding_of or self.name

    @classmethod
    def from_dict(cls, name: str, d: dict) -> "WeightsEntry":
        """Registry entries hold the head whole (``head``: its ``to_dict()``); older entries kept its fields at
        the top (``task``, ``bins``, ``temperature`` ...) and still load."""
        legacy = {k: d[k] for k in _LEGACY_HEAD_KEYS if k in d and d[k] is not None}
        head = head_from_dict(d["head"] if "head" in d else legacy)
        return cls(name, d["file"], d["sha256"], d["bytes"], d["architecture"], head, d.get("render_size"),
                   d.get("description", ""), d.get("data", ""), d.get("width"), d.get("card", ""), d.get("metrics", {}))

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k not in ("name", "head", "decoding_of")}
        return {**d, "head": self.head.to_dict()}


def _decoding(name: str, d: dict, raw: dict) -> WeightsEntry:
    """An entry that decodes another's network with other head options: that entry's file, architecture and
    render size, its head with ``head_options`` applied; this entry's description, card and metrics."""
    base_name = d["decoding_of"]
    if base_name not in raw or "decoding_of" in raw[base_name]:
        raise TintaError(f"registry entry {name!r}: decoding_of {base_name!r} is not a shipped network")
    base = WeightsEntry.from_dict(base_name, raw[base_name])
    try:
        head = base.head.with_options(d.get("head_options", {}))
    except TintaError as e:
        raise TintaError(f"registry entry {name!r}: {e}") from None
    return WeightsEntry(name, base.file, base.sha256, base.bytes, base.architecture, head, base.render_size,
                        d.get("description", ""), base.data, base.width, d.get("card", ""), d.get("metrics", {}),
                        base_name)


def _read_registry(weights_dir: Path) -> dict[str, dict]:
    """``registry.json`` of ``weights_dir`` as written (empty when there is none yet)."""
    file = Path(weights_dir) / "registry.json"
    return read_json(file) if file.exists() else {}


def _write_registry(weights_dir: Path, raw: dict[str, dict]) -> None:
    write_json(Path(weights_dir) / "registry.json", raw)


def registry(weights_dir: Path = WEIGHTS_DIR) -> dict[str, WeightsEntry]:
    raw = _read_registry(weights_dir)
    return {name: _decoding(name, d, raw) if "decoding_of" in d else WeightsEntry.from_dict(name, d)
            for name, d in raw.items()}


def verified_entry(name: str, weights_dir: Path = WEIGHTS_DIR) -> tuple[WeightsEntry, Path]:
    """The registry entry of a shipped weight name and its weights file, whose sha256 is checked."""
    reg = registry(weights_dir)
    if name not in reg:
        raise TintaError(f"no shipped weights named {name!r}; available: {', '.join(sorted(reg)) or 'none'}")
    entry = reg[name]
    path = Path(weights_dir) / entry.file
    if not path.is_file():
        raise TintaError(f"{path}: shipped weights missing from the installation")
    if sha256_file(path) != entry.sha256:
        raise TintaError(f"{path}: sha256 mismatch; the file is damaged")
    return entry, path


def load_pretrained(name: str, weights_dir: Path = WEIGHTS_DIR) -> tuple[nn.Module, Head, WeightsEntry]:
    """(model in eval mode, head, registry entry) for a shipped weight name."""
    entry, path = verified_entry(name, weights_dir)
    kwargs = {"width": entry.width} if entry.width else {}
    model = create_model(entry.architecture, entry.head.out_channels, imagenet=False, **kwargs)
    load_weights(model, path)
    return model.eval(), entry.head, entry


def as_run(name: str, folder: Path, weights_dir: Path = WEIGHTS_DIR) -> Path:
    """Shipped weights laid out as a run folder (its training config, the head, the fp16 weights), so
    ``tinta evaluate`` / ``tinta compare`` score a shipped model exactly like a run. Returns the folder."""
    entry, path = verified_entry(name, weights_dir)
    folder = Path(folder)
    config = read_json(Path(weights_dir) / f"{entry.config_name}.train-config.json")
    RunInfo.from_dict({**config, "head": entry.head.to_dict()}, folder).write(folder)
    shutil.copyfile(path, folder / "best.safetensors")
    return folder


def package_run(run_dir: str | Path, name: str, description: str, render_size: int | None,
                card: str, metrics: dict, weights_dir: Path = WEIGHTS_DIR) -> WeightsEntry:
    """Copy a run's best weights into the package as fp16 safetensors and register them."""
    run_dir, weights_dir = Path(run_dir), Path(weights_dir)
    model, head, info = load_run(run_dir)
    file = weights_dir / f"{name}.safetensors"
    save_weights(model, file, half=True, metadata={"name": name, "architecture": info.architecture})
    tc = info.train
    entry = WeightsEntry(name, file.name, sha256_file(file), file.stat().st_size, info.architecture, head, render_size,
                         description, f"{tc['dataset']}: {' + '.join(info.roots)} "
                         f"classes={list(tc['classes']) or 'all'}",
                         info.width, f"{name}.md", metrics)
    write_text(weights_dir / f"{name}.md", card)
    _write_registry(weights_dir, {**_read_registry(weights_dir), name: entry.to_dict()})
    shutil.copyfile(run_dir / "config.json", weights_dir / f"{name}.train-config.json")
    return entry


def register_decoding(name: str, of: str, head_options: dict, description: str, card: str, metrics: dict,
                      weights_dir: Path = WEIGHTS_DIR) -> WeightsEntry:
    """Register ``name`` as shipped network ``of`` decoded with ``head_options`` (no weights copied); its card
    is written beside the others. TintaError for an unknown network or an option its head rejects."""
    weights_dir = Path(weights_dir)
    reg = _read_registry(weights_dir)
    d = {"decoding_of": of, "head_options": head_options, "description": description, "card": f"{name}.md",
         "metrics": metrics}
    entry = _decoding(name, d, reg)  # checked before anything is written
    write_text(weights_dir / f"{name}.md", card)
    _write_registry(weights_dir, {**reg, name: d})
    stale = weights_dir / f"{name}.safetensors"  # a network this name shipped before
    for old in (stale, weights_dir / f"{name}.train-config.json"):
        old.unlink(missing_ok=True)
    return entry
