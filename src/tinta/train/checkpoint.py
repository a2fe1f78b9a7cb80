"""Training checkpoints, committed as one unit, and the per-epoch metrics log.

Each epoch's weights (``last.safetensors``), optimizer state (``optimizer.pt``, read back
with ``weights_only=True``) and ``state.json`` (epoch, best score, time) are written into a
fresh hidden folder ``.checkpoint-EPOCH``; then one rename points the ``checkpoint`` link
at it. A run killed at any moment therefore resumes from a consistent epoch: the
previous one, or the new one once the rename happened, never a mix of the two.
Run folders of older versions (these files at the top of the folder) still resume.
"""

from __future__ import annotations

import contextlib
import csv
import os
import shutil
from pathlib import Path
from typing import Any

import torch

from tinta.errors import TintaError
from tinta.files import atomic_write, read_json, tmp_path, write_json
from tinta.runs import LINK, checkpoint_dir, load_weights, save_weights


def _reached(step: str) -> None:
    """Called after each step of :func:`commit` (a hook for tests that simulate a kill there)."""


def commit(run_dir: Path, model: torch.nn.Module, opt: torch.optim.Optimizer, state: dict) -> None:
    """Write the epoch's weights, optimizer and state into a new folder, then switch the
    ``checkpoint`` link to it with one rename; older checkpoint folders are removed after."""
    run_dir = Path(run_dir)
    new = run_dir / f".checkpoint-{state['epoch']:04d}"
    if new.exists():
        shutil.rmtree(new)
    new.mkdir()
    try:
        save_weights(model, new / "last.safetensors")
        _reached("weights")
        atomic_write(new / "optimizer.pt", lambda tmp: torch.save(opt.state_dict(), tmp))
        _reached("optimizer")
        write_json(new / "state.json", state)
        _reached("state")
    except Exception:  # a full disk: the committed checkpoint stays as it was, the new folder goes
        shutil.rmtree(new, ignore_errors=True)
        raise
    link_tmp = tmp_path(run_dir / LINK)
    with contextlib.suppress(FileNotFoundError):
        link_tmp.unlink()
    os.symlink(new.name, link_tmp)
    _reached("link")
    os.replace(link_tmp, run_dir / LINK)  # the commit
    _reached("commit")
    prune(run_dir)


def prune(run_dir: Path) -> None:
    """Remove checkpoint folders the link does not point at (older epochs, or one a kill left
    half-written) and superseded top-level checkpoint files of older versions."""
    run_dir = Path(run_dir)
    current = os.readlink(run_dir / LINK) if (run_dir / LINK).is_symlink() else None
    for old in run_dir.glob(".checkpoint-*"):
        if old.name != current and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    if current is not None:
        for legacy in ("last.safetensors", "optimizer.pt", "state.json"):
            with contextlib.suppress(FileNotFoundError):
                (run_dir / legacy).unlink()


def restore(run_dir: Path, model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict:
    """Load the committed checkpoint into ``model`` and ``opt``; returns its state."""
    ck = checkpoint_dir(run_dir)
    if ck is None:
        raise TintaError(f"--resume: no checkpoint to continue in {run_dir}")
    state = read_json(ck / "state.json")
    load_weights(model, ck / "last.safetensors")
    path = ck / "optimizer.pt"
    try:
        opt.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except FileNotFoundError:
        raise TintaError(f"{path}: missing; the checkpoint is incomplete") from None
    except Exception as e:  # truncated, foreign or pickled-object files
        raise TintaError(f"{path}: not an optimizer state of this run ({e.__class__.__name__}); "
                         f"start a new run with another --out") from None
    return state


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

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=fields)
                w.writeheader()
                w.writerows(self.rows)

        atomic_write(self.path, write)
