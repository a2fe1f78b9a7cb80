"""Colour fidelity against the number of point hints (0, 1, 2, 5, 10, 20, 50, 100), with the
automatic ``default`` beside it, on Imagenette val and photos-mix val.

Rows ``N`` are what ``tinta colorize --hint`` gives (the model reads the hints, then their colours are
propagated along lightness: :func:`tinta.hints.propagate_hints`); rows ``N, model only`` leave out the
propagation (the network's own use of the hints). Hints are read from the ground truth with a fixed
seed per image and count: uniform positions, each the mean colour of the square a hint covers at the model's render size
(:func:`tinta.hints.sample_hints`), given through the public path (``Colorizer.predict_small``
with a :class:`tinta.inference.Guide`) exactly as ``tinta colorize --hint`` gives them. Metrics are
means over images on 8-bit sRGB (PSNR; CF gap = mean |colourfulness(result) - colourfulness(truth)|).
Writes ``OUT/hints-curve.json``, ``OUT/hints-curve.md`` and ``OUT/hints-curve.png``.

    python benchmarks/hints_curve.py --model guided [--max-images 500] [--out reports/guided]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_rgb8, batch_to_lab
from tinta.evaluate import metrics
from tinta.evaluate.evaluate import spread_subset
from tinta.hints import HINT_PATCH, sample_hints
from tinta.inference import Guide, load_model, upsample_ab

COUNTS = (0, 1, 2, 5, 10, 20, 50, 100)
SOURCES = {  # name: (data root, --size as the flagship comparison uses)
    "imagenette-val": ("../shared/data/imagenette2-224.tar.gz", None),
    "photos-mix-val": ("../shared/data/photos-mix.tar.gz", 112),
}


def score(small: torch.Tensor, L: torch.Tensor, gt8: torch.Tensor) -> tuple[float, float]:
    pred8 = color.rgb_to_uint8(upsample_ab(small, L))
    cf = (metrics.colourfulness(pred8) - metrics.colourfulness(gt8)).abs()
    return float(metrics.psnr(pred8, gt8)), float(cf)


@torch.no_grad()
def curve(guided, default, data, counts) -> dict:
    """Mean PSNR and CF gap per hint count (and for ``default``) over ``data``."""
    sums = {k: [0.0, 0.0] for k in ["default", *map(str, counts), *(f"{n}, model only" for n in counts if n)]}
    for i in range(len(data)):
        raw = data.get(torch.tensor([i]))
        lab = batch_to_lab(raw, data.colorspace)
        gt8, L = batch_rgb8(raw, lab, data.colorspace), lab[:, :1]  # (1, 3, H, W) uint8, (1, 1, H, W)
        s = score(default.predict_small(L), L, gt8)
        sums["default"] = [a + b for a, b in zip(sums["default"], s)]
        scale = min(L.shape[-2:]) / (guided.render_size or min(L.shape[-2:]))
        patch = max(1, round(HINT_PATCH * scale))
        for n in counts:
            hints = sample_hints(gt8[0], n, torch.Generator().manual_seed(i * 1000 + n), patch)
            for key, propagate in ((str(n), True), (f"{n}, model only", False)):
                if key in sums:
                    s = score(guided.predict_small(L, guide=Guide(hints, propagate=propagate)), L, gt8)
                    sums[key] = [a + b for a, b in zip(sums[key], s)]
    return {k: {"psnr": v[0] / len(data), "cf_gap": v[1] / len(data)} for k, v in sums.items()}


def plot(results: dict, counts, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=100)
    xs = [max(n, 0.5) for n in counts]  # 0 hints drawn at 0.5 on the log axis
    for (name, rows), c in zip(results.items(), ("tab:blue", "tab:orange")):
        ax.plot(xs, [rows[str(n)]["psnr"] for n in counts], "o-", color=c, label=f"guided, {name}")
        ax.axhline(rows["default"]["psnr"], color=c, ls=":", label=f"default (no hints), {name}")
    ax.set_xscale("log")
    ax.set_xticks(xs, [str(n) for n in counts])
    ax.set_xlabel("point hints from the ground truth")
    ax.set_ylabel("PSNR (dB)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)


def table(results: dict, counts) -> str:
    lines = ["| hints | " + " | ".join(f"{s} PSNR | {s} CF gap" for s in results) + " |",
             "|---" * (1 + 2 * len(results)) + "|"]
    for key in ["default", *map(str, counts), *(f"{n}, model only" for n in counts if n)]:
        label = "`default`, automatic" if key == "default" else key
        cells = [f"{r[key]['psnr']:.2f} | {r[key]['cf_gap']:.1f}" for r in results.values()]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="guided", help="the hint-taking model (shipped name or run folder)")
    ap.add_argument("--baseline", default="default", help="the automatic model drawn beside it")
    ap.add_argument("--max-images", type=int, default=500, help="images per source, evenly spaced")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="reports/guided")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    guided, default = load_model(args.model), load_model(args.baseline)
    results = {}
    for name, (root, size) in SOURCES.items():
        data = spread_subset(load_dataset("folder", root, "val", size=size), args.max_images)
        t0 = time.perf_counter()
        results[name] = curve(guided, default, data, COUNTS)
        print(f"{name}: {len(data)} images, {time.perf_counter() - t0:.0f} s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"model": args.model, "baseline": args.baseline, "max_images": args.max_images, "counts": COUNTS}
    (out / "hints-curve.json").write_text(json.dumps({**meta, "results": results}, indent=1))
    md = table(results, COUNTS)
    (out / "hints-curve.md").write_text(md + "\n")
    plot(results, COUNTS, out / "hints-curve.png")
    print(md)
    for name, r in results.items():
        d10, d100 = (r[k]["psnr"] - r["0"]["psnr"] for k in ("10", "100"))
        print(f"{name}: {d10:+.2f} dB at 10 hints (goal +3), {d100:+.2f} dB at 100 (goal +6); "
              f"0 hints vs default {r['0']['psnr'] - r['default']['psnr']:+.2f} dB (goal >= -0.3)")


if __name__ == "__main__":
    main()
