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
    p.add_argument("--nproc", type=int, default=1,
                   help="processes on this machine: launches this command under torchrun (DDP)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from tinta.errors import TintaError
    from tinta.train.loop import train

    if args.nproc > 1 and "WORLD_SIZE" not in os.environ:
        from tinta.train.distributed import launch

        argv = sys.argv[1:] if args.argv is None else args.argv
        return launch(args.nproc, [a for a in _drop_nproc(argv)])

    cfg = config_from_args(TrainConfig, args)
    if not cfg.data_root:
        raise TintaError("--data-root is required (a CIFAR-10 archive/folder, a photo folder or a .tar.gz)")
    state = train(cfg)
    print(f"done: {state['epoch']} epochs, best epoch {state.get('best_epoch')} "
          f"(val loss {state['best_val_loss']:.4f}), run in {cfg.out}")
    return 0


def _drop_nproc(argv: list[str]):
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a == "--nproc":
            skip = True
            continue
        if a.startswith("--nproc="):
            continue
        yield a
