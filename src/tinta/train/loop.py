"""The training loop shared by every tinta model: whole-tensor data, batched augmentation,
Adam(W), validation every epoch, best/last safetensors checkpoints, deterministic resume."""

from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
from tqdm import tqdm

from tinta import color
from tinta.data.base import ImageSet, batch_to_lab, holdout_split, iterate_batches, random_crop_flip
from tinta.errors import TintaError
from tinta.models import count_parameters, create_model
from tinta.train import checkpoint as ckpt
from tinta.train.config import TrainConfig
from tinta.train.tasks import BinTask, PaletteTask, RegressionTask


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise TintaError("--device cuda: no CUDA device is available")
    return torch.device(name)


def fit_bins_on(cfg: TrainConfig, train_set: ImageSet):
    """ab bins from (a sample of) the training pixels: the grid cells used, or a palette's a,b."""
    from tinta.train.bins import bins_from_centres, fit_grid_bins

    g = torch.Generator().manual_seed(0)
    idx = torch.randperm(len(train_set), generator=g)[:2000]
    lab = batch_to_lab(train_set.get(idx.sort().values), train_set.colorspace)  # (n, 3, H, W)
    ab = lab[:, 1:, ::2, ::2].permute(0, 2, 3, 1).reshape(-1, 2)  # every 4th pixel
    if cfg.bins == "grid":
        return fit_grid_bins(ab, sigma=cfg.bin_sigma, lam=cfg.bin_lambda)
    from tinta.palette import Palette

    return bins_from_centres(Palette.load(cfg.bins).ab().float(), ab, sigma=cfg.bin_sigma, lam=cfg.bin_lambda,
                             source=f"palette {cfg.bins}")


def build_task(cfg: TrainConfig, run_dir: Path, train_set: ImageSet):
    if cfg.resolved_head == "regression":
        return RegressionTask(cfg.loss)
    if cfg.resolved_head == "bins":
        from tinta.train.bins import ABBins

        saved = run_dir / "bins.json"
        bins = ABBins.load(saved) if saved.exists() else fit_bins_on(cfg, train_set)
        bins.save(saved)
        return BinTask(bins, (cfg.temperature,), cfg.rebalance)
    from tinta.palette import Palette, fit_palette

    saved = run_dir / "palette.json"
    if cfg.resume and saved.exists():
        palette = Palette.load(saved)
    elif cfg.palette:
        palette = Palette.load(cfg.palette)
    else:
        print(f"fitting a K={cfg.k} palette on the train+test pixels of {cfg.classes or 'all classes'} ...")
        palette = fit_palette(cfg.dataset, cfg.data_root, list(cfg.classes) or None, k=cfg.k, space="rgb", seed=cfg.seed)
    if not saved.exists():
        palette.save(saved)
    return PaletteTask(palette)


def task_from_run(run_dir: Path, config: dict):
    if config["task"] == "bins":
        from tinta.train.bins import ABBins

        return BinTask(ABBins.load(run_dir / "bins.json"), (config["train"]["temperature"],), config["train"]["rebalance"])
    if config["task"] == "palette":
        from tinta.palette import Palette

        return PaletteTask(Palette.load(run_dir / "palette.json"))
    return RegressionTask(config["train"]["loss"])


def model_input(lab: torch.Tensor) -> torch.Tensor:
    return color.normalize_l(lab[:, :1])  # (B, 1, H, W) in [0, 1]


@dataclass
class Batches:
    """Index batches of an ImageSet turned into (rgb8, lab) on a device, optionally augmented."""

    data: ImageSet
    device: torch.device

    def fetch(self, idx: torch.Tensor, crop=None, flip=False, gen=None) -> tuple[torch.Tensor, torch.Tensor]:
        raw = self.data.get(idx)  # (B, 3, H, W) uint8
        if crop or flip:
            raw = random_crop_flip(raw, crop, flip, gen)
        lab = batch_to_lab(raw, self.data.colorspace)
        rgb8 = raw if self.data.colorspace == "rgb" else color.rgb_to_uint8(color.lab_to_rgb(lab))
        return rgb8.to(self.device), lab.to(self.device)


def _param_groups(model: nn.Module, cfg: TrainConfig) -> list[dict]:
    enc = getattr(model, "encoder", None)
    if enc is None or not getattr(model, "pretrained", False):
        return [{"params": list(model.parameters()), "lr": cfg.lr, "name": "all"}]
    enc_ids = {id(p) for p in enc.parameters()}
    rest = [p for p in model.parameters() if id(p) not in enc_ids]
    return [
        {"params": rest, "lr": cfg.lr, "name": "decoder"},
        {"params": list(enc.parameters()), "lr": cfg.lr * cfg.encoder_lr_mult, "name": "encoder"},
    ]


def set_encoder_frozen(model: nn.Module, frozen: bool) -> None:
    enc = getattr(model, "encoder", None)
    if enc is not None and getattr(model, "pretrained", False):
        for p in enc.parameters():
            p.requires_grad_(not frozen)


@torch.no_grad()
def validate(model: nn.Module, task, batches: Batches, batch_size: int) -> dict[str, float]:
    model.eval()
    total, n, stats = 0.0, 0, {}
    sq_err, count = 0.0, 0
    for idx in iterate_batches(len(batches.data), batch_size, shuffle=False):
        rgb8, lab = batches.fetch(idx)
        out = model(model_input(lab))
        total += float(task.loss(out, task.targets(rgb8, lab))) * len(idx)
        n += len(idx)
        for k, v in task.batch_stats(out, task.targets(rgb8, lab)).items():
            stats[k] = stats.get(k, 0.0) + v
        pred = color.rgb_to_uint8(task.decode(out, lab[:, :1])).float()
        sq_err += float(((pred - rgb8.float()) ** 2).mean((1, 2, 3)).clamp(min=1e-10).log10().sum())
        count += len(idx)
    result = {"val_loss": total / max(n, 1)}
    # mean over images of PSNR = 10 log10(255^2 / MSE)
    result["val_psnr"] = 10 * math.log10(255**2) - 10 * sq_err / max(count, 1)
    if "correct" in stats:
        result["val_accuracy"] = stats["correct"] / stats["pixels"]
    return result


def load_train_val(cfg: TrainConfig) -> tuple[ImageSet, ImageSet]:
    from tinta.data import load_dataset

    full = load_dataset(cfg.dataset, cfg.data_root, "train", classes=list(cfg.classes) or None, size=cfg.size)
    tr_idx, va_idx = holdout_split(len(full), cfg.val_fraction, seed=0)
    if cfg.max_train:
        tr_idx = tr_idx[: cfg.max_train]
    if cfg.max_val:
        va_idx = va_idx[: cfg.max_val]
    if len(tr_idx) == 0 or len(va_idx) == 0:
        raise TintaError(f"too few images for a train/validation split ({len(full)} in {cfg.data_root})")
    return full.subset(tr_idx, "train"), full.subset(va_idx, "holdout")


def train(cfg: TrainConfig) -> dict:
    """Train ``cfg.model``; returns the final summary (also in ``<out>/state.json``)."""
    run_dir = Path(cfg.out)
    if run_dir.exists() and (run_dir / "state.json").exists() and not cfg.resume:
        raise TintaError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if cfg.resume and not (run_dir / "state.json").exists():
        raise TintaError(f"--resume: no run to continue in {run_dir}")
    run_dir.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    torch.manual_seed(cfg.seed)

    train_set, val_set = load_train_val(cfg)
    task = build_task(cfg, run_dir, train_set)
    model = create_model(cfg.model, task.out_channels, **cfg.model_kwargs()).to(device)
    opt = torch.optim.AdamW(_param_groups(model, cfg), lr=cfg.lr, weight_decay=cfg.weight_decay)
    config = {
        "train": cfg.to_dict(),
        "task": task.name,
        "out_channels": task.out_channels,
        "pretrained_encoder": bool(getattr(model, "pretrained", False)),
        "parameters": count_parameters(model),
        "transfer_schedule": {
            "encoder_frozen_epochs": cfg.freeze_epochs if getattr(model, "pretrained", False) else 0,
            "encoder_lr_mult": cfg.encoder_lr_mult,
            "encoder_batchnorm": "eval mode (ImageNet statistics kept)" if getattr(model, "freeze_bn", False) else "trained",
        },
        "data": {"train": len(train_set), "val": len(val_set), "skipped": train_set.skipped, "size": list(train_set.size)},
    }
    state = {"epoch": 0, "best_val_loss": float("inf"), "train_seconds": 0.0}
    if cfg.resume:
        state = ckpt.read_json(run_dir / "state.json")
        ckpt.load_weights(model, run_dir / "last.safetensors")
        ckpt.load_optimizer(opt, run_dir / "optimizer.pt")
        print(f"resuming {run_dir} after epoch {state['epoch']}")
    ckpt.write_json(run_dir / "config.json", config)
    log = ckpt.MetricsLog(run_dir / "metrics.csv", keep_until_epoch=state["epoch"])
    print(f"{cfg.model}: {config['parameters']:,} parameters, task {task.name}, "
          f"{len(train_set)} train / {len(val_set)} val images of {train_set.size}, device {device}")

    tr, va = Batches(train_set, device), Batches(val_set, device)
    for group in opt.param_groups:
        group["base_lr"] = group["lr"] if "base_lr" not in group else group["base_lr"]
    steps_per_epoch = math.ceil(len(train_set) / cfg.batch_size)
    total_steps = steps_per_epoch * cfg.epochs
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        set_encoder_frozen(model, epoch <= cfg.freeze_epochs)
        gen = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)  # resumable: depends on epoch only
        model.train()
        t0, loss_sum, seen = time.perf_counter(), 0.0, 0
        batches = list(iterate_batches(len(train_set), cfg.batch_size, shuffle=True, generator=gen))
        bar = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, mininterval=1.0)
        for i, idx in enumerate(bar):
            step = (epoch - 1) * steps_per_epoch + i
            factor = 0.5 * (1 + math.cos(math.pi * step / total_steps)) if cfg.schedule == "cosine" else 1.0
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * factor
            rgb8, lab = tr.fetch(idx, crop=cfg.crop, flip=cfg.flip, gen=gen)
            loss = task.loss(model(model_input(lab)), task.targets(rgb8, lab))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
            bar.set_postfix(loss=f"{loss_sum / seen:.4f}")
        seconds = time.perf_counter() - t0
        val = validate(model, task, va, cfg.batch_size)
        state["train_seconds"] += seconds
        row = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), **val, "epoch_seconds": round(seconds, 2)}
        log.append(row)
        print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        ckpt.save_weights(model, run_dir / "last.safetensors")
        if val["val_loss"] < state["best_val_loss"]:
            state["best_val_loss"], state["best_epoch"] = val["val_loss"], epoch
            shutil.copyfile(run_dir / "last.safetensors", run_dir / ".best.tmp")
            (run_dir / ".best.tmp").replace(run_dir / "best.safetensors")
        ckpt.save_optimizer(opt, run_dir / "optimizer.pt")
        state["epoch"] = epoch
        state["last"] = row
        ckpt.write_json(run_dir / "state.json", state)
    return state


def load_run(run_dir: str | Path, which: str = "best", device: str = "cpu"):
    """(model in eval mode, task, config dict) of a finished or interrupted run."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.json").exists():
        raise TintaError(f"{run_dir}: not a tinta run folder (no config.json)")
    config = ckpt.read_json(run_dir / "config.json")
    task = task_from_run(run_dir, config)
    tc = config["train"]
    kwargs = {"imagenet": False} if tc["model"] in ("resnet", "unet") else {}
    if tc.get("width"):
        kwargs["width"] = tc["width"]
    model = create_model(tc["model"], config["out_channels"], **kwargs)
    ckpt.load_weights(model, run_dir / f"{which}.safetensors")
    return model.to(resolve_device(device)).eval(), task, config
