"""Decoding one photo: any Pillow mode -> RGB uint8, EXIF orientation, resize + centre crop.

Everything here is numpy + Pillow only (no torch), so :func:`decode_many` can hand the
work to a small process pool cheaply.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")
PARALLEL_MIN_ITEMS = 512  # below this, decoding in-process is faster than starting a pool
_EXIF_ORIENTATION = 0x0112


def is_image_name(name: str) -> bool:
    """True for the photo extensions tinta reads (case-insensitive)."""
    return name.lower().endswith(IMAGE_EXTENSIONS)


def open_image(src: str | Path | bytes, draft_size: int | None = None) -> Image.Image:
    """Open and fully decode an image file or its bytes, upright (EXIF orientation applied).

    ``draft_size`` lets JPEG decoding scale down by 1/2..1/8 on the fly, keeping both
    sides >= ``draft_size`` (a large speed-up for big photos that get resized anyway).
    """
    img = Image.open(io.BytesIO(src) if isinstance(src, (bytes, bytearray, memoryview)) else src)
    if draft_size and img.format == "JPEG":
        img.draft("RGB", (draft_size, draft_size))
    img.load()
    try:
        orientation = img.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a broken EXIF block does not make the pixels unusable
        orientation = 1
    if orientation not in (None, 1):
        img = ImageOps.exif_transpose(img)
    return img


def _sixteen_to_eight(a: np.ndarray) -> np.ndarray:
    """0..65535 -> 0..255 by scaling (x / 257, rounded), never by clipping."""
    return np.round(a.astype(np.float64) / 257.0).clip(0, 255).astype(np.uint8)


def _on_white(img: Image.Image) -> Image.Image:
    """Composite an image with alpha over white, as a viewer would show it."""
    rgba = img.convert("RGBA")
    bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(bg, rgba).convert("RGB")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> 8-bit ``RGB``. 16-bit grey is scaled to 8 bits (Pillow's own
    conversion clips it at 255); alpha (RGBA, LA, P with transparency) is composited over white."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode.startswith("I;16") or mode == "I":
        a = np.asarray(img).astype(np.int64)
        if mode == "I" and a.max(initial=0) <= 255:  # a 32-bit container holding 8-bit values
            g = a.clip(0, 255).astype(np.uint8)
        else:
            g = _sixteen_to_eight(a.clip(0, 65535))
        return Image.fromarray(g).convert("RGB")
    if mode == "F":
        a = np.asarray(img, dtype=np.float64)
        a = a * 255.0 if np.nanmax(a, initial=0.0) <= 1.0 else a
        return Image.fromarray(np.nan_to_num(a).round().clip(0, 255).astype(np.uint8)).convert("RGB")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        return _on_white(img)
    if mode in ("L", "P", "1", "CMYK", "YCbCr", "RGBX", "HSV"):
        return img.convert("RGB")
    raise ValueError(f"unsupported image mode {mode!r}")


def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Scale so the short side is ``size`` (Lanczos) and crop the centre ``size x size``."""
    w, h = img.size
    if (w, h) == (size, size):
        return img
    side = min(w, h)
    left, top = (w - side) / 2.0, (h - side) / 2.0
    return img.resize((size, size), Image.Resampling.LANCZOS, box=(left, top, left + side, top + side))


def decode_image(src: str | Path | bytes, size: int | None = None) -> np.ndarray:
    """Image file or bytes -> ``(H, W, 3)`` uint8 sRGB; ``size`` resizes + centre-crops to ``size x size``."""
    img = to_rgb(open_image(src, draft_size=size))
    if size is not None:
        img = resize_center_crop(img, size)
    return np.asarray(img, dtype=np.uint8)


def is_near_grey(rgb: np.ndarray, tol: int = 2, channel_axis: int = -1) -> bool:
    """True when no pixel's channels differ by more than ``tol`` (max - min over R, G, B)."""
    a = np.asarray(rgb)
    spread = a.max(axis=channel_axis).astype(np.int16) - a.min(axis=channel_axis).astype(np.int16)
    return int(spread.max(initial=0)) <= tol


def decode_item(job: tuple[bytes, int | None, bool]) -> tuple[str, np.ndarray | None]:
    """Worker: ``(data, size, skip_grey)`` -> ``("ok", hwc)``, ``("near_grey", None)`` or
    ``("corrupt", None)``. Never raises for a bad file."""
    data, size, skip_grey = job
    try:
        rgb = decode_image(data, size)
    except Exception:  # undecodable, truncated, unsupported mode, decompression bomb...
        return "corrupt", None
    if skip_grey and is_near_grey(rgb):
        return "near_grey", None
    return "ok", rgb


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def _pool_worker() -> None:
    """A decoding worker dies quietly on the pool's own SIGTERM (sent when the pool closes) instead of running
    the CLI's handler inherited by the fork, which raises KeyboardInterrupt wherever the worker waits (a
    traceback, and a queue lock that may never be released: the pool's parent then hangs); Ctrl-C is left to
    the parent, which stops the pool."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def decode_many(
    datas: Iterable[bytes], size: int | None, skip_grey: bool, workers: int | None = None, count: int | None = None
) -> Iterator[tuple[str, np.ndarray | None]]:
    """:func:`decode_item` over many encoded images, in input order, with a process pool when
    there are at least :data:`PARALLEL_MIN_ITEMS` of them (``count`` tells how many)."""
    workers = default_workers() if workers is None else workers
    jobs = ((d, size, skip_grey) for d in datas)
    if workers <= 1 or (count is not None and count < PARALLEL_MIN_ITEMS):
        yield from map(decode_item, jobs)
        return
    with multiprocessing.get_context().Pool(workers, initializer=_pool_worker) as pool:
        yield from pool.imap(decode_item, jobs, chunksize=32)
