"""Where tinta's K-means palette spends its time, and a coarse-to-fine variant that was tried.

1. One seeding of ``kmeans_palette`` under cProfile: seconds in the colour histogram, the
   octree, greedy k-means++ seeding and the Lloyd steps.
2. Coarse-to-fine: seed and run Lloyd on the octree cells (their weighted centroids) at a
   coarse level, keep the best of ``n_init`` seedings, then refine with exact Lloyd on the full
   histogram. Printed: time and final inertia per (level, n_init), to set against
   ``benchmarks/palette.py``'s scikit-learn inertia.

    .venv/bin/python benchmarks/palette_profile.py [--data-root PATH] [--classes horse] [--k 24]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).parent))

from palette import DEFAULT_DATA, load_pixels  # noqa: E402

from tinta import kmeans as P  # noqa: E402

PARTS = {"colour_histogram": "histogram", "__init__": "octree", "_kmeans_pp": "k-means++", "_lloyd": "Lloyd steps"}


def profile_one_seeding(pixels: np.ndarray, k: int, seed: int) -> None:
    prof = cProfile.Profile()
    prof.enable()
    pal = P.kmeans_palette(pixels, k=k, seed=seed, n_init=1)
    prof.disable()
    stats = pstats.Stats(prof).stats
    print(f"one seeding: {pal.seconds:.2f} s in all, {pal.iterations} Lloyd steps, inertia {pal.inertia:.3f}")
    for (file, _, func), (_, _, _, cum, _) in stats.items():
        if file.endswith("palette.py") and func in PARTS:
            print(f"  {PARTS[func]:<12} {cum:6.2f} s")


def _pp(Y: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ on a small weighted point set, by brute force."""
    n, cum = len(w), np.cumsum(w)
    C = [Y[min(int(np.searchsorted(cum, rng.random() * cum[-1], "right")), n - 1)]]
    D = ((Y - C[0]) ** 2).sum(1)
    for _ in range(1, k):
        pot = np.cumsum(w * D)
        cand = np.minimum(np.searchsorted(pot, rng.random(2 + int(np.log(k))) * pot[-1], "right"), n - 1)
        nd = np.minimum(D[None], ((Y[None] - Y[cand][:, None]) ** 2).sum(2))  # (candidates, n)
        b = int(np.argmin((nd * w).sum(1)))
        C.append(Y[cand[b]])
        D = nd[b]
    return np.array(C)


def _lloyd_small(Y: np.ndarray, w: np.ndarray, C: np.ndarray, tol: float) -> tuple[np.ndarray, float]:
    for _ in range(300):
        lab, _ = P.nearest(Y, C)
        ws = np.bincount(lab, w, len(C))
        new = np.stack([np.bincount(lab, w * Y[:, j], len(C)) for j in range(3)], 1) / np.maximum(ws, 1e-300)[:, None]
        new = np.where(ws[:, None] > 0, new, C)
        shift, C = float(((new - C) ** 2).sum()), new
        if shift <= tol:
            break
    _, d2 = P.nearest(Y, C)
    return C, float((d2 * w).sum())


def coarse_to_fine(pixels: np.ndarray, k: int, seed: int) -> None:
    colours, counts = P.colour_histogram(pixels)
    w = counts.astype(np.float64)
    Y = colours.astype(np.float64)
    Y -= (w[:, None] * Y).sum(0) / w.sum()
    tol = 1e-4 * float(np.einsum("i,ij->j", w, Y * Y).mean() / w.sum())  # as kmeans_palette
    tree = P._Octree(colours, Y, w, levels=(0, 2, 3, 4, 5))
    print(f"coarse-to-fine ({len(colours):,} distinct colours; cells per level: "
          + ", ".join(f"{L}: {len(tree.w[L]):,}" for L in tree.levels) + ")")
    for level in (3, 4):
        Yc, wc = (tree.wy[level] / tree.w[level]).T, tree.w[level]
        for n_init in (1, 2, 4, 8):
            t0 = time.perf_counter()
            rng = np.random.default_rng(seed)
            C, _ = min((_lloyd_small(Yc, wc, _pp(Yc, wc, k, rng), tol) for _ in range(n_init)), key=lambda r: r[1])
            t_coarse = time.perf_counter() - t0
            C, sse, its = P._lloyd(tree, C, 300, tol)
            print(f"  level {level}, n_init {n_init}: coarse {t_coarse:.2f} s, refine {its} steps "
                  f"{time.perf_counter() - t0 - t_coarse:.2f} s, inertia {sse / w.sum():.3f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-root", default=str(DEFAULT_DATA))
    p.add_argument("--classes", nargs="+", default=["horse"])
    p.add_argument("--k", type=int, default=24)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    pixels = load_pixels(args.data_root, args.classes)
    profile_one_seeding(pixels, args.k, args.seed)
    coarse_to_fine(pixels, args.k, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
