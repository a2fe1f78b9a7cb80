"""NoGAN (Antic, DeOldify 2019): a short adversarial phase on top of a trained colouriser.

1. Critic pretraining: a PatchGAN critic learns to tell the colours of the ``--init-from`` model
   (frozen) from the photos' own, on ``critic_images`` training images.
2. Adversarial phase: the colouriser trains with its head's loss + ``adversarial`` x the non-saturating
   GAN loss, the critic one step per batch; a snapshot every ``snapshot_every`` images, each a run
   folder ``snap-NNNNNN`` with its hold-out PSNR, colourfulness (CF) and per-image CF gap in
   ``snapshots.csv``. The useful part is short (run too long, colours drift): ``best.safetensors`` is
   the snapshot with the smallest hold-out CF gap whose PSNR stays within ``PSNR_SLACK`` dB of the
   start's. The choice uses the training hold-out only, never a validation set that is reported.

The critic and the colouriser share one optimizer (two parameter groups) and one checkpoint, committed
at every snapshot, so ``--resume`` continues from the last snapshot.
"""

from __future__ import annotations

import shutil
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm
from tqdm import tqdm

from tinta import color
from tinta.errors import TintaError
from tinta.files import write_json
from tinta.runs import RunInfo, save_weights
from tinta.train import checkpoint as ckpt
from tinta.train import distributed
from tinta.train.batches import Batches, model_inputs
from tinta.train.config import TrainConfig
from tinta.train.distributed import Dist

PSNR_SLACK = 0.5  # dB of hold-out PSNR a snapshot may lose against the start and still be picked
CRITIC_LR = 2e-4


class PatchCritic(nn.Module):
    """PatchGAN critic on Lab ``(B, 3, H, W)`` (L/100, a/110, b/110) -> logits ``(B, 1, H/8, W/8)``."""

    def __init__(self, width: int = 64):
        super().__init__()
        layers, c_in = [], 3
        for c_out in (width, 2 * width, 4 * width):
            layers += [spectral_norm(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            c_in = c_out
        layers.append(spectral_norm(nn.Conv2d(c_in, 1, 3, padding=1)))
        self.net = nn.Sequential(*layers)

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        return self.net(lab)


def critic_input(L: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] and a,b ``(B, 2, h, w)`` -> the critic's input at a,b's size."""
    if L.shape[-2:] != ab.shape[-2:]:
        L = F.interpolate(L, size=ab.shape[-2:], mode="area")
    return torch.cat([color.normalize_l(L), color.normalize_ab(ab)], 1)


def real_ab(lab: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    ab = lab[:, 1:]
    return ab if ab.shape[-2:] == size else F.interpolate(ab, size=size, mode="area")  # (B, 2, h, w)


def critic_step(critic: nn.Module, opt, lab: torch.Tensor, fake_ab: torch.Tensor) -> float:
    """One critic update: real photos -> 1, the colouriser's a,b (detached) -> 0. Returns its loss."""
    size = fake_ab.shape[-2:]
    d_real = critic(critic_input(lab[:, :1], real_ab(lab, size)))
    d_fake = critic(critic_input(lab[:, :1], fake_ab.detach()))
    loss = F.softplus(-d_real).mean() + F.softplus(d_fake).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


def generator_step(s, critic: nn.Module, rgb8, lab, gen) -> tuple[float, torch.Tensor]:
    """One colouriser update (head loss + adversarial x GAN loss; the critic's weights get no step).
    Returns the adversarial term and the predicted a,b (for the critic's step)."""
    critic.requires_grad_(False)
    out = s.model(*model_inputs(s.model, lab, gen, s.memory_format))
    ab = s.head.predict(out.float())  # (B, 2, h, w), differentiable
    if not ab.requires_grad:
        raise TintaError(f"--adversarial: the {s.head.name} head's colours are not differentiable "
                         f"(use a regression, bins or joint head)")
    adv = F.softplus(-critic(critic_input(lab[:, :1], ab))).mean()
    loss = s.head.loss(out.float(), s.head.targets(rgb8, lab)) + s.cfg.adversarial * adv
    s.opt.zero_grad(set_to_none=True)
    loss.backward()
    s.opt.step()
    critic.requires_grad_(True)
    return adv.item(), ab


def pretrain_critic(s, critic: nn.Module, batches: list[torch.Tensor], gen) -> float:
    """Critic pretraining on the frozen colouriser's outputs; returns the last 20 steps' mean loss."""
    tr, losses = Batches(s.train_set, s.device), []
    for idx in tqdm(batches, desc="critic", leave=False, mininterval=1.0):
        rgb8, lab = tr.fetch(idx, crop=s.cfg.crop, flip=s.cfg.flip, gen=gen)
        s.model.eval()
        with torch.no_grad():
            fake = s.head.predict(s.model(*model_inputs(s.model, lab, None, s.memory_format)))
        losses.append(critic_step(critic, s.opt, lab, fake))
    return sum(losses[-20:]) / max(len(losses[-20:]), 1)


def write_snapshot(s, images: int, info: RunInfo) -> str:
    """The colouriser's weights now as a run folder ``snap-NNNNNN`` (loads like any run)."""
    snap = s.run_dir / f"snap-{images:06d}"
    snap.mkdir(exist_ok=True)
    info.write(snap)
    save_weights(s.model, snap / "best.safetensors")
    return snap.name


def pick(rows: list[dict]) -> dict:
    """The snapshot with the smallest hold-out CF gap among those within PSNR_SLACK dB of the start (row 0)."""
    floor = rows[0]["val_psnr"] - PSNR_SLACK
    return min((r for r in rows if r["val_psnr"] >= floor), key=lambda r: r["val_cf_gap"])


def batches_of(n: int, cfg: TrainConfig, d: Dist, epoch: int, count: int) -> list[torch.Tensor]:
    """``count`` images' worth of index batches, drawn epoch after epoch over ``n`` training images."""
    out, e = [], epoch
    while sum(len(b) for b in out) < count:
        out += list(distributed.epoch_batches(n, cfg.batch_size, d, cfg.seed, e))
        e += 1
    total, kept = 0, []
    for b in out:
        if total >= count:
            break
        kept.append(b)
        total += len(b)
    return kept


def train_nogan(s, info: RunInfo, validate) -> dict:
    """Both phases on the prepared setup ``s`` (:func:`tinta.train.loop.prepare`); ``validate(model)`` scores
    the hold-out. Returns the final state."""
    cfg, critic = s.cfg, PatchCritic().to(s.device)
    s.opt.add_param_group({"params": list(critic.parameters()), "lr": CRITIC_LR, "base_lr": CRITIC_LR,
                           "name": "critic", "betas": (0.5, 0.999)})
    both = nn.ModuleDict({"g": s.model, "d": critic})
    state = {"epoch": 0, "images": 0, "critic_loss": None, "rows": [], "train_seconds": 0.0}
    if cfg.resume:
        state = ckpt.restore(s.run_dir, both, s.opt)
    gen = torch.Generator().manual_seed(cfg.seed)
    if state["critic_loss"] is None:
        state["rows"] = [{"images": 0, "snapshot": write_snapshot(s, 0, info), **validate(s.model)}]
        state["critic_loss"] = pretrain_critic(s, critic, batches_of(len(s.train_set), cfg, s.d, 1000,
                                                                     cfg.critic_images), gen)
        ckpt.commit(s.run_dir, both, s.opt, state)
    return adversarial_phase(s, critic, both, state, info, validate)


def adversarial_phase(s, critic, both, state: dict, info: RunInfo, validate) -> dict:
    cfg, tr = s.cfg, Batches(s.train_set, s.device)
    gen = torch.Generator().manual_seed(cfg.seed + 1 + state["images"])
    todo = batches_of(len(s.train_set), cfg, s.d, 1, cfg.max_train or len(s.train_set))
    done, next_snap, t0 = 0, state["images"] + cfg.snapshot_every, time.perf_counter()
    for idx in tqdm(todo, desc="adversarial", leave=False, mininterval=1.0):
        done += len(idx)
        if done <= state["images"]:
            continue  # resumed: these images were seen before the last snapshot
        s.model.train()
        rgb8, lab = tr.fetch(idx, crop=cfg.crop, flip=cfg.flip, gen=gen)
        adv, ab = generator_step(s, critic, rgb8, lab, gen)
        critic_step(critic, s.opt, lab, ab)
        if done >= next_snap or idx is todo[-1]:
            state["images"], next_snap = done, done + cfg.snapshot_every
            state["train_seconds"] += time.perf_counter() - t0  # training only, not the snapshot's validation
            row = {"images": done, "snapshot": write_snapshot(s, done, info), "adversarial": round(adv, 4),
                   **validate(s.model)}
            state["rows"].append(row)
            print(" ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
            ckpt.commit(s.run_dir, both, s.opt, state)
            t0 = time.perf_counter()
    best = pick(state["rows"])
    state["picked"] = best["snapshot"]
    shutil.copyfile(s.run_dir / best["snapshot"] / "best.safetensors", s.run_dir / "best.safetensors")
    write_json(s.run_dir / "snapshots.json", {"picked": best["snapshot"], "rule": pick.__doc__,
                                              "rows": state["rows"]})
    print(f"picked {best['snapshot']} (hold-out CF gap {best['val_cf_gap']:.1f}, PSNR {best['val_psnr']:.2f} dB)")
    return state
