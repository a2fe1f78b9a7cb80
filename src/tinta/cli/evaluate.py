"""``tinta evaluate --run runs/NAME --split test``."""

from __future__ import annotations

import argparse
import sys

from tinta.cli.args import add_config_args, config_from_args
from tinta.evaluate.options import EvaluateOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Evaluate a run: PSNR, SSIM, colourfulness (and per-pixel accuracy for "
                       "palette models) on a held-out split; writes eval-SPLIT.json and grid-SPLIT.png "
                       "into the run folder.")
    add_config_args(p, EvaluateOptions)


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
    report = config_from_args(EvaluateOptions, args).evaluate(
        log=lambda line: print(f"tinta evaluate: {line}", file=sys.stderr))
    print(format_results(report))
    columns = ", ".join(report["grid_columns"])
    print(f"saved {report['report']} and {report['grid']} (columns: {columns})")
    return 0
