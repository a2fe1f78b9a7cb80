"""``tinta compare RUN... --baseline RUN --out DIR``."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinta.cli.args import positive
from tinta.cli.evaluate import add_size_options


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Compare runs on one split: table of metrics and their difference from the "
                       "baseline, parameters, training time, inference ms/image; a picture grid and a "
                       "PSNR-vs-colourfulness plot. Runs not yet evaluated on the split are evaluated first.")
    p.add_argument("runs", nargs="+", help="run folders")
    p.add_argument("--baseline", required=True, help="the run the others are compared against")
    p.add_argument("--out", required=True, help="report folder")
    p.add_argument("--split", default="val", help="split to compare on")
    p.add_argument("--data-root", default=None, help="data set path (default: each run's own)")
    add_size_options(p)
    p.add_argument("--no-judge", dest="judge", action="store_false",
                   help="skip the judge (ImageNet EfficientNet-Lite2: agreement and top-1): faster")
    p.add_argument("--no-ssim", dest="ssim", action="store_false",
                   help="skip SSIM (float64, most of an evaluation's time on a CPU): faster")
    p.add_argument("--grid-images", type=positive, default=8, help="images in the picture grid (default: 8)")
    p.add_argument("--max-images", type=positive, default=None,
                   help="score N images evenly spaced over the split (default: all)")


def run(args: argparse.Namespace) -> int:
    from tinta.evaluate.compare import compare, resolve_runs, verdict

    runs = resolve_runs(args.runs, args.out)
    (baseline,) = resolve_runs([args.baseline], args.out)
    summary = compare(runs, baseline, args.out, split=args.split, data_root=args.data_root,
                      render_size=args.render_size, size=args.size, temperatures=args.temperatures,
                      max_images=args.max_images, grid_images=args.grid_images, judge=args.judge,
                      ssim=args.ssim)
    print((Path(args.out) / "report.md").read_text())
    print(verdict(summary).replace("**", ""))
    print(f"report: {args.out}/report.md, {args.out}/report.html")
    return 0
