"""``tinta evaluate --run runs/NAME --split test``."""

from __future__ import annotations

import argparse
import sys

from tinta.cli.args import non_negative, positive


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Evaluate a run: PSNR, SSIM, colourfulness (and per-pixel accuracy for "
                       "palette models) on a held-out split; writes eval-SPLIT.json and grid-SPLIT.png "
                       "into the run folder.")
    p.add_argument("--run", dest="run_dir", required=True, help="run folder written by `tinta train`")
    p.add_argument("--split", default="test", help="split to score (cifar10: test; imagenette: val)")
    p.add_argument("--data-root", default=None, help="data set path (default: the one the run trained on)")
    p.add_argument("--checkpoint", default="best", choices=("best", "last"), help="which weights")
    p.add_argument("--batch-size", type=positive, default=64, help="images per forward pass")
    p.add_argument("--max-images", type=positive, default=None,
                   help="score N images evenly spaced over the split (default: all)")
    add_size_options(p)
    p.add_argument("--no-semantic", dest="semantic", action="store_false",
                   help="skip the ImageNet top-1 test (run by default on WordNet-id classes such as Imagenette)")
    p.add_argument("--no-judge", dest="judge", action="store_false",
                   help="skip the semantic judge (ImageNet EfficientNet-Lite2: `agree`, the share of images it "
                   "classifies as it does the original, and on WordNet-id classes `judge_top1`)")


def add_size_options(p: argparse.ArgumentParser) -> None:
    """--size, --render-size, --temperatures (shared with `tinta compare`)."""
    p.add_argument("--size", type=non_negative, default=None,
                   help="resize the images to this short side and centre-crop (default: as they are)")
    p.add_argument("--render-size", type=non_negative, default=None,
                   help="short side the model runs at, its output upsampled to the full image "
                   "(default: the size the run trained at; 0: the full image)")
    p.add_argument("--temperatures", type=float, nargs="+", default=None,
                   help="bins models: annealed-mean temperatures to decode at (default: the run's own)")


def format_results(report: dict) -> str:
    lines = [f"{report['model']} ({report['task']}) on {report['split']}: {report['images']} images"
             + (f", skipped {report['skipped']}" if any(report["skipped"].values()) else "")]
    res = report["results"]
    rows = {name: vals for name, vals in res.items() if isinstance(vals, dict) and name != "gt"}
    keys = ["accuracy", "psnr", "ssim", "colourfulness", "cf_abs_diff"] + [
        k for k in ("top1", "agree", "judge_top1") if k in res["gt"] or any(k in v for v in rows.values())]
    lines.append(f"{'decoding':<14}" + "".join(f"{k:>15}" for k in keys))
    for name, vals in rows.items():
        lines.append(f"{name:<14}" + "".join(f"{vals[k]:>15.4f}" if k in vals else f"{'-':>15}" for k in keys))
    lines.append(f"ground-truth colourfulness {res['gt']['colourfulness']:.2f}; "
                 + (f"ground-truth top-1 {res['gt']['top1']:.4f}; " if "top1" in res["gt"] else "")
                 + (f"ground-truth judge top-1 {res['gt']['judge_top1']:.4f}; " if "judge_top1" in res["gt"] else "")
                 + f"model {res['model_ms_per_image']:.2f} ms/image")
    if "judge_seconds" in res:
        lines.append(f"the semantic judge took {res['judge_seconds']:.1f} s (--no-judge skips it)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from tinta.evaluate.evaluate import evaluate_run

    report = evaluate_run(args.run_dir, split=args.split, data_root=args.data_root,
                          which=args.checkpoint, batch_size=args.batch_size, max_images=args.max_images,
                          render_size=args.render_size, size=args.size, temperatures=args.temperatures,
                          semantic=args.semantic, judge=args.judge,
                          log=lambda line: print(f"tinta evaluate: {line}", file=sys.stderr))
    print(format_results(report))
    columns = ", ".join(report["grid_columns"])
    print(f"saved {report['report']} and {report['grid']} (columns: {columns})")
    return 0

