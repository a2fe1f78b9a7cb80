"""Small builders shared by tests: a run folder with an untrained model, images in every mode."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinta.files import write_json
from tinta.models import create_model
from tinta.runs import save_weights
from tinta.train.config import TrainConfig


def make_run(path: Path, model: str = "small-unet", seed: int = 0) -> Path:
    """A run folder as `tinta train` writes it, with random (untrained) weights."""
    torch.manual_seed(seed)
    path.mkdir(parents=True, exist_ok=True)
    cfg = TrainConfig(model=model, head="regression", data_root="unused", out=str(path), width=8)
    net = create_model(model, 2, **cfg.model_kwargs())
    config = {"train": cfg.to_dict(), "head": {"name": "regression", "loss": "huber"}, "out_channels": 2,
              "pretrained_encoder": False,
              "parameters": 0, "data": {"train": 0, "val": 0, "skipped": {}, "size": [32, 32]}}
    write_json(path / "config.json", config)
    write_json(path / "state.json", {"epoch": 1, "best_val_loss": 0.0, "train_seconds": 0.0})
    save_weights(net, path / "best.safetensors")
    return path


def photo(h: int = 40, w: int = 56, seed: int = 0) -> np.ndarray:
    """A smooth colourful (H, W, 3) uint8 test picture."""
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    img = np.stack([128 + 100 * np.sin(x / 7 + rng.uniform(0, 3)), 128 + 100 * np.cos(y / 5),
                    128 + 80 * np.sin((x + y) / 9)], -1)
    return np.clip(img, 0, 255).astype(np.uint8)


def tiny_image_folder(root: Path) -> Path:
    """A CIFAR-style ImageFolder: root/{train,test}/{cat,horse}/NNNN.png, 32x32, seeded pictures
    (20 + 6 per class; no Python hash() anywhere, so every process builds the same bytes)."""
    seed = 0
    for split, n in (("train", 40), ("test", 12)):
        for cls in ("cat", "horse"):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n // 2):
                seed += 1
                Image.fromarray(photo(32, 32, seed=seed)).save(d / f"{i:04d}.png")
    return root


def write_every_mode(folder: Path) -> dict[str, Path]:
    """One file per image mode users have, plus a corrupt one."""
    folder.mkdir(parents=True, exist_ok=True)
    rgb = Image.fromarray(photo())
    files = {}

    def save(name, im, **kw):
        files[name] = folder / name
        im.save(files[name], **kw)

    save("grey.png", rgb.convert("L"))
    save("grey_alpha.png", rgb.convert("LA"))
    save("colour.jpg", rgb, quality=90)
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(np.tile(np.arange(56, dtype=np.uint8) * 4, (40, 1))))
    save("rgba.png", rgba)
    grey16 = (np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
    save("grey16.png", Image.fromarray(grey16))
    save("cmyk.jpg", rgb.convert("CMYK"))
    save("palette.png", rgb.convert("P"))
    save("palette.gif", rgb.convert("P"))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    save("rotated.jpg", rgb, exif=exif)
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    save("with_icc.png", rgb, icc_profile=icc)
    files["corrupt.jpg"] = folder / "corrupt.jpg"
    buf = io.BytesIO()
    rgb.save(buf, "JPEG")
    files["corrupt.jpg"].write_bytes(buf.getvalue()[:200])
    return files


@contextlib.contextmanager
def small_tmpfs(tmp_path: Path, size: str):
    """A tmpfs of ``size`` (e.g. ``64k``, ``4m``) mounted at ``tmp_path/disk``, unmounted afterwards;
    the test is skipped where mounting needs root or is not allowed."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.system(f"mount -t tmpfs -o size={size} tmpfs {disk} 2>/dev/null") != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield disk
    finally:
        os.system(f"umount {disk}")
