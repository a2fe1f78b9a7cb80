"""Benchmark: tinta's exact histogram K-means against scikit-learn's KMeans on the same pixels.

The founding document's palette: K = 24 colours over every pixel of the 6,000 CIFAR-10 horse images
(train + test, 6,144,000 pixels), Euclidean distance in RGB. Both inertias are recomputed the same
way, by exact brute-force assignment of every pixel to the nearest centre (mean squared distance
per pixel); times are wall-clock seconds of the fit alone (data already in memory, as float64 for
scikit-learn).

    .venv/bin/python benchmarks/palette.py [--data-root PATH] [--classes horse] [--k 24] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # run from a checkout without installing

from tinta.kmeans import N_INIT, kmeans_palette, mean_sq_distance  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cifar10-jpeg.tar.gz"


def load_pixels(root: str, classes: list[str]) -> np.ndarray:
    """uint8 ``(P, 3)``: every pixel of the train and test images of ``classes``."""
    from tinta.data import load_dataset

    parts = []
    for split in ("train", "test"):
        ds = load_dataset("cifar10", root, split, classes=classes)
        parts.append(np.asarray(ds.images).transpose(0, 2, 3, 1).reshape(-1, 3))
    return np.ascontiguousarray(np.concatenate(parts))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=str(DEFAULT_DATA), help=f"CIFAR-10 data (default: {DEFAULT_DATA})")
    p.add_argument("--classes", nargs="+", default=["horse"])
    p.add_argument("--k", type=int, default=24)
    p.add_argument("--seed", type=int, default=0, help="tinta's seed and scikit-learn's random_state")
    p.add_argument("--n-init", type=int, nargs="+", default=sorted({1, N_INIT}),
                   help=f"tinta restarts to time, one row each (default: 1 and the library default, {N_INIT})")
    p.add_argument("--random", type=int, default=0, metavar="P",
                   help="use P random pixels instead of the data set (a smoke test)")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    if args.random:
        pixels = np.random.default_rng(0).integers(0, 256, (args.random, 3), dtype=np.uint8)
        what = f"{args.random:,} random pixels"
    else:
        pixels = load_pixels(args.data_root, args.classes)
        what = f"{len(pixels):,} pixels of CIFAR-10 {'+'.join(args.classes)} (train+test)"
    print(f"data: {what}, loaded in {time.perf_counter() - t0:.1f} s")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")

    rows = []
    for n_init in args.n_init:
        pal = kmeans_palette(pixels, k=args.k, space="rgb", seed=args.seed, n_init=n_init)
        inertia = mean_sq_distance(pixels, pal.rgb.numpy())
        rows.append((f"tinta kmeans_palette (n_init={n_init})", pal.seconds, pal.iterations, inertia, pal.inertia))
        print(f"  {rows[-1][0]}: {pal.seconds:.2f} s, {pal.distinct:,} distinct colours", flush=True)

    from sklearn import __version__ as skl_version
    from sklearn.cluster import KMeans

    X = pixels.astype(np.float64)
    t0 = time.perf_counter()
    km = KMeans(n_clusters=args.k, n_init=1, random_state=args.seed).fit(X)
    t_skl = time.perf_counter() - t0
    skl = (f"scikit-learn {skl_version} KMeans (n_init=1)", t_skl, int(km.n_iter_),
           mean_sq_distance(pixels, km.cluster_centers_), km.inertia_ / len(X))
    print(f"  {skl[0]}: {t_skl:.2f} s", flush=True)

    print(f"\nK={args.k}, RGB, {len(pixels):,} pixels; inertia = mean squared distance per pixel, "
          "recomputed for both by exact assignment")
    head = (f"{'method':<42} {'seconds':>8} {'iters':>6} {'inertia':>10} {'own':>10} {'speed-up':>9} "
            f"{'inertia ratio':>14}")
    print(head + "\n" + "-" * len(head))
    for name, sec, its, inertia, own in rows + [skl]:
        print(f"{name:<42} {sec:8.2f} {its:6d} {inertia:10.3f} {own:10.3f} {t_skl / sec:8.1f}x "
              f"{inertia / skl[3]:14.5f}")
    print("(own: the inertia each method reports itself; speed-up: scikit-learn seconds / method seconds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
