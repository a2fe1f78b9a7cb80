"""``tinta prior``: build a hint-taking run's retrieved colour prior (options from PriorOptions)."""

from __future__ import annotations

import argparse

from tinta.cli.args import add_config_args, config_from_args


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tinta.prior import PriorOptions

    p.description = ("Index training photos for a hint-taking run (guided-unet): with no colour hint given, the "
                     "mean ab histogram of the photos nearest the grey input becomes its global hint.")
    p.add_argument("run", help="run folder of a hint-taking model (tinta.pretrained.as_run lays out shipped ones)")
    add_config_args(p, PriorOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.prior import PriorOptions
    from tinta.runs import index_run

    path = index_run(args.run, config_from_args(PriorOptions, args))
    print(f"colour index: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0
