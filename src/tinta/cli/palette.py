"""``tinta palette``: fit a K-means colour palette to the pixels of a data set (seed 1's palette); options from
:class:`tinta.kmeans.PaletteOptions`."""

from __future__ import annotations

import argparse

from tinta.cli.args import add_config_args, config_from_args


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tinta.kmeans import PaletteOptions

    p.description = ("Exact K-means over every pixel of the train and test splits (run on the "
                     "histogram of distinct colours); writes the palette as JSON.")
    add_config_args(p, PaletteOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.errors import TintaError
    from tinta.kmeans import PaletteOptions, fit_palette

    o = config_from_args(PaletteOptions, args)
    try:
        pal = fit_palette(o.dataset, o.data_root, list(o.classes) or None, k=o.k, space=o.space, seed=o.seed,
                          n_init=o.n_init)
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
