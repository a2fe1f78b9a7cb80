"""Global hints from a reference photo: how close the result's colours come to the reference's,
the learned global-hint input of the hint-taking model against the training-free statistics
transfer (Reinhard et al. 2001 on a,b) onto an automatic result, on pairs of similar photos.

Pairs: Imagenette val, each photo with the next photo of its class (same subject, other colours).
Per pair, the target is coloured without hints (automatic), with statistics transfer from the
reference, and with the reference's ab histogram as the learned global hint. Reported means:
``ab-mean dist`` (Euclidean distance between the result's and the reference's mean a,b, Lab units),
``CF diff`` (|colourfulness(result) - colourfulness(reference)|), and PSNR against the target's own
truth. A last block gives each photo its own colours as the reference (the ceiling of the method).
Writes ``OUT/reference-colours.json`` / ``.md``.

    python benchmarks/reference_colours.py --model guided [--pairs 300] [--out reports/guided]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_rgb8, batch_to_lab
from tinta.evaluate import metrics
from tinta.inference import Guide, load_model, upsample_ab

ROOT = "../shared/data/imagenette2-224.tar.gz"


def pairs_of(labels: torch.Tensor, count: int) -> list[tuple[int, int]]:
    """(target, reference): each image and the next of its class, ``count`` of them evenly spread."""
    pairs = [(i, j) for c in labels.unique().tolist()
             for i, j in zip(*(lambda ix: (ix[:-1], ix[1:]))((labels == c).nonzero().flatten().tolist()))]
    step = max(1, len(pairs) // count)
    return pairs[::step][:count]


def load(data, i: int) -> tuple[torch.Tensor, torch.Tensor]:
    raw = data.get(torch.tensor([i]))
    lab = batch_to_lab(raw, data.colorspace)
    return batch_rgb8(raw, lab, data.colorspace), lab  # (1, 3, H, W) uint8, (1, 3, H, W)


def measures(small: torch.Tensor, lab: torch.Tensor, gt8: torch.Tensor, ref8: torch.Tensor,
             ref_lab: torch.Tensor) -> dict:
    pred8 = color.rgb_to_uint8(upsample_ab(small, lab[:, :1]))
    ab = color.rgb_to_lab(pred8.float() / 255)[:, 1:]
    return {"ab_mean_dist": float((ab.mean((2, 3)) - ref_lab[:, 1:].mean((2, 3))).norm()),
            "cf_diff": float((metrics.colourfulness(pred8) - metrics.colourfulness(ref8)).abs()),
            "psnr": float(metrics.psnr(pred8, gt8))}


def methods(guided, default, ref_ab: torch.Tensor) -> dict:
    """name -> (colorizer, guide)."""
    return {"automatic (default)": (default, None),
            "statistics transfer onto default": (default, Guide(ref_ab=ref_ab)),
            "automatic (guided)": (guided, None),
            "statistics transfer onto guided": (guided, Guide(ref_ab=ref_ab, learned_global=False)),
            "learned global hint (guided)": (guided, Guide(ref_ab=ref_ab, learned_global=True))}


@torch.no_grad()
def run(guided, default, data, pairs) -> dict:
    sums: dict[str, dict[str, float]] = {}
    for t, r in pairs:
        gt8, lab = load(data, t)
        ref8, ref_lab = load(data, r)
        for name, (c, guide) in methods(guided, default, ref_lab[:, 1:]).items():
            m = measures(c.predict_small(lab[:, :1], guide=guide), lab, gt8, ref8, ref_lab)
            row = sums.setdefault(name, {})
            for k, v in m.items():
                row[k] = row.get(k, 0.0) + v / len(pairs)
    return sums


def table(blocks: dict) -> str:
    lines = ["| reference | method | ab-mean dist | CF diff | PSNR vs truth |", "|---|---|---|---|---|"]
    for block, rows in blocks.items():
        for name, m in rows.items():
            lines.append(f"| {block} | {name} | {m['ab_mean_dist']:.2f} | {m['cf_diff']:.2f} | {m['psnr']:.2f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="guided")
    ap.add_argument("--baseline", default="default")
    ap.add_argument("--pairs", type=int, default=300)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="reports/guided")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    guided, default = load_model(args.model), load_model(args.baseline)
    data = load_dataset("folder", ROOT, "val")
    pairs = pairs_of(data.labels, args.pairs)
    blocks = {"similar photo (same class)": run(guided, default, data, pairs),
              "the photo itself": run(guided, default, data, [(t, t) for t, _ in pairs])}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    md = table(blocks)
    (out / "reference-colours.json").write_text(json.dumps({"model": args.model, "pairs": len(pairs),
                                                            "results": blocks}, indent=1))
    (out / "reference-colours.md").write_text(md + "\n")
    print(f"{len(pairs)} pairs from Imagenette val")
    print(md)


if __name__ == "__main__":
    main()
