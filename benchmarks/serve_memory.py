"""Memory of one colourization, for the server's budget (``tinta.serve.pictures.cost``): the peak RSS of a
fresh process over its own idle peak, for a 4000 x 3000 grey JPEG (the bundled chelsea.jpg enlarged) at
several render sizes, ``default`` model, 2 torch threads. Each case runs in its own process.

    python benchmarks/serve_memory.py [--model default] [--sizes 112,512,1024,0]
"""

from __future__ import annotations

import argparse
import io
import platform
import resource
import subprocess
import sys
import time


def one(model: str, render_size: int) -> None:
    import torch
    from PIL import Image

    from tinta.inference import load_model, render_shape
    from tinta.pretrained import EXAMPLES_DIR
    from tinta.serve.pictures import cost

    torch.set_num_threads(2)
    c = load_model(model)
    im = Image.open(EXAMPLES_DIR / "chelsea.jpg").convert("L").resize((4000, 3000), Image.Resampling.BICUBIC)
    c(im.resize((160, 120)))  # warm-up at the model's own render size
    c.render_size = render_size
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t = time.perf_counter()
    buf = io.BytesIO()
    c(im).save(buf, "JPEG", quality=92)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rh, rw = render_shape(3000, 4000, render_size)
    print(f"{render_size:>11} {rw}x{rh:<9} {peak - base:9.0f} {cost(12_000_000, rh * rw) / 1e6:12.0f} "
          f"{time.perf_counter() - t:8.1f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--sizes", default="112,512,1024,0")
    ap.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        return one(args.model, args.one)
    print(f"model {args.model}, 4000x3000 grey picture, 2 torch threads, {platform.machine()}")
    print(f"{'render size':>11} {'rendered':<14} {'+RSS MB':>9} {'estimate MB':>12} {'seconds':>8}")
    for size in args.sizes.split(","):
        subprocess.run([sys.executable, __file__, "--model", args.model, "--one", size], check=True)


if __name__ == "__main__":
    main()
