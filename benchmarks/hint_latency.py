"""Latency of a hint edit against a full recolourization, side by side in one run.

With a 1-megapixel photo already loaded (``Colorizer.session``), adding one point hint and getting the
full-resolution result (:meth:`Session.render`) against colouring the same photo from its file
(``Colorizer(path, hints=...)``: decode, resize, model, paint). Medians of ``--repeats`` runs, 2 CPU
threads; goal: an edit in <= 150 ms.

    python benchmarks/hint_latency.py [--model guided] [--threads 2] [--repeats 15]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
from pathlib import Path

import torch
from infer import timeit  # benchmarks/infer.py, beside this file
from PIL import Image

from tinta.inference import load_model
from tinta.pretrained import EXAMPLES_DIR

GOAL_MS = 150.0


def photo_1mp(folder: Path) -> Path:
    """A bundled photo resized to about one megapixel (1155 x 866), saved as JPEG."""
    path = folder / "photo-1mp.jpg"
    Image.open(EXAMPLES_DIR / "chelsea.jpg").convert("RGB").resize((1155, 866), Image.Resampling.BICUBIC).save(
        path, quality=92)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="guided")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    c = load_model(args.model)
    with tempfile.TemporaryDirectory() as tmp:
        path = photo_1mp(Path(tmp))
        hints = [(300, 200, "#c03020"), (800, 600, "#2050a0")]
        session = c.session(path)
        edits = iter(range(10**6))

        def edit():  # one more hint each time, at a new place
            k = next(edits)
            hints.append((37 * k % 1155, 53 * k % 866, "#30a040"))
            session.render(hints=hints[-20:])

        full = 1000 * timeit(lambda: c(path, hints=hints[:2]), args.repeats)  # median, after a warm-up
        one = 1000 * timeit(edit, args.repeats)
    w, h = session.size
    print(f"model {args.model} (render size {c.render_size}), {w}x{h} photo, {args.threads} threads, "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__}")
    print(f"{'full recolourization from the file':<40} {full:8.1f} ms")
    verdict = "met" if one <= GOAL_MS else "NOT met"
    print(f"{'hint edit on the loaded picture':<40} {one:8.1f} ms   ({full / one:.2f}x faster; "
          f"goal <= {GOAL_MS:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
