"""Regenerate src/tinta/assets/examples/ from the photos that ship with scikit-image
(needs `pip install scikit-image`; licences in the folder's LICENSE.md)."""

from pathlib import Path

import skimage
from PIL import Image

SRC = Path(skimage.__file__).parent / "data"
OUT = Path(__file__).resolve().parents[1] / "src" / "tinta" / "assets" / "examples"

for name, file in [("astronaut", "astronaut.png"), ("chelsea", "chelsea.png"), ("coffee", "coffee.png"),
                   ("rocket", "rocket.jpg")]:
    im = Image.open(SRC / file).convert("RGB")
    im.thumbnail((480, 480), Image.LANCZOS)
    im.convert("L").save(OUT / f"{name}.jpg", quality=90)
    print(OUT / f"{name}.jpg", im.size)
