"""``tinta train``: options generated from :class:`~tinta.train.config.TrainConfig`."""

from __future__ import annotations

import argparse
import os

from tinta.cli.args import add_config_args, config_from_args, config_to_argv
from tinta.errors import TintaError
from tinta.train.config import TrainConfig


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Train a colourization model. Checkpoints (safetensors), config.json and "
        "metrics.csv go to --out; --resume continues from the last epoch.")
    add_config_args(p, TrainConfig)
    p.add_argument("--nproc", type=int, default=1,
                   help="processes on this machine: launches this command under torchrun (DDP)")


def run(args: argparse.Namespace) -> int:
    if args.nproc < 1:
        raise TintaError(f"--nproc must be at least 1, got {args.nproc}")
    cfg = config_from_args(TrainConfig, args)
    if not cfg.roots:
        raise TintaError("--data-root is required (a CIFAR-10 archive/folder, a photo folder or a .tar.gz)")
    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:  # relaunch the same configuration under torchrun
        from tinta.train.distributed import launch

        return launch(args.nproc, ["train", *config_to_argv(cfg)])
    from tinta.train.loop import train

    state = train(cfg)
    if "picked" in state:  # NoGAN: its best weights are a snapshot
        print(f"done: {state['images']} adversarial images, best {state['picked']}, run in {cfg.out}")
    else:
        print(f"done: {state['epoch']} epochs, best epoch {state.get('best_epoch')} "
              f"(val loss {state['best_val_loss']:.4f}), run in {cfg.out}")
    return 0
