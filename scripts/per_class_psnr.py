"""Mean PSNR per class of a data set's split, for each model given and for grey output: where one model loses
to another (docs/colour-long-run.md). Models colourize at their own render size, as `tinta colorize` does.

    python scripts/per_class_psnr.py default runs/long-chroma-2 --data-root IMAGENETTE --max-images 400
"""

from __future__ import annotations

import argparse

import torch

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import spread_subset
from tinta.inference import load_model


def psnr(out: torch.Tensor, truth: torch.Tensor) -> torch.Tensor:
    """uint8-valued float sRGB ``(N, 3, H, W)`` pairs -> PSNR per image ``(N,)``."""
    return 10 * torch.log10(255**2 / ((out - truth) ** 2).mean((1, 2, 3)).clamp(min=1e-10))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--data-root", required=True)
    ap.add_argument("--split", default="val")
    ap.add_argument("--max-images", type=int, default=400)
    a = ap.parse_args()
    torch.set_num_threads(2)
    data = spread_subset(load_dataset("folder", a.data_root, a.split), a.max_images)
    truth = data.get(torch.arange(len(data))).float()  # (N, 3, H, W) in [0, 255]
    L = color.rgb_to_lab(truth / 255)[:, :1]  # (N, 1, H, W)
    grey = color.rgb_to_uint8(color.lab_to_rgb(torch.cat([L, torch.zeros_like(L).expand(-1, 2, -1, -1)], 1)))
    scores = {"grey": psnr(grey.float(), truth)}
    for name in a.models:
        c = load_model(name)
        out = torch.stack([torch.from_numpy(c.colorize_lightness(L[i, 0].numpy())).permute(2, 0, 1)
                           for i in range(len(L))]).float()
        scores[name] = psnr(out, truth)
    print(f"{len(data)} images of {a.data_root} {a.split}, evenly spaced; mean PSNR dB per class")
    print("| class | n | " + " | ".join(scores) + " |\n|---|---|" + "---|" * len(scores))
    for k, cls in enumerate(data.classes):
        m = data.labels == k
        print(f"| {cls} | {int(m.sum())} | " + " | ".join(f"{float(s[m].mean()):.2f}" for s in scores.values()) + " |")
    print("| all | " + f"{len(data)} | " + " | ".join(f"{float(s.mean()):.2f}" for s in scores.values()) + " |")
    if len(a.models) >= 2:
        diff = scores[a.models[1]] - scores[a.models[0]]
        q = torch.quantile(diff, torch.tensor([0.05, 0.25, 0.5, 0.75, 0.95]))
        print(f"\nper image, {a.models[1]} - {a.models[0]} (dB) at the 5/25/50/75/95th percentiles: "
              + " / ".join(f"{float(v):+.2f}" for v in q))


if __name__ == "__main__":
    main()
