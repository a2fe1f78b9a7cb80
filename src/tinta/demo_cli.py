"""``tinta demo``: colourize the bundled example photos with the shipped default model."""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = Path(__file__).parent / "assets" / "examples"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="colourize the bundled example photos into out/",
                       description="Colourize the grey example photos that ship with tinta "
                       "(public domain / CC0, see assets/examples/LICENSE.md) with the default model.")
    p.add_argument("-o", "--out", default="out", help="output folder")
    p.add_argument("--model", default="default", help="shipped weights name or run folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tinta.cli import main

    rc = main(["colorize", str(EXAMPLES), "-o", args.out, "--model", args.model])
    if rc == 0:
        print(f"results: {Path(args.out).resolve()}/ (inputs: {EXAMPLES})")
    return rc
