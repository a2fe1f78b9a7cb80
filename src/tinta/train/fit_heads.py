"""Building a head for a training run: as saved in the run folder, as the ``--init-from`` run had it,
or new (:meth:`tinta.heads.Head.for_training` of the class registered under the head's name).

The head lives in one place, the run's ``config.json`` (:class:`tinta.runs.RunInfo`): it is written
there as soon as it is fitted, before the model exists, for the other ranks of a distributed run and
for ``--resume``; training rewrites the file whole once the model is built. Older run folders kept
it in ``head.json`` (:data:`OLD_HEAD_FILE`), still read."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from tinta.data.base import ImageSet
from tinta.files import read_json
from tinta.heads import Head, head_class, head_from_dict
from tinta.runs import CONFIG_FILE, RunInfo
from tinta.train.config import TrainConfig

OLD_HEAD_FILE = "head.json"  # runs written before the head moved into config.json


def _fit_head(cfg: TrainConfig, train_set: ImageSet) -> Head:
    """A new head of the kind ``cfg`` names (TintaError naming the known ones for an unknown name)."""
    return head_class(cfg.resolved_head).for_training(cfg, train_set)


def _stored_head(run_dir: Path) -> dict | None:
    """The head as ``run_dir`` stores it: ``config.json``'s, else an older folder's ``head.json``."""
    if (run_dir / CONFIG_FILE).is_file():
        head = read_json(run_dir / CONFIG_FILE).get("head")
        if isinstance(head, dict):
            return head
    return read_json(run_dir / OLD_HEAD_FILE) if (run_dir / OLD_HEAD_FILE).is_file() else None


def _saved_head(run_dir: Path, cfg: TrainConfig) -> Head | None:
    if (d := _stored_head(run_dir)) is not None:
        return head_from_dict(d)
    name = cfg.resolved_head
    legacy = run_dir / f"{name}.json"  # older run folders: the fitted part (palette.json, bins.json) alone
    if legacy.is_file():
        return head_from_dict({"name": name, name: read_json(legacy), "temperature": cfg.temperature,
                               "rebalance": cfg.rebalance})
    return None


def _init_head(cfg: TrainConfig) -> Head | None:
    """The ``--init-from`` run's head when it is the kind asked for: its bins / palette line up with
    the weights copied from it (a head fitted anew on other data would scramble the outputs)."""
    if not cfg.init_from:
        return None
    d = _stored_head(Path(cfg.init_from))
    if d is None:
        return None
    wanted = head_class(cfg.resolved_head)
    if d.get("name") != cfg.resolved_head and d.get("name") not in wanted.grows_from:
        return None
    options = {"temperature": cfg.temperature, "rebalance": cfg.rebalance, "bins_weight": cfg.bins_weight,
               "perceptual_weight": cfg.perceptual_weight, "colourfulness_weight": cfg.colourfulness_weight,
               "chroma_weight": cfg.chroma_weight, "chroma_target": cfg.chroma_target}
    grown = d.get("name") != cfg.resolved_head  # e.g. a chroma head from a joint run: every option is this run's
    # an option the stored head holds is this run's; so is one set away from its default (a head writes some
    # options only when they differ from their defaults, so a stored head may lack one this run asks for)
    defaults = {f.name: f.default for f in fields(TrainConfig) if f.name in options}
    mine = {k: v for k, v in options.items() if grown or k in d or v != defaults[k]}
    return head_from_dict({**d, "name": cfg.resolved_head, **mine})  # this run's options


def build_head(cfg: TrainConfig, run_dir: Path, train_set: ImageSet, write: bool = True) -> Head:
    """The run's head: as saved in ``run_dir`` (a resumed run, or written by rank 0 of a distributed
    run), else the ``--init-from`` run's of the same kind, else fitted now; (``write``) saved there for
    the other ranks and for resuming."""
    # rank 0 of a new run fits its own: a config.json left by an attempt killed before its first checkpoint
    # may hold another --head
    head = _saved_head(Path(run_dir), cfg) if cfg.resume or not write else None
    if head is None:
        head = _init_head(cfg) or _fit_head(cfg, train_set)
        if write:
            RunInfo.create(cfg.to_dict(), head).write(run_dir)  # completed once the model exists
    return head
