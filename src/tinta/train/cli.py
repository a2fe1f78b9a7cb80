"""``tinta train``: options generated from :class:`~tinta.train.config.TrainConfig`."""

from __future__ import annotations

import argparse

from tinta.config import add_config_args, config_from_args
from tinta.train.config import TrainConfig


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a colourization model",
        description="Train a colourization model. Checkpoints (safetensors), config.json and "
        "metrics.csv go to --out; --resume continues from the last epoch.",
    )
    add_config_args(p, TrainConfig)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tinta.errors import TintaError
    from tinta.train.loop import train

    cfg = config_from_args(TrainConfig, args)
    if not cfg.data_root:
        raise TintaError("--data-root is required (a CIFAR-10 archive/folder, a photo folder or a .tar.gz)")
    state = train(cfg)
    print(f"done: {state['epoch']} epochs, best epoch {state.get('best_epoch')} "
          f"(val loss {state['best_val_loss']:.4f}), run in {cfg.out}")
    return 0
