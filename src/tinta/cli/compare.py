"""``tinta compare RUN... --baseline RUN --out DIR``: options from :class:`tinta.evaluate.options.CompareOptions`."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinta.cli.args import add_config_args, config_from_args
from tinta.evaluate.options import CompareOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Compare runs on one split: table of metrics and their difference from the "
                       "baseline, parameters, training time, inference ms/image; a picture grid and a "
                       "PSNR-vs-colourfulness plot. Runs not yet evaluated on the split are evaluated first.")
    add_config_args(p, CompareOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.evaluate.compare import verdict

    options = config_from_args(CompareOptions, args)
    summary = options.compare()
    print((Path(options.out) / "report.md").read_text())
    print(verdict(summary).replace("**", ""))
    print(f"report: {options.out}/report.md, {options.out}/report.html")
    return 0
