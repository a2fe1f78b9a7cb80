"""The training loop shared by every tinta model: whole-tensor data, batched augmentation,
Adam(W), validation every epoch, best/last safetensors checkpoints, deterministic resume."""

from __future__ import annotations

import contextlib
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
from tqdm import tqdm

from tinta import color
from tinta.data.base import ImageSet, batch_to_lab, holdout_split, random_crop_flip
from tinta.errors import TintaError
from tinta.infer import decode_full
from tinta.models import count_parameters, create_model
from tinta.train import checkpoint as ckpt
from tinta.train import distributed
from tinta.train.distributed import Dist, all_reduce_sum, shard_indices
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
        if saved.exists():  # resumed run, or written by rank 0 of a distributed run
            return BinTask(ABBins.load(saved), (cfg.temperature,), cfg.rebalance)
        bins = fit_bins_on(cfg, train_set)
        bins.save(saved)
        return BinTask(bins, (cfg.temperature,), cfg.rebalance)
    from tinta.palette import Palette, fit_palette

    saved = run_dir / "palette.json"
    if saved.exists():  # resumed run, or written by rank 0 of a distributed run
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
def validate(model: nn.Module, task, batches: Batches, batch_size: int, d: Dist = Dist()) -> dict[str, float]:
    """Validation metrics over the whole validation set (each rank scores its share; sums all-reduced)."""
    model.eval()
    sums = {"loss": 0.0, "images": 0.0, "log10_mse": 0.0}
    mine = shard_indices(len(batches.data), d)
    for start in range(0, len(mine), batch_size):
        idx = mine[start : start + batch_size]
        rgb8, lab = batches.fetch(idx)
        out = model(model_input(lab))
        target = task.targets(rgb8, lab)
        sums["loss"] += float(task.loss(out, target)) * len(idx)
        sums["images"] += len(idx)
        for k, v in task.batch_stats(out, target).items():
            sums[k] = sums.get(k, 0.0) + v
        pred = color.rgb_to_uint8(decode_full(task, out, lab[:, :1], task.main_decoding)).float()
        sums["log10_mse"] += float(((pred - rgb8.float()) ** 2).mean((1, 2, 3)).clamp(min=1e-10).log10().sum())
    sums = all_reduce_sum(d, sums, batches.device)
    n = max(sums["images"], 1)
    # mean over images of PSNR = 10 log10(255^2 / MSE)
    result = {"val_loss": sums["loss"] / n, "val_psnr": 10 * math.log10(255**2) - 10 * sums["log10_mse"] / n}
    if "correct" in sums:
        result["val_accuracy"] = sums["correct"] / sums["pixels"]
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
    """Train ``cfg.model``; returns the final summary (also in ``<out>/state.json``).
    Under torchrun every process calls this; they train one DDP model together."""
    d = distributed.setup(cfg.device)
    try:
        return _train(cfg, d)
    finally:
        distributed.teardown(d)


def _autocast(cfg: TrainConfig, device: torch.device):
    if cfg.amp == "off":
        return contextlib.nullcontext()
    if cfg.amp == "fp16" and device.type != "cuda":
        raise TintaError("--amp fp16 needs CUDA; use --amp bf16 on CPU")
    return torch.autocast(device.type, dtype=torch.bfloat16 if cfg.amp == "bf16" else torch.float16)


def _wrap(model: nn.Module, d: Dist, device: torch.device) -> nn.Module:
    if not d.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)


def _train(cfg: TrainConfig, d: Dist) -> dict:
    run_dir = Path(cfg.out)
    if run_dir.exists() and (run_dir / "state.json").exists() and not cfg.resume:
        raise TintaError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if cfg.resume and not (run_dir / "state.json").exists():
        raise TintaError(f"--resume: no run to continue in {run_dir}")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    if device.type == "cuda" and d.enabled:
        device = torch.device("cuda", d.local_rank)
    torch.manual_seed(cfg.seed)
    say = print if d.is_main else (lambda *a, **k: None)

    train_set, val_set = load_train_val(cfg)
    if d.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        task = build_task(cfg, run_dir, train_set)  # fits and saves a palette / bins when needed
    distributed.barrier(d)
    if not d.is_main:
        task = build_task(cfg, run_dir, train_set)  # reads what rank 0 saved
    model = create_model(cfg.model, task.out_channels, **cfg.model_kwargs()).to(device)
    if task.name == "bins" and hasattr(model, "upsample_output"):
        model.upsample_output = False  # train the bins at H/2 (inference still upsamples, as before)
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
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
        "processes": d.world_size,
        "device": str(device),
    }
    state = {"epoch": 0, "best_val_loss": float("inf"), "train_seconds": 0.0}
    if cfg.resume:
        state = ckpt.read_json(run_dir / "state.json")
        ckpt.load_weights(model, run_dir / "last.safetensors")
        ckpt.load_optimizer(opt, run_dir / "optimizer.pt")
        say(f"resuming {run_dir} after epoch {state['epoch']}")
    log = None
    if d.is_main:
        ckpt.write_json(run_dir / "config.json", config)
        log = ckpt.MetricsLog(run_dir / "metrics.csv", keep_until_epoch=state["epoch"])
    say(f"{cfg.model}: {config['parameters']:,} parameters, task {task.name}, {len(train_set)} train / "
        f"{len(val_set)} val images of {train_set.size}, device {device}, {d.world_size} process(es)")

    tr, va = Batches(train_set, device), Batches(val_set, device)
    for group in opt.param_groups:
        group.setdefault("base_lr", group["lr"])
    steps_per_epoch = sum(1 for _ in distributed.epoch_batches(len(train_set), cfg.batch_size, d, cfg.seed, 0))
    total_steps = steps_per_epoch * cfg.epochs
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.amp == "fp16")
    net, frozen = None, None
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        if frozen != (epoch <= cfg.freeze_epochs) or net is None:
            frozen = epoch <= cfg.freeze_epochs
            set_encoder_frozen(model, frozen)
            net = _wrap(model, d, device)  # DDP must see which parameters train
            if cfg.compile:
                net = torch.compile(net)
        # augmentation randomness depends on (seed, epoch, rank) only, so resumed runs repeat it
        gen = torch.Generator().manual_seed((cfg.seed * 1000 + epoch) * 1000 + d.rank)
        model.train()
        t0, sums = time.perf_counter(), {"loss": 0.0, "images": 0.0}
        batches = list(distributed.epoch_batches(len(train_set), cfg.batch_size, d, cfg.seed, epoch))
        bar = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, mininterval=1.0, disable=not d.is_main)
        for i, idx in enumerate(bar):
            step = (epoch - 1) * steps_per_epoch + i
            factor = 0.5 * (1 + math.cos(math.pi * step / total_steps)) if cfg.schedule == "cosine" else 1.0
            for group in opt.param_groups:
                group["lr"] = group["base_lr"] * factor
            rgb8, lab = tr.fetch(idx, crop=cfg.crop, flip=cfg.flip, gen=gen)
            x = model_input(lab).contiguous(memory_format=memory_format)
            with _autocast(cfg, device):
                out = net(x)
            loss = task.loss(out.float(), task.targets(rgb8, lab))
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # under DDP: gradients all-reduced (averaged) across processes here
            scaler.step(opt)
            scaler.update()
            sums["loss"] += loss.item() * len(idx)
            sums["images"] += len(idx)
            bar.set_postfix(loss=f"{sums['loss'] / sums['images']:.4f}")
        seconds = time.perf_counter() - t0
        sums = all_reduce_sum(d, sums, device)
        val = validate(model, task, va, cfg.batch_size, d)
        state["train_seconds"] += seconds
        row = {"epoch": epoch, "train_loss": sums["loss"] / max(sums["images"], 1), **val,
               "epoch_seconds": round(seconds, 2), "images_per_second": round(sums["images"] / seconds, 1)}
        say(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if d.is_main:
            log.append(row)
            ckpt.save_weights(model, run_dir / "last.safetensors")
            if val["val_loss"] < state["best_val_loss"]:
                state["best_val_loss"], state["best_epoch"] = val["val_loss"], epoch
                shutil.copyfile(run_dir / "last.safetensors", run_dir / ".best.tmp")
                (run_dir / ".best.tmp").replace(run_dir / "best.safetensors")
            ckpt.save_optimizer(opt, run_dir / "optimizer.pt")
        state["epoch"] = epoch
        state["last"] = row
        if d.is_main:
            ckpt.write_json(run_dir / "state.json", state)
        distributed.barrier(d)
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
