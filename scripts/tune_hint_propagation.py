"""Choose the hint-propagation constants of tinta.hints (PROP_SIGMA_XY, PROP_SIGMA_L, PROP_PRIOR) on
Imagenette *train* pictures (never the validation sets docs/reports/guided.md reports): mean PSNR of the hint-taking
model's result after propagation, over a grid of settings, at 5, 20 and 100 hints from the ground truth.

    python scripts/tune_hint_propagation.py [--model runs/guided] [--images 40]
"""

from __future__ import annotations

import argparse
import itertools

import torch

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_rgb8, batch_to_lab, spread_subset
from tinta.evaluate import metrics
from tinta.hints import HINT_PATCH, propagate_hints, sample_hints
from tinta.inference import Guide, load_model, upsample_ab

GRID = {"sigma_xy": (0.05, 0.1, 0.15, 0.2), "sigma_l": (5.0, 10.0, 20.0), "prior": (0.01, 0.05, 0.3)}
COUNTS = (5, 20, 100)


@torch.no_grad()
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="runs/guided")
    ap.add_argument("--images", type=int, default=40)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    c = load_model(args.model)
    data = spread_subset(load_dataset("folder", "../shared/data/imagenette2-224.tar.gz", "train", size=112),
                         args.images)
    settings = [dict(zip(GRID, v)) for v in itertools.product(*GRID.values())]
    sums = {(n, i): 0.0 for n in COUNTS for i in range(len(settings) + 1)}
    for k in range(len(data)):
        raw = data.get(torch.tensor([k]))
        lab = batch_to_lab(raw, data.colorspace)
        gt8, L = batch_rgb8(raw, lab, data.colorspace), lab[:, :1]
        for n in COUNTS:
            hints = sample_hints(gt8[0], n, torch.Generator().manual_seed(10**6 + k * 1000 + n), HINT_PATCH)
            ab = c.predict_small(L, guide=Guide(hints, propagate=False))  # (1, 2, h, w)
            Ls = torch.nn.functional.interpolate(L, size=ab.shape[-2:], mode="area")
            outs = [ab] + [propagate_hints(ab, Ls, hints, L.shape[-2:], **s) for s in settings]
            for i, o in enumerate(outs):
                sums[(n, i)] += float(metrics.psnr(color.rgb_to_uint8(upsample_ab(o, L)), gt8)) / len(data)
    print(f"{len(data)} Imagenette train pictures at 112 px, model {args.model}; mean PSNR (dB)")
    print("setting".ljust(44) + "".join(f"{n:>4} hints" for n in COUNTS) + "   mean")
    rows = [("no propagation", 0)] + [(str(s), i + 1) for i, s in enumerate(settings)]
    for name, i in sorted(rows, key=lambda r: -sum(sums[(n, r[1])] for n in COUNTS)):
        vals = [sums[(n, i)] for n in COUNTS]
        print(name.ljust(44) + "".join(f"{v:10.2f}" for v in vals) + f"{sum(vals) / len(vals):8.2f}")


if __name__ == "__main__":
    main()
