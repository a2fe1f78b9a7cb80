"""How far a joint head's decoding moves from the regression mean towards the bins: the per-pixel
weight 1 - H(p)/log Q (x blend) on evenly spaced validation images.

    python scripts/joint_confidence.py runs/mix-joint ../shared/data/imagenette2-224.tar.gz [--images 48]
"""

from __future__ import annotations

import argparse

import torch

from tinta.data import load_dataset
from tinta.data.base import batch_to_lab
from tinta.inference import load_model, render_input


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("data_root")
    ap.add_argument("--split", default="val")
    ap.add_argument("--images", type=int, default=48)
    args = ap.parse_args()
    c = load_model(args.run)
    ds = load_dataset("folder", args.data_root, args.split)
    idx = torch.linspace(0, len(ds) - 1, args.images).round().long()
    lab = batch_to_lab(ds.get(idx), ds.colorspace)
    with torch.no_grad():
        _, logits, _ = c.head.split(c.model(render_input(lab[:, :1], c.render_size)))  # at the class stride
        w = c.head.confidence(logits).flatten()
    print(f"{args.run} on {args.images} images of {args.data_root} {args.split}: weight towards the bins "
          f"mean {w.mean():.3f}, median {w.median():.3f}, 90th percentile {w.quantile(0.9):.3f}, max {w.max():.3f}")


if __name__ == "__main__":
    main()
