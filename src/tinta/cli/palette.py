"""``tinta palette``: fit a K-means colour palette to the pixels of a data set (seed 1's palette)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Exact K-means over every pixel of the train and test splits (run on the "
        "histogram of distinct colours); writes the palette as JSON.")
    p.add_argument("--dataset", default="cifar10", help="data set kind (default: cifar10)")
    p.add_argument("--data-root", required=True, help="data set archive or folder")
    p.add_argument("--classes", nargs="*", default=None, help="class names to use (default: all)")
    p.add_argument("--k", type=int, default=24, help="number of colours (default: 24)")
    p.add_argument("--space", choices=("rgb", "lab"), default="rgb", help="distance space (default: rgb)")
    p.add_argument("--seed", type=int, default=0, help="k-means++ seed (default: 0)")
    p.add_argument("--n-init", type=int, default=None,
                   help="k-means++ seedings run to convergence, the best kept (default: tinta.kmeans.N_INIT, 2)")
    p.add_argument("--out", default="palette.json", help="output JSON (default: palette.json)")


def run(args: argparse.Namespace) -> int:
    from tinta.errors import TintaError
    from tinta.kmeans import fit_palette

    if args.k < 1 or (args.n_init is not None and args.n_init < 1):
        raise TintaError(f"--k and --n-init must be at least 1, got {args.k} and {args.n_init}")
    kw = {} if args.n_init is None else {"n_init": args.n_init}
    try:
        pal = fit_palette(args.dataset, args.data_root, args.classes or None, k=args.k, space=args.space,
                          seed=args.seed, **kw)
    except ValueError as e:  # e.g. more colours asked for than the images hold
        raise TintaError(str(e)) from None
    try:
        path = pal.save(args.out)
    except OSError as e:
        raise TintaError(f"cannot write {args.out}: {e}") from None
    print(f"K={pal.k} ({pal.space}) on {pal.pixels:,} pixels, {pal.distinct:,} distinct colours "
          f"[{', '.join(pal.classes)}]")
    print(f"inertia {pal.inertia:.3f} (mean squared distance per pixel), {pal.iterations} iterations "
          f"(the best of {pal.n_init} seedings), {pal.seconds:.2f} s")
    print(f"wrote {path}")
    return 0
