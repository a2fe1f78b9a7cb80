"""Reading photos in any mode users have, and writing results safely.

:func:`read_picture` turns a path, PIL image or numpy array into the full-resolution
lightness L (float32, [0, 100]) plus what must survive colourization: the alpha channel,
the ICC profile and the EXIF-corrected orientation. 16-bit images keep their precision
in L. L of colour images is computed in row strips, so a 24-megapixel photo never
needs a full-size float RGB copy.

Value rules: integer pictures use their type's range (uint8 0..255, 16-bit 0..65535; PIL
mode ``I`` with no value above 255 is 0..255). Float pictures (numpy float arrays, PIL mode
``F``, float TIFFs) are read as [0, 1] when no value exceeds 1, else as 0..255; values
outside the range are clipped; NaN or infinite values are refused. Only the first frame of
an animated or multi-page file is read (:attr:`Picture.frames` says how many it has).

:data:`FORMATS` is the one table of picture formats tinta reads and writes: ``tinta colorize``
(inputs, ``--format``), the batch planner, the API and ``tinta serve`` (the formats a browser shows,
:data:`WEB_FORMATS`) all look formats up here. Importing this module loads no torch (the
lightness conversion loads it on first use), so the command line can list the formats cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from tinta.errors import TintaError
from tinta.files import atomic_path, not_a_file

STRIP_ROWS = 256


@dataclass(frozen=True)
class Format:
    """A picture format tinta reads and writes."""

    name: str  # its name in tinta serve's answers and the OpenAPI description
    pil: str  # Pillow's name for it
    suffix: str  # the suffix of a file written in it (without --format naming one)
    mime: str
    alpha: bool  # an alpha channel survives it
    web: bool  # a browser shows it: tinta serve answers in it


_PNG = Format("png", "PNG", ".png", "image/png", alpha=True, web=True)
_JPEG = Format("jpeg", "JPEG", ".jpg", "image/jpeg", alpha=False, web=True)
_WEBP = Format("webp", "WEBP", ".webp", "image/webp", alpha=True, web=True)
_TIFF = Format("tiff", "TIFF", ".tif", "image/tiff", alpha=True, web=False)
_BMP = Format("bmp", "BMP", ".bmp", "image/bmp", alpha=False, web=False)
_GIF = Format("gif", "GIF", ".gif", "image/gif", alpha=False, web=False)  # Pillow quantizes GIF output to 256 colours
# every name a user may give (a file suffix without the dot, or --format) -> its format
FORMATS: dict[str, Format] = {"png": _PNG, "jpg": _JPEG, "jpeg": _JPEG, "webp": _WEBP, "tif": _TIFF, "tiff": _TIFF,
                              "bmp": _BMP, "gif": _GIF}
PICTURE_SUFFIXES = frozenset("." + k for k in FORMATS)  # what batches and folders read as pictures
WEB_FORMATS: dict[str, Format] = {f.name: f for f in FORMATS.values() if f.web}  # tinta serve's answers
_PIL_NAMES = {**{f.pil: f for f in FORMATS.values()}, "MPO": _JPEG}  # MPO: Pillow's name for some cameras' JPEGs


def format_of_pil(pil_name: str | None) -> Format | None:
    """The format of a picture Pillow opened (``im.format``), or None for one tinta does not write."""
    return _PIL_NAMES.get(pil_name or "")


def web_format(name: str) -> Format:
    """A format tinta serve answers in, by any of its names (``jpg``, ``JPEG`` ...); TintaError otherwise."""
    fmt = FORMATS.get(name.lower())
    if fmt is None or not fmt.web:
        raise TintaError(f"format must be one of {', '.join(WEB_FORMATS)}, got {name!r}")
    return fmt


@dataclass
class Picture:
    L: np.ndarray  # (H, W) float32, CIE L in [0, 100]
    alpha: np.ndarray | None  # (H, W) uint8, or None
    icc_profile: bytes | None
    mode: str  # the input's PIL mode, for reports
    frames: int = 1  # frames (pages) in the file; only the first is read


def _lightness_from_rgb8(rgb: np.ndarray) -> np.ndarray:
    import torch

    from tinta import color

    H, W, _ = rgb.shape
    L = np.empty((H, W), dtype=np.float32)
    for y in range(0, H, STRIP_ROWS):
        strip = torch.from_numpy(np.array(rgb[y : y + STRIP_ROWS])).permute(2, 0, 1)  # (3, s, W), a copy
        L[y : y + STRIP_ROWS] = color.rgb_to_lab(strip)[0].numpy()
    return L


def float_to_unit(arr: np.ndarray, what: str = "picture") -> np.ndarray:
    """Float pixel values -> float32 in [0, 1]: [0, 1] data as is, data with values above 1 as 0..255."""
    arr = np.asarray(arr, dtype=np.float32)
    if arr.size and not np.isfinite(arr).all():
        raise TintaError(f"the {what} has NaN or infinite pixel values")
    top = 255.0 if arr.size and float(arr.max()) > 1.0 else 1.0
    return np.clip(arr / top, 0.0, 1.0)


def _from_array(arr: np.ndarray) -> Image.Image:
    if arr.size == 0:
        raise TintaError(f"the picture is empty (array of shape {arr.shape})")
    if arr.dtype == bool:
        arr = arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.floating):
        arr = (float_to_unit(arr) * 255).round().astype(np.uint8)
    elif arr.dtype not in (np.uint8, np.uint16):
        raise TintaError(f"numpy images must be uint8, uint16 or float ([0, 1] or 0..255), got {arr.dtype}")
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))):
        raise TintaError(f"numpy images must be (H, W), (H, W, 1), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[..., 0]
    if arr.dtype == np.uint16 and arr.ndim != 2:
        arr = (arr >> 8).astype(np.uint8)
    return Image.fromarray(arr)  # 2-D uint16: mode I;16, precision kept


def _from_path(path: Path) -> Image.Image:
    if not path.is_file():
        raise TintaError(f"{path}: {not_a_file(path)}")
    try:
        im = Image.open(path)
        im.load()
    except Image.DecompressionBombError as e:
        raise TintaError(f"{path}: too many pixels ({e})") from None
    except UnidentifiedImageError:
        raise TintaError(f"{path}: not a readable image (no picture format Pillow knows)") from None
    except (OSError, SyntaxError, ValueError) as e:
        detail = str(e).replace(f"'{path}'", "").replace(str(path), "")  # the path is said once, first
        raise TintaError(f"{path}: not a readable image ({e.__class__.__name__}: {detail})") from None
    return im


def _open(source) -> Image.Image:
    if isinstance(source, Image.Image):
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source)
    return _from_path(Path(source))


def _rgb_profile(icc: bytes | None) -> bytes | None:
    """The ICC profile if it describes RGB data (header bytes 16-19 = 'RGB '); a grey or CMYK
    profile does not describe the sRGB result, so it is dropped."""
    return icc if icc and len(icc) >= 20 and icc[16:20] == b"RGB " else None


def read_picture(source) -> Picture:
    """Path / PIL image / numpy array -> :class:`Picture` (EXIF orientation applied); a Picture is
    returned as it is (a picture read once can start several sessions)."""
    if isinstance(source, Picture):
        return source
    im = _open(source)
    if im.width < 1 or im.height < 1:
        raise TintaError(f"the picture is empty ({im.width}x{im.height} pixels)")
    icc = _rgb_profile(im.info.get("icc_profile"))
    mode, frames = im.mode, int(getattr(im, "n_frames", 1) or 1)
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        pass
    alpha = None
    if mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        alpha = np.asarray(rgba)[..., 3].copy()
        rgb = np.asarray(rgba.convert("RGB"))
        return Picture(_lightness_from_rgb8(rgb), alpha, icc, mode, frames)
    if mode.startswith("I") or mode == "F" or mode in ("L", "1"):
        return Picture(_grey_lightness(im, mode), None, icc, mode, frames)
    return Picture(_lightness_from_rgb8(np.asarray(im.convert("RGB"))), None, icc, mode, frames)


def _grey_lightness(im: Image.Image, mode: str) -> np.ndarray:
    """L of a grey picture; 16/32-bit grey keeps its precision."""
    import torch

    from tinta import color

    if mode.startswith("I") or mode == "F":
        arr = np.asarray(im).astype(np.float32)
        if mode == "F":
            unit = float_to_unit(arr)
        else:
            unit = np.clip(arr / (255.0 if mode == "I" and arr.max(initial=0) <= 255 else 65535.0), 0, 1)
        grey = torch.from_numpy(unit)[None]
    else:
        grey = torch.from_numpy(np.asarray(im.convert("L")).copy())[None]
    return color.grey_to_lightness(grey)[0].numpy().astype(np.float32)


def read_rgb(source, max_side: int | None = None) -> np.ndarray:
    """Path / PIL image / numpy array -> its colours as uint8 ``(H, W, 3)`` (EXIF orientation applied),
    shrunk to a long side of ``max_side`` if larger. Used for reference photos."""
    im = _open(source)
    if im.width < 1 or im.height < 1:
        raise TintaError(f"the picture is empty ({im.width}x{im.height} pixels)")
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        pass
    im = im.convert("RGB")
    if max_side and max(im.size) > max_side:
        im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return np.asarray(im).copy()


def to_pil(rgb8: np.ndarray, pic: Picture) -> Image.Image:
    """The colourized ``(H, W, 3)`` uint8 result as a PIL image with the input's alpha and ICC profile."""
    im = Image.fromarray(rgb8, "RGB")
    if pic.alpha is not None:
        im.putalpha(Image.fromarray(pic.alpha, "L"))
    if pic.icc_profile:
        im.info["icc_profile"] = pic.icc_profile
    return im


def output_format(path: Path, fmt: str | None) -> tuple[str, str]:
    """-> (PIL format, file suffix) from ``--format`` or the path's suffix."""
    key = (fmt or path.suffix.lstrip(".")).lower()
    if key not in FORMATS:
        raise TintaError(f"{path}: unsupported output format {key!r}; use one of {', '.join(FORMATS)}")
    return FORMATS[key].pil, ("." + key if fmt else path.suffix)


def write_picture(rgb8: np.ndarray, alpha: np.ndarray | None, path: Path, pil_format: str,
                  icc_profile: bytes | None = None, quality: int = 95) -> bool:
    """Write ``(H, W, 3)`` uint8 (+ alpha) to ``path`` via a temp name and rename.
    Returns False when the format could not keep the alpha channel (it is dropped)."""
    im = Image.fromarray(rgb8, "RGB")
    kept = True
    if alpha is not None:
        if format_of_pil(pil_format).alpha:
            im.putalpha(Image.fromarray(alpha, "L"))
        else:
            kept = False
    kw: dict = {}
    if icc_profile:
        kw["icc_profile"] = icc_profile
    if pil_format in ("JPEG", "WEBP"):
        kw["quality"] = quality
    with atomic_path(path) as tmp:
        im.save(tmp, format=pil_format, **kw)
    return kept
