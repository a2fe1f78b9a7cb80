"""Building a head for training: fitting its palette or ab bins on the training data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tinta import color
from tinta.data import dataset_splits, load_dataset
from tinta.data.base import ImageSet, batch_to_lab
from tinta.errors import TintaError
from tinta.files import read_json, write_json
from tinta.heads import (
    ABBins,
    BinsHead,
    Head,
    JointHead,
    PaletteHead,
    PerceptualHead,
    RegressionHead,
    head_from_dict,
)
from tinta.heads.bins import bins_from_centres, fit_grid_bins
from tinta.kmeans import N_INIT, kmeans_palette
from tinta.palette import Palette
from tinta.train.config import TrainConfig

HEAD_FILE = "head.json"


def fit_palette(dataset: str, root: str | Path, classes: list[str] | None = None, k: int = 24,
                space: str = "rgb", seed: int = 0, n_init: int = N_INIT) -> Palette:
    """Fit a palette on every pixel of the train and test splits (else val) of ``classes`` (None: all)."""
    avail = dataset_splits(dataset, root)
    splits = [s for s in ("train", "test" if "test" in avail else "val") if s in avail] or list(avail)
    pixels = []
    for split in splits:
        ds = load_dataset(dataset, root, split, classes=classes)
        for i in range(0, len(ds), 256):  # (n, 3, H, W) uint8 -> (n*H*W, 3) sRGB pixels
            x = ds.get(torch.arange(i, min(i + 256, len(ds))))
            x = x if ds.colorspace == "rgb" else color.rgb_to_uint8(color.lab_to_rgb(color.opencv8_to_lab(x)))
            pixels.append(x.permute(0, 2, 3, 1).reshape(-1, 3).numpy())
    pal = kmeans_palette(np.concatenate(pixels), k=k, space=space, seed=seed, n_init=n_init)
    pal.source = f"{dataset}:{root} ({'+'.join(splits)})"
    pal.classes = [str(c) for c in classes] if classes else list(ds.classes)
    return pal


def fit_bins_on(cfg: TrainConfig, train_set: ImageSet) -> ABBins:
    """ab bins from (a sample of) the training pixels: the grid cells used, or a palette's a,b."""
    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(train_set), generator=g)[:2000]
    lab = batch_to_lab(train_set.get(idx.sort().values), train_set.colorspace)  # (n, 3, H, W)
    ab = lab[:, 1:, ::2, ::2].permute(0, 2, 3, 1).reshape(-1, 2)  # every 4th pixel
    if cfg.bins == "grid":
        return fit_grid_bins(ab, sigma=cfg.bin_sigma, lam=cfg.bin_lambda)
    return bins_from_centres(Palette.load(cfg.bins).ab().float(), ab, sigma=cfg.bin_sigma, lam=cfg.bin_lambda,
                             source=f"palette {cfg.bins}")


def _fit_head(cfg: TrainConfig, train_set: ImageSet) -> Head:
    kind = cfg.resolved_head
    if kind == "regression":
        return RegressionHead(cfg.loss)
    if kind == "perceptual":
        return PerceptualHead(cfg.loss, cfg.perceptual_weight, cfg.colourfulness_weight)
    if kind == "bins":
        return BinsHead(fit_bins_on(cfg, train_set), cfg.temperature, cfg.rebalance)
    if kind == "joint":
        return JointHead(fit_bins_on(cfg, train_set), cfg.temperature, cfg.rebalance, cfg.bins_weight)
    if kind != "palette":
        raise TintaError(f"no way to fit a {kind!r} head for training; add it to tinta.train.fit_heads")
    if cfg.palette:
        return PaletteHead(Palette.load(cfg.palette))
    print(f"fitting a K={cfg.k} palette on the train+test pixels of {cfg.classes or 'all classes'} ...")
    if len(cfg.roots) > 1:
        raise TintaError("a palette is fitted on one data source; fit it with `tinta palette` and pass --palette")
    return PaletteHead(fit_palette(cfg.dataset, cfg.roots[0], list(cfg.classes) or None, k=cfg.k, seed=cfg.seed))


def _saved_head(run_dir: Path, cfg: TrainConfig) -> Head | None:
    if (run_dir / HEAD_FILE).is_file():
        return head_from_dict(read_json(run_dir / HEAD_FILE))
    if cfg.resolved_head == "bins" and (run_dir / "bins.json").is_file():  # older run folders
        return BinsHead(ABBins.load(run_dir / "bins.json"), cfg.temperature, cfg.rebalance)
    if cfg.resolved_head == "palette" and (run_dir / "palette.json").is_file():
        return PaletteHead(Palette.load(run_dir / "palette.json"))
    return None


def _init_head(cfg: TrainConfig) -> Head | None:
    """The ``--init-from`` run's head when it is the kind asked for: its bins / palette line up with
    the weights copied from it (a head fitted anew on other data would scramble the outputs)."""
    if not cfg.init_from:
        return None
    path, config = Path(cfg.init_from) / HEAD_FILE, Path(cfg.init_from) / "config.json"
    if path.is_file():
        d = read_json(path)
    elif config.is_file():  # shipped weights laid out as a run (tinta.pretrained.as_run) keep it here
        d = read_json(config).get("head") or {}
    else:
        return None
    if d.get("name") != cfg.resolved_head:
        return None
    options = {"temperature": cfg.temperature, "rebalance": cfg.rebalance, "bins_weight": cfg.bins_weight,
               "perceptual_weight": cfg.perceptual_weight, "colourfulness_weight": cfg.colourfulness_weight}
    return head_from_dict({**d, **{k: v for k, v in options.items() if k in d}})  # this run's options


def build_head(cfg: TrainConfig, run_dir: Path, train_set: ImageSet, write: bool = True) -> Head:
    """The run's head: as saved in ``run_dir`` (a resumed run, or written by rank 0 of a distributed
    run), else the ``--init-from`` run's of the same kind, else fitted now; (``write``) saved there for
    the other ranks and for resuming."""
    head = _saved_head(Path(run_dir), cfg)
    if head is None:
        head = _init_head(cfg) or _fit_head(cfg, train_set)
        if write:
            write_json(Path(run_dir) / HEAD_FILE, head.to_dict(), indent=None)
    return head
