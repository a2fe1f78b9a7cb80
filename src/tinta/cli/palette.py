"""``tinta palette``: fit a K-means colour palette to the pixels of a data set (seed 1's palette); options from
:class:`PaletteOptions` (here, so ``--help`` loads no torch)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from tinta.cli.args import add_config_args, config_from_args
from tinta.errors import TintaError


@dataclass(frozen=True)
class PaletteOptions:
    """The options of ``tinta palette``."""

    data_root: str = field(metadata={"help": "data set archive or folder"})
    dataset: str = field(default="cifar10", metadata={"help": "data set kind"})
    classes: tuple[str, ...] = field(default=(), metadata={"help": "class names to use (default: all)"})
    k: int = field(default=24, metadata={"help": "number of colours"})
    space: str = field(default="rgb", metadata={"help": "distance space: rgb or lab (tinta.palette.SPACES)"})
    seed: int = field(default=0, metadata={"help": "k-means++ seed"})
    n_init: int | None = field(default=None, metadata={
        "help": "k-means++ seedings run to convergence, the best kept (default: tinta.kmeans.N_INIT, 2)"})
    out: str = field(default="palette.json", metadata={"help": "output JSON"})

    def __post_init__(self):
        if self.k < 1 or (self.n_init is not None and self.n_init < 1):
            raise TintaError(f"--k and --n-init must be at least 1, got {self.k} and {self.n_init}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Exact K-means over every pixel of the train and test splits (run on the "
                     "histogram of distinct colours); writes the palette as JSON.")
    add_config_args(p, PaletteOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.kmeans import fit_palette

    o = config_from_args(PaletteOptions, args)
    try:
        kw = {} if o.n_init is None else {"n_init": o.n_init}  # None: tinta.kmeans.N_INIT
        pal = fit_palette(o.dataset, o.data_root, list(o.classes) or None, k=o.k, space=o.space, seed=o.seed, **kw)
    except ValueError as e:  # e.g. more colours asked for than the images hold
        raise TintaError(str(e)) from None
    try:
        path = pal.save(o.out)
    except OSError as e:
        raise TintaError(f"cannot write {o.out}: {e}") from None
    print(f"K={pal.k} ({pal.space}) on {pal.pixels:,} pixels, {pal.distinct:,} distinct colours "
          f"[{', '.join(pal.classes)}]")
    print(f"inertia {pal.inertia:.3f} (mean squared distance per pixel), {pal.iterations} iterations "
          f"(the best of {pal.n_init} seedings), {pal.seconds:.2f} s")
    print(f"wrote {path}")
    return 0
