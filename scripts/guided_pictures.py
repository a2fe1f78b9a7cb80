"""The guided-colour pictures of docs/guide-guided.md: for each bundled photo, the grey input, the automatic result
(`default`), the hint-taking model with point hints (drawn as rings in their colour), and the same
photo following a palette. Writes docs/img/guided-before-after.jpg.

    python scripts/guided_pictures.py [--model guided] [--out docs/img/guided-before-after.jpg]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from tinta.inference import load_model
from tinta.pretrained import EXAMPLES_DIR

HEIGHT = 200  # each panel's height in the strip
CASES = [  # photo, point hints (x, y, colour) in its pixels, palette
    ("chelsea.jpg", [(60, 200, "#d08040"), (170, 115, "#70a030"), (420, 60, "#6080c0")], ["#c08050", "#e0d0b0"]),
    ("coffee.jpg", [(120, 250, "#b02020"), (180, 190, "#b02020"), (400, 60, "#8a5a30"), (230, 110, "#a06030")],
     ["#2050a0", "#d0c0a0"]),
    ("rocket.jpg", [(120, 60, "#1a3060"), (250, 280, "#e08040")], ["#f08020", "#203060"]),
]


def draw_hints(im: Image.Image, hints) -> Image.Image:
    im = im.copy()
    d = ImageDraw.Draw(im)
    r = max(6, min(im.size) // 40)
    for x, y, c in hints:
        d.ellipse([x - r - 2, y - r - 2, x + r + 2, y + r + 2], outline="white", width=2)
        d.ellipse([x - r, y - r, x + r, y + r], fill=c, outline="black", width=1)
    return im


def panel(im: Image.Image, label: str) -> Image.Image:
    im = im.convert("RGB")
    im = im.resize((round(im.width * HEIGHT / im.height), HEIGHT), Image.Resampling.LANCZOS)
    out = Image.new("RGB", (im.width, HEIGHT + 18), "white")
    out.paste(im, (0, 18))
    ImageDraw.Draw(out).text((4, 3), label, fill="black")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="guided")
    ap.add_argument("--out", default="docs/img/guided-before-after.jpg")
    args = ap.parse_args()
    guided, auto = load_model(args.model), load_model("default")
    rows = []
    for name, hints, palette in CASES:
        src = ImageOps.exif_transpose(Image.open(EXAMPLES_DIR / name)).convert("L")
        panels = [panel(src, "grey input"), panel(auto(src), "automatic (default)"),
                  panel(draw_hints(guided(src, hints=hints), hints), f"guided, {len(hints)} hints"),
                  panel(guided(src, palette=palette), "palette " + " ".join(palette))]
        row = Image.new("RGB", (sum(p.width for p in panels) + 4 * len(panels), panels[0].height), "white")
        x = 0
        for p in panels:
            row.paste(p, (x, 0))
            x += p.width + 4
        rows.append(row)
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height + 4 for r in rows)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + 4
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=85)
    print(f"wrote {args.out} ({sheet.width}x{sheet.height})")


if __name__ == "__main__":
    main()
