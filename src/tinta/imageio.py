"""Reading photos in any mode users have, and writing results safely.

:func:`read_picture` turns a path, PIL image or numpy array into the full-resolution
lightness L (float32, [0, 100]) plus what must survive colourization: the alpha channel,
the ICC profile and the EXIF-corrected orientation. 16-bit images keep their precision
in L. L of colour images is computed in row strips, so a 24-megapixel photo never
needs a full-size float RGB copy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from tinta import color
from tinta.errors import TintaError

STRIP_ROWS = 256
FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "tif": "TIFF", "tiff": "TIFF", "bmp": "BMP",
           "gif": "GIF"}  # GIF output is quantized to 256 colours by Pillow
ALPHA_FORMATS = {"PNG", "WEBP", "TIFF"}


@dataclass
class Picture:
    L: np.ndarray  # (H, W) float32, CIE L in [0, 100]
    alpha: np.ndarray | None  # (H, W) uint8, or None
    icc_profile: bytes | None
    mode: str  # the input's PIL mode, for reports


def _lightness_from_rgb8(rgb: np.ndarray) -> np.ndarray:
    H, W, _ = rgb.shape
    L = np.empty((H, W), dtype=np.float32)
    for y in range(0, H, STRIP_ROWS):
        strip = torch.from_numpy(np.array(rgb[y : y + STRIP_ROWS])).permute(2, 0, 1)  # (3, s, W), a copy
        L[y : y + STRIP_ROWS] = color.rgb_to_lab(strip)[0].numpy()
    return L


def _open(source) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        arr = source
        if arr.dtype != np.uint8 and arr.dtype != np.uint16:
            if np.issubdtype(arr.dtype, np.floating):
                arr = (np.clip(arr, 0, 1) * 255).round().astype(np.uint8)
            else:
                raise TintaError(f"numpy images must be uint8, uint16 or float in [0, 1], got {arr.dtype}")
        if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4)):
            if arr.ndim == 3 and arr.shape[2] == 1:
                arr = arr[..., 0]
            if arr.dtype == np.uint16:
                if arr.ndim != 2:
                    arr = (arr >> 8).astype(np.uint8)
                else:
                    return Image.fromarray(arr)  # mode I;16
            return Image.fromarray(arr)
        raise TintaError(f"numpy images must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {arr.shape}")
    path = Path(source)
    if not path.is_file():
        raise TintaError(f"{path}: no such file")
    try:
        im = Image.open(path)
        im.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise TintaError(f"{path}: not a readable image ({e.__class__.__name__}: {e})") from None
    return im


def read_picture(source) -> Picture:
    """Path / PIL image / numpy array -> :class:`Picture` (EXIF orientation applied)."""
    im = _open(source)
    icc = im.info.get("icc_profile")
    mode = im.mode
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        pass
    alpha = None
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3].copy()
        rgb = np.asarray(rgba.convert("RGB"))
        return Picture(_lightness_from_rgb8(rgb), alpha, icc, mode)
    if mode.startswith("I") or mode == "F":  # 16/32-bit grey: keep the precision
        arr = np.asarray(im).astype(np.float32)
        top = 65535.0 if mode != "F" else 1.0
        if mode == "I" and arr.max(initial=0) <= 255:
            top = 255.0
        grey = torch.from_numpy(np.clip(arr / top, 0, 1))[None]
        return Picture(color.grey_to_lightness(grey)[0].numpy().astype(np.float32), None, icc, mode)
    if mode in ("L", "1"):
        grey = torch.from_numpy(np.asarray(im.convert("L")).copy())[None]
        return Picture(color.grey_to_lightness(grey)[0].numpy().astype(np.float32), None, icc, mode)
    if mode == "CMYK":
        icc = None  # a CMYK profile does not describe the sRGB result
    return Picture(_lightness_from_rgb8(np.asarray(im.convert("RGB"))), None, icc, mode)


def output_format(path: Path, fmt: str | None) -> tuple[str, str]:
    """-> (PIL format, file suffix) from ``--format`` or the path's suffix."""
    key = (fmt or path.suffix.lstrip(".")).lower()
    if key not in FORMATS:
        raise TintaError(f"{path}: unsupported output format {key!r}; use one of png, jpg, webp, tif, bmp, gif")
    return FORMATS[key], ("." + key if fmt else path.suffix)


def write_picture(rgb8: np.ndarray, alpha: np.ndarray | None, path: Path, pil_format: str,
                  icc_profile: bytes | None = None, quality: int = 95) -> bool:
    """Write ``(H, W, 3)`` uint8 (+ alpha) to ``path`` via a temp name and rename.
    Returns False when the format could not keep the alpha channel (it is dropped)."""
    im = Image.fromarray(rgb8, "RGB")
    kept = True
    if alpha is not None:
        if pil_format in ALPHA_FORMATS:
            im.putalpha(Image.fromarray(alpha, "L"))
        else:
            kept = False
    kw: dict = {}
    if icc_profile:
        kw["icc_profile"] = icc_profile
    if pil_format in ("JPEG", "WEBP"):
        kw["quality"] = quality
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        im.save(tmp, format=pil_format, **kw)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return kept
