"""``tinta demo``: colourize the bundled example photos with the shipped default model."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinta.cli import colorize

EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"  # = tinta.pretrained.EXAMPLES_DIR, without torch


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Colourize the grey example photos that ship with tinta "
                     "(public domain / CC0, see assets/examples/LICENSE.md) with the default model.")
    p.add_argument("-o", "--out", default="out", help="output folder")
    p.add_argument("--model", default="default", help="shipped weights name or run folder")


def run(args: argparse.Namespace) -> int:
    p = argparse.ArgumentParser()
    colorize.add_arguments(p)
    rc = colorize.run(p.parse_args([str(EXAMPLES), "-o", args.out, "--model", args.model]))
    if rc == 0:
        print(f"results: {Path(args.out).resolve()}/ (inputs: {EXAMPLES})")
    return rc
