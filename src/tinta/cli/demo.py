"""``tinta demo``: colourize the bundled example photos with the shipped default model."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from pathlib import Path

from tinta.batch.options import ColorizeOptions
from tinta.cli.args import add_config_args, config_from_args
from tinta.cli.colorize import Targets, colorize

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"  # = tinta.pretrained.EXAMPLES_DIR, without torch
_MODEL = next(f for f in fields(ColorizeOptions) if f.name == "model")  # the same option as tinta colorize's


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    out: str = field(default="out", metadata={"help": "output folder", "flags": ("-o", "--out")})
    model: str = field(default=_MODEL.default, metadata=_MODEL.metadata)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Colourize the grey example photos that ship with tinta "
                     "(public domain / CC0, see assets/examples/LICENSE.md) with the default model.")
    add_config_args(p, DemoOptions)


def run(args: argparse.Namespace) -> int:
    demo = config_from_args(DemoOptions, args)
    rc = colorize(Targets(inputs=(str(EXAMPLES),), out=demo.out), ColorizeOptions(model=demo.model))
    if rc == 0:
        print(f"results: {Path(demo.out).resolve()}/ (inputs: {EXAMPLES})")
    return rc
