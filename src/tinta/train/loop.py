"""The training loop shared by every tinta model: whole-tensor data, batched augmentation,
AdamW, validation every epoch, best weights and a checkpoint committed as one unit per
epoch, deterministic resume. Under torchrun every process runs it; they train one DDP model."""

from __future__ import annotations

import contextlib
import math
import shutil
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn as nn
from safetensors.torch import load_file
from tqdm import tqdm

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import ImageSet, concat_sets, holdout_split, spread_subset, weighted_subset
from tinta.errors import TintaError
from tinta.evaluate.metrics import colourfulness
from tinta.files import atomic_write, sweep_stale_temps
from tinta.heads import Head
from tinta.inference import set_native_output, upsample_ab
from tinta.models import ColorizationModel, count_parameters, create_model
from tinta.prior import PRIOR_FILE, ColourIndex
from tinta.runs import CONFIG_FILE, EPOCHS, RunInfo, checkpoint_dir, resolve_device, save_weights, weights_file
from tinta.train import checkpoint as ckpt
from tinta.train import distributed
from tinta.train.batches import Batches, model_inputs
from tinta.train.config import TrainConfig
from tinta.train.distributed import Dist, all_reduce_sum, shard_indices
from tinta.train.fit_heads import build_head


def lr_factor(step: int, total: int, schedule: str) -> float:
    """Learning-rate multiplier at ``step`` of ``total``: cosine from 1 to 0, or constant 1."""
    return 0.5 * (1 + math.cos(math.pi * step / total)) if schedule == "cosine" else 1.0


def param_groups(model: ColorizationModel, cfg: TrainConfig) -> list[dict]:
    """One group, or decoder + pretrained encoder (at ``lr x encoder_lr_mult``)."""
    enc = model.pretrained_encoder()
    if enc is None:
        return [{"params": list(model.parameters()), "lr": cfg.lr, "base_lr": cfg.lr, "name": "all"}]
    enc_ids = {id(p) for p in enc.parameters()}
    rest = [p for p in model.parameters() if id(p) not in enc_ids]
    enc_lr = cfg.lr * cfg.encoder_lr_mult
    return [{"params": rest, "lr": cfg.lr, "base_lr": cfg.lr, "name": "decoder"},
            {"params": list(enc.parameters()), "lr": enc_lr, "base_lr": enc_lr, "name": "encoder"}]


def set_encoder_frozen(model: ColorizationModel, frozen: bool) -> None:
    enc = model.pretrained_encoder()
    if enc is not None:
        for p in enc.parameters():
            p.requires_grad_(not frozen)


@torch.no_grad()
def validate(model: nn.Module, head: Head, batches: Batches, batch_size: int,
             d: Dist | None = None) -> dict[str, float]:
    """Validation metrics over the whole validation set (each rank scores its share; sums all-reduced).
    The loss sees the whole output (with ``--bins-stride 4`` training scores the colour classes at H/4 and
    validation at H/2, so ``train_loss`` and ``val_loss`` are not on one scale); PSNR sees what ``tinta
    colorize`` would paint."""
    d = d or Dist()
    model.eval()
    sums = {"loss": 0.0, "images": 0.0, "log10_mse": 0.0, "cf": 0.0, "cf_gap": 0.0}
    mine = shard_indices(len(batches.data), d)
    for start in range(0, len(mine), batch_size):
        idx = mine[start : start + batch_size]
        rgb8, lab = batches.fetch(idx)
        out = model(*model_inputs(model, lab))
        target = head.targets(rgb8, lab)
        sums["loss"] += float(head.loss(out, target)) * len(idx)
        sums["images"] += len(idx)
        for k, v in head.batch_stats(out, target).items():
            sums[k] = sums.get(k, 0.0) + v
        pred = color.rgb_to_uint8(upsample_ab(head.predict(out, head.main), lab[:, :1])).float()  # as colorize paints
        sums["log10_mse"] += float(((pred - rgb8.float()) ** 2).mean((1, 2, 3)).clamp(min=1e-10).log10().sum())
        cf = colourfulness(pred)
        sums["cf"] += float(cf.sum())
        sums["cf_gap"] += float((cf - colourfulness(rgb8.float())).abs().sum())
    sums = all_reduce_sum(d, sums, batches.device)
    n = max(sums["images"], 1)
    # mean over images of PSNR = 10 log10(255^2 / MSE)
    result = {"val_loss": sums["loss"] / n, "val_psnr": 10 * math.log10(255**2) - 10 * sums["log10_mse"] / n,
              "val_cf": sums["cf"] / n, "val_cf_gap": sums["cf_gap"] / n}  # colourfulness; its per-image gap
    if "correct" in sums:
        result["val_accuracy"] = sums["correct"] / sums["pixels"]
    return result


def load_train_val(cfg: TrainConfig) -> tuple[ImageSet, ImageSet]:
    """The training images of every source (``--data-root``, repeatable), each source's own
    ``val_fraction`` held out for validation (so every source is validated), then joined; each source's
    training images taken ``--source-weight`` times."""
    trains, vals = [], []
    for root, weight in zip(cfg.roots, cfg.source_weight or [1.0] * len(cfg.roots)):
        full = load_dataset(cfg.dataset, root, "train", classes=list(cfg.classes) or None, size=cfg.size)
        tr_idx, va_idx = holdout_split(len(full), cfg.val_fraction, seed=0)
        if len(tr_idx) == 0 or len(va_idx) == 0:
            raise TintaError(f"too few images for a train/validation split ({len(full)} in {root})")
        trains.append(weighted_subset(full.subset(tr_idx, "train"), weight))
        vals.append(full.subset(va_idx, "holdout"))
    train, val = concat_sets(trains, "train"), concat_sets(vals, "holdout")
    return spread_subset(train, cfg.max_train), spread_subset(val, cfg.max_val)


def train(cfg: TrainConfig) -> dict:
    """Train ``cfg.model``; returns the final state (also in ``<out>/checkpoint/state.json``)."""
    d = distributed.setup(cfg.device)
    try:
        state = _train(cfg, d)
    except BaseException:
        distributed.teardown(d)
        raise
    distributed.barrier(d)  # every rank done with every collective before the group goes (gloo aborts otherwise)
    distributed.teardown(d)
    return state


def precision(cfg: TrainConfig, device: torch.device, encoder_frozen: bool) -> str:
    """The mixed precision of one phase: ``--amp`` as given, or for ``auto`` bf16 while a pretrained encoder
    is frozen (where the device has bf16) and full precision ("off") once it trains."""
    if cfg.amp != "auto":
        return cfg.amp
    has_bf16 = device.type == "cpu" or (device.type == "cuda" and torch.cuda.is_bf16_supported())
    return "bf16" if encoder_frozen and has_bf16 else "off"


def _autocast(amp: str, device: torch.device):
    if amp == "off":
        return contextlib.nullcontext()
    if amp == "fp16" and device.type != "cuda":
        raise TintaError("--amp fp16 needs CUDA; use --amp bf16 on CPU")
    return torch.autocast(device.type, dtype=torch.bfloat16 if amp == "bf16" else torch.float16)


def _wrap(model: nn.Module, d: Dist, device: torch.device) -> nn.Module:
    if not d.enabled:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)


def check_out(cfg: TrainConfig) -> Path:
    """The run folder, checked before any work: new, or holding a run when resuming."""
    run_dir = Path(cfg.out)
    if run_dir.exists() and not run_dir.is_dir():
        raise TintaError(f"--out {run_dir} is a file; give a folder for the run")
    has_run = checkpoint_dir(run_dir) is not None
    if has_run and not cfg.resume:
        raise TintaError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --out")
    if cfg.resume and not has_run:
        raise TintaError(f"--resume: no run to continue in {run_dir}")
    return run_dir


@torch.no_grad()
def init_weights_from(model: nn.Module, run_dir: str) -> tuple[int, int]:
    """Copy a run's best weights into ``model`` where they fit: equal shapes, or an output layer (``head.``)
    whose output channels differ (a head grown from regression to joint keeps the run's outputs as its first
    ones; one shrunk from joint to regression keeps the run's first outputs). -> (copied, total)."""
    path = weights_file(Path(run_dir), "best")
    if not path.is_file():
        raise TintaError(f"--init-from {run_dir}: no best.safetensors there")
    state, own, copied, numbers = load_file(str(path)), model.state_dict(), 0, 0
    for k, v in state.items():
        t = own.get(k)
        if t is None or v.dim() != t.dim():
            continue
        if v.shape == t.shape:
            t.copy_(v)
        elif k.startswith("head.") and v.shape[1:] == t.shape[1:]:  # the output layer: another head
            n = min(v.shape[0], t.shape[0])
            t[:n].copy_(v[:n])
        else:
            continue
        copied += 1
        numbers += v.numel() if v.is_floating_point() else 0  # BatchNorm's step counters fit any model
    if numbers < 0.01 * sum(t.numel() for t in own.values() if t.is_floating_point()):
        raise TintaError(f"--init-from {run_dir}: none of its weights fits this model (under 1% of them: another "
                         f"architecture or width); give a run of the same model, or train without --init-from")
    return copied, len(own)


@dataclass
class Setup:
    """Everything an epoch needs, built once per run."""

    cfg: TrainConfig
    d: Dist
    run_dir: Path
    device: torch.device
    head: Head
    model: ColorizationModel
    opt: torch.optim.Optimizer
    train_set: ImageSet
    val_set: ImageSet
    memory_format: torch.memory_format


def attach_prior(model: ColorizationModel, path: Path, run_dir: Path | None) -> None:
    """Give a hint-taking model the colour index at ``path``; copy it into ``run_dir`` (rank 0)."""
    if not model.takes_hints:
        raise TintaError("--prior: a colour index fills the global hint of a hint-taking model (guided-unet)")
    model.prior = ColourIndex.load(path)
    if run_dir is not None and path.resolve() != (run_dir / PRIOR_FILE).resolve():
        atomic_write(run_dir / PRIOR_FILE, lambda tmp: shutil.copyfile(path, tmp))


def pools(cfg: TrainConfig, model: nn.Module, head) -> bool:
    """Whether ``--bins-stride 4`` applies: a head with colour classes (``pooled_from``), a model whose 1x1
    output layer can run on pooled features and returns its own output size, and no adversarial phase."""
    return (cfg.bins_stride == 4 and cfg.adversarial == 0 and head.pooled_from is not None and model.pools_output
            and not model.upsample_output)


def as_it_was(cfg: TrainConfig, run_dir: Path) -> TrainConfig:
    """``--resume``: the settings that change what a step computes are the run's own, not today's defaults
    (``--bins-stride``: runs written before it existed trained at 2; ``--amp auto``: those before it, at full
    precision); a run that kept its epochs goes on keeping them, so its curve has no gap."""
    if not cfg.resume or not (run_dir / CONFIG_FILE).is_file():
        return cfg
    train = RunInfo.read(run_dir).train
    stride = train.get("bins_stride", 2)
    if stride != cfg.bins_stride:
        print(f"--resume: {run_dir} trains its colour classes at --bins-stride {stride}, as it started")
    amp = train.get("amp", "off") if cfg.amp == "auto" else cfg.amp  # runs from before "auto" went on as they were
    return replace(cfg, bins_stride=stride, keep_epochs=cfg.keep_epochs or train.get("keep_epochs", False), amp=amp)


def prepare(cfg: TrainConfig, d: Dist) -> Setup:
    run_dir = check_out(cfg)
    cfg = as_it_was(cfg, run_dir)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = resolve_device(cfg.device)
    if device.type == "cuda" and d.enabled:
        device = torch.device("cuda", d.local_rank)
    torch.manual_seed(cfg.seed)
    train_set, val_set = load_train_val(cfg)
    if d.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        sweep_stale_temps(run_dir)
        sweep_stale_temps(run_dir / EPOCHS)
        ckpt.prune(run_dir)  # what a kill during a checkpoint commit left behind
        head = build_head(cfg, run_dir, train_set)  # fits and saves a palette / bins when needed
    distributed.barrier(d)
    if not d.is_main:
        head = build_head(cfg, run_dir, train_set, write=False)  # reads what rank 0 saved
    model = create_model(cfg.model, head.out_channels, **cfg.model_kwargs()).to(device)
    if cfg.init_from and not cfg.resume:
        copied, total = init_weights_from(model, cfg.init_from)
        if d.is_main:
            print(f"initialised {copied} of {total} tensors from {cfg.init_from}")
    if cfg.prior:
        attach_prior(model, Path(cfg.prior), run_dir if d.is_main else None)
    set_native_output(model, head)  # e.g. bins train on the H/2 logits against area-pooled targets
    if pools(cfg, model, head):  # forward in training mode returns a PooledOutput (tinta.models.base)
        model.pool_from = head.pooled_from
    memory_format = torch.channels_last if cfg.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory_format)
    # fused: one kernel for all parameters (8x faster steps than the per-tensor loop on a 2-core CPU)
    opt = torch.optim.AdamW(param_groups(model, cfg), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    return Setup(cfg, d, run_dir, device, head, model, opt, train_set, val_set, memory_format)


def run_info(s: Setup) -> RunInfo:
    """What the run's ``config.json`` records (:meth:`tinta.runs.RunInfo.write`)."""
    pretrained = bool(s.model.pretrained)
    bn = "eval mode (ImageNet statistics kept)" if s.model.freeze_bn else "trained"
    data = {"train": len(s.train_set), "val": len(s.val_set), "skipped": s.train_set.skipped,
            "size": list(s.train_set.size)}
    extra = {
        "transfer_schedule": {
            "encoder_frozen_epochs": s.cfg.freeze_epochs if pretrained else 0,
            "encoder_lr_mult": s.cfg.encoder_lr_mult,
            "encoder_batchnorm": bn,
        },
        "processes": s.d.world_size, "device": str(s.device),
    }
    return RunInfo.create(s.cfg.to_dict(), s.head, count_parameters(s.model), pretrained, data, extra)


def run_epoch(s: Setup, net: nn.Module, epoch: int, steps_per_epoch: int, scaler, amp: str) -> dict[str, float]:
    """One pass over the training images at mixed precision ``amp`` (:func:`precision`); returns the summed
    loss and image count."""
    cfg, d = s.cfg, s.d
    # augmentation randomness depends on (seed, epoch, rank) only, so resumed runs repeat it
    gen = torch.Generator().manual_seed((cfg.seed * 1000 + epoch) * 1000 + d.rank)
    s.model.train()
    sums = {"loss": 0.0, "images": 0.0}
    tr = Batches(s.train_set, s.device)
    batches = list(distributed.epoch_batches(len(s.train_set), cfg.batch_size, d, cfg.seed, epoch))
    bar = tqdm(batches, desc=f"epoch {epoch}/{cfg.epochs}", leave=False, mininterval=1.0, disable=not d.is_main)
    for i, idx in enumerate(bar):
        factor = lr_factor((epoch - 1) * steps_per_epoch + i, steps_per_epoch * cfg.epochs, cfg.schedule)
        for group in s.opt.param_groups:
            group["lr"] = group["base_lr"] * factor
        rgb8, lab = tr.fetch(idx, crop=cfg.crop, flip=cfg.flip, gen=gen)
        inputs = model_inputs(s.model, lab, gen, s.memory_format)
        with _autocast(amp, s.device):
            out = net(*inputs)
        loss = s.head.loss(out.float(), s.head.targets(rgb8, lab))
        s.opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()  # under DDP: gradients all-reduced (averaged) across processes here
        scaler.step(s.opt)
        scaler.update()
        sums["loss"] += loss.item() * len(idx)
        sums["images"] += len(idx)
        bar.set_postfix(loss=f"{sums['loss'] / sums['images']:.4f}")
    return all_reduce_sum(d, sums, s.device)


def save_epoch(s: Setup, state: dict, val: dict, log: ckpt.MetricsLog) -> None:
    """Rank 0: metrics row, best weights when validation improved, then the checkpoint commit."""
    log.append(state["last"])
    if val["val_loss"] < state["best_val_loss"]:
        state["best_val_loss"], state["best_epoch"] = val["val_loss"], state["epoch"]
        save_weights(s.model, s.run_dir / "best.safetensors")
    if s.cfg.keep_epochs:
        (s.run_dir / EPOCHS).mkdir(exist_ok=True)
        save_weights(s.model, s.run_dir / EPOCHS / f"epoch-{state['epoch']}.safetensors", half=True)
    ckpt.commit(s.run_dir, s.model, s.opt, state)


def _nogan(s: Setup, info: RunInfo, val_batches: Batches) -> dict:
    if s.d.enabled:
        raise TintaError("--adversarial runs in one process (no torchrun)")
    if not (s.cfg.init_from or s.cfg.resume):
        raise TintaError("--adversarial needs --init-from: NoGAN starts from a trained colouriser")
    from tinta.train.nogan import train_nogan

    info.write(s.run_dir)
    return train_nogan(s, info, lambda m: validate(m, s.head, val_batches, s.cfg.batch_size, s.d))


def _train(cfg: TrainConfig, d: Dist) -> dict:
    s = prepare(cfg, d)
    say = print if d.is_main else (lambda *a, **k: None)
    info = run_info(s)
    if cfg.adversarial > 0:
        return _nogan(s, info, Batches(s.val_set, s.device))
    state = {"epoch": 0, "best_val_loss": float("inf"), "train_seconds": 0.0}
    if cfg.resume:
        state = ckpt.restore(s.run_dir, s.model, s.opt)
        say(f"resuming {s.run_dir} after epoch {state['epoch']}")
    log = None
    if d.is_main:
        info.write(s.run_dir)
        log = ckpt.MetricsLog(s.run_dir / "metrics.csv", keep_until_epoch=state["epoch"])
    say(f"{cfg.model}: {info.parameters:,} parameters, head {s.head.name}, {len(s.train_set)} train / "
        f"{len(s.val_set)} val images of {s.train_set.size}, device {s.device}, {d.world_size} process(es)")
    steps_per_epoch = sum(1 for _ in distributed.epoch_batches(len(s.train_set), cfg.batch_size, d, cfg.seed, 0))
    scaler = torch.amp.GradScaler(s.device.type, enabled=cfg.amp == "fp16")
    val_batches = Batches(s.val_set, s.device)
    net, frozen, amp = None, None, "off"
    for epoch in range(state["epoch"] + 1, cfg.epochs + 1):
        if frozen != (epoch <= cfg.freeze_epochs) or net is None:
            frozen = epoch <= cfg.freeze_epochs
            set_encoder_frozen(s.model, frozen)
            amp = precision(cfg, s.device, frozen and s.model.pretrained_encoder() is not None)
            net = _wrap(s.model, d, s.device)  # DDP must see which parameters train
            if cfg.compile:
                net = torch.compile(net)
        t0 = time.perf_counter()
        sums = run_epoch(s, net, epoch, steps_per_epoch, scaler, amp)
        seconds = time.perf_counter() - t0
        val = validate(s.model, s.head, val_batches, cfg.batch_size, d)
        state["train_seconds"] += seconds
        state["epoch"] = epoch
        state["last"] = {"epoch": epoch, "train_loss": sums["loss"] / max(sums["images"], 1), **val,
                         "epoch_seconds": round(seconds, 2), "images_per_second": round(sums["images"] / seconds, 1)}
        say(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in state["last"].items()))
        if d.is_main:
            save_epoch(s, state, val, log)
        distributed.barrier(d)
    return state
