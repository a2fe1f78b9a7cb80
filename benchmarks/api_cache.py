"""`tinta.colorize(path, model="default")` in a loop against a kept `Colorizer`, side by side.

The API keeps the last few models loaded (weights read and sha256-checked once), so a loop of
`tinta.colorize` calls should cost what a kept Colorizer costs; the first call pays the load.

    python benchmarks/api_cache.py [--model default] [--repeats 5]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import tinta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    path = Path(tempfile.mkdtemp()) / "1mp.jpg"
    y, x = np.mgrid[0:816, 0:1224]
    Image.fromarray(((np.sin(x / 40) + np.cos(y / 30) + 2) * 60).astype(np.uint8)).save(path, quality=90)
    t0 = time.perf_counter()
    tinta.colorize(path, model=args.model)
    first = time.perf_counter() - t0
    api = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        tinta.colorize(path, model=args.model)
        api.append(time.perf_counter() - t0)
    kept = tinta.load_model(args.model)
    own = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        kept(path)
        own.append(time.perf_counter() - t0)
    print(f"1-megapixel photo, model {args.model!r}; {platform.machine()} CPU, {args.threads} threads")
    print(f"{'tinta.colorize, first call (s)':<40}{first:>8.3f}")
    print(f"{'tinta.colorize, later calls, median (s)':<40}{sorted(api)[len(api) // 2]:>8.3f}")
    print(f"{'kept Colorizer, median (s)':<40}{sorted(own)[len(own) // 2]:>8.3f}")
    print(f"ratio later API calls / kept Colorizer: {sorted(api)[len(api) // 2] / sorted(own)[len(own) // 2]:.2f}x")


if __name__ == "__main__":
    main()
