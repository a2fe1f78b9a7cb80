"""``tinta colorize INPUT... -o OUTDIR``: colourize files, folders (recursive) and globs.

The work is :func:`tinta.batch.colorize_files` (outputs keep the input's format or ``--format`` and
its path relative to the input folder, are written under a temporary name and renamed, and never
replace an input; one bad file never stops the batch; ``--shard I/N`` or torchrun's RANK /
WORLD_SIZE colourize a disjoint part of the inputs; ``--ray ADDRESS`` runs it on a Ray cluster,
:mod:`tinta.distributed`). Its options are :class:`tinta.batch.ColorizeOptions`; this module parses
them, calls it, prints the summary and exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tinta.batch.options import GROUPS, ColorizeOptions
from tinta.cli.args import add_config_args, config_from_args


@dataclass(frozen=True, kw_only=True)
class Targets:
    """What ``tinta colorize`` reads and where it writes (the arguments of colorize_files beside its options)."""

    inputs: tuple[str, ...] = field(metadata={
        "help": "image or video files, folders (recursive) or globs", "positional": True, "metavar": "INPUT"})
    out: str = field(metadata={"help": "output folder", "flags": ("-o", "--out")})


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Colourize grey (or faded) photos. Colour inputs are re-colourized from their own "
                     "lightness. Alpha, ICC profile and EXIF orientation are kept.")
    add_config_args(p, Targets)
    add_config_args(p, ColorizeOptions, groups=GROUPS)


def report(summary, out_dir: Path) -> None:
    """The summary, as the command prints it."""
    i, n = summary.shard
    print(f"colourized {summary.done} of {summary.inputs} images into {out_dir} (model {summary.model}"
          + (f", shard {i}/{n}" if n > 1 else "") + f"); failed {summary.failed}"
          + (f"; skipped {len(summary.skipped)} already there" if summary.skipped else ""))
    for f in summary.failures:
        print(f"  failed: {f['reason'] if f['reason'].startswith(f['input']) else f['input'] + ': ' + f['reason']}")
    for note in summary.notes:
        print(f"  note: {note}")
    if summary.merged:
        print(f"all {n} shards finished: {summary.merged['done']} done, {summary.merged['failed']} failed "
              f"(merged summary {out_dir / 'tinta-summary.json'})")


def _progress(outcomes, total: int):
    from tqdm import tqdm

    return tqdm(outcomes, total=total, desc="colorize", disable=total < 2, file=sys.stderr)


def colorize(targets: Targets, options: ColorizeOptions) -> int:
    """Colourize, print the summary -> the exit code (1 when an input failed or was left partial)."""
    from tinta.batch import colorize_files

    runner = None
    if options.ray is not None:
        from tinta.distributed import ray_runner

        runner = ray_runner(options)
    summary = colorize_files(list(targets.inputs), targets.out, options, runner=runner, progress=_progress)
    report(summary, Path(targets.out))
    return 0 if summary.ok else 1


def run(args: argparse.Namespace) -> int:
    return colorize(config_from_args(Targets, args), config_from_args(ColorizeOptions, args))
