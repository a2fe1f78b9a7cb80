"""The README's gallery: 24 photos of photos-more val (portraits of every age, people, groups, pets, scenes),
one row each: grey | each model given | the original. Photos are picked by class, evenly spaced within it, the
same for every model (no photo is chosen by how well any model does).

    python scripts/gallery.py default runs/t-chroma --out docs/img/gallery.jpg [--data-root PHOTOS_MORE]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_to_lab
from tinta.inference import load_model

# class (photos-more folder) -> photos taken from it: 24 in all
QUOTA = {"aaf_age_00-12": 3, "aaf_age_13-29": 3, "aaf_age_30-59": 3, "aaf_age_60plus": 3, "scutfbp_asian_female": 1,
         "scutfbp_caucasian_male": 1, "corel_africa_people": 2, "clothing_dress": 1, "clothing_shirt": 1,
         "pets_cat": 1, "pets_dog": 1, "intelpred_street": 1, "intelpred_forest": 1, "sun_kitchen": 1,
         "corel_beach": 1}


def pick(labels: torch.Tensor, classes: list[str]) -> list[int]:
    chosen = []
    for name, n in QUOTA.items():
        if name not in classes:
            raise SystemExit(f"no class {name!r} in the data set")
        idx = (labels == classes.index(name)).nonzero().flatten().tolist()
        chosen += [idx[round(i * (len(idx) - 1) / max(n - 1, 1))] for i in range(min(n, len(idx)))]
    return chosen


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", help="shipped weight names or run folders, one column each")
    p.add_argument("--data-root", default=str(Path.home() / ".cache/tinta/photos-more/photos-more.tar.gz"))
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--out", default="docs/img/gallery.jpg")
    a = p.parse_args()
    data = load_dataset("folder", a.data_root, "val", size=a.size)
    idx = torch.tensor(pick(data.labels, data.classes))
    rgb8 = data.get(idx)  # (24, 3, H, W)
    lab = batch_to_lab(rgb8, data.colorspace)
    grey = color.rgb_to_uint8(color.lab_to_rgb(color.join_lab(lab[:, :1], torch.zeros_like(lab[:, 1:]))))
    columns = [grey]
    for name in a.models:
        c = load_model(name)
        columns.append(torch.stack([torch.from_numpy(c.colorize_lightness(L[0].numpy())).permute(2, 0, 1)
                                    for L in lab[:, :1]]))
    columns.append(rgb8)
    rows = torch.stack(columns, 1)  # (24, C, 3, H, W)
    n, c, _, h, w = rows.shape
    half = n // 2  # two blocks side by side: 12 rows each
    canvas = Image.new("RGB", (2 * c * (w + 2) + 8, half * (h + 2)), "white")
    for i in range(n):
        for j in range(c):
            x = (i // half) * (c * (w + 2) + 8) + j * (w + 2)
            canvas.paste(Image.fromarray(rows[i, j].permute(1, 2, 0).numpy()), (x, (i % half) * (h + 2)))
    canvas.save(a.out, quality=88)
    print(f"{a.out}: {n} photos; columns: grey | {' | '.join(a.models)} | original")


if __name__ == "__main__":
    main()
