"""Running a colourization model on pictures of any size: the one decode path.

The model sees a resized copy of the lightness (its *render size*), the head turns the
output into a,b, and the a,b are upsampled to full resolution and joined with the
full-resolution L, so no detail of the input is lost: only chroma, which the eye
resolves coarsely, comes from the smaller render. ``tinta colorize``, the Python API,
``tinta serve``, ONNX, ``tinta evaluate`` / ``compare`` and training validation all use
:func:`predict_ab` and :func:`upsample_ab`.

Render size, everywhere: ``None`` = the model's own (the short side it trained at),
``0`` = the full picture, ``N`` = short side N. The rendered picture is bounded
(long side <= ``MAX_RENDER_SIDE``, area <= ``MAX_RENDER_PIXELS``), so a thin or huge
picture costs no more than a normal photo.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tinta import color
from tinta.errors import TintaError
from tinta.heads import Decoding, Head, check_saturation
from tinta.imageio import STRIP_ROWS, read_picture, to_pil
from tinta.pretrained import load_pretrained, registry
from tinta.runs import load_run

MIN_RENDER_SIZE, MAX_RENDER_SIZE = 16, 2048  # allowed --render-size values (besides 0)
MIN_RENDER_SIDE = 16  # every model runs on 16 pixels and more (thinner pictures are stretched for the model)
MAX_RENDER_SIDE = 2048
MAX_RENDER_PIXELS = 4_000_000


def check_render_size(render_size: int | None) -> int | None:
    """None (the model's own), 0 (full picture) or an int in [MIN_RENDER_SIZE, MAX_RENDER_SIZE]."""
    if render_size is None or render_size == 0:
        return render_size
    if isinstance(render_size, bool) or not isinstance(render_size, (int, np.integer)) or not (
            MIN_RENDER_SIZE <= render_size <= MAX_RENDER_SIZE):
        raise TintaError(f"render size must be 0 (the full picture) or between {MIN_RENDER_SIZE} and "
                         f"{MAX_RENDER_SIZE}, got {render_size!r}")
    return int(render_size)


def render_shape(h: int, w: int, render_size: int | None) -> tuple[int, int]:
    """(h, w) scaled so the short side is ``render_size`` (0 / None: unscaled), then bounded to a
    long side of ``MAX_RENDER_SIDE`` and ``MAX_RENDER_PIXELS``, each side at least ``MIN_RENDER_SIDE``
    (a thin picture is stretched for the model; its a,b are resized back); even sides when rescaled."""
    if h < 1 or w < 1:
        raise TintaError(f"the picture is empty ({w}x{h} pixels)")
    s = render_size / min(h, w) if render_size else 1.0
    s = min(s, MAX_RENDER_SIDE / max(h, w), math.sqrt(MAX_RENDER_PIXELS / (h * w)))
    unscaled = s == 1.0 or (render_size and min(h, w) == render_size and max(h, w) <= MAX_RENDER_SIDE
                            and h * w <= MAX_RENDER_PIXELS)
    if unscaled and min(h, w) >= MIN_RENDER_SIDE:
        return h, w
    even = lambda v: max(MIN_RENDER_SIDE, round(v * s / 2) * 2)  # noqa: E731
    return even(h), even(w)


def set_native_output(model, head: Head) -> None:
    """Heads decoded at the model's own output resolution get it un-upsampled (LAB models
    predict at H/2 and upsample their output by default); other models are left as they are."""
    if hasattr(model, "upsample_output"):
        model.upsample_output = not head.native_resolution


def render_input(L: torch.Tensor, render_size: int | None) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] -> the model's input ``(B, 1, h, w)``: L/100 resized to the render
    shape (``render_size`` 0 or None here: the picture's own size, bounded)."""
    H, W = L.shape[-2:]
    x = color.normalize_l(L)
    rh, rw = render_shape(H, W, render_size)
    if (rh, rw) != (H, W):
        x = F.interpolate(x, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
    return x


@torch.no_grad()
def predict_ab(model, head: Head, L: torch.Tensor, render_size: int | None, decoding: Decoding | None = None,
               saturation: float = 1.0) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] -> a,b ``(B, 2, h, w)`` (or Lab ``(B, 3, h, w)`` for a decoding with
    its own lightness) at the render size or the model's native output size. Call
    :func:`set_native_output` on the model first."""
    return head.predict(model(render_input(L, render_size)), decoding or head.main, saturation)


def upsample_ab(pred: torch.Tensor, L: torch.Tensor) -> torch.Tensor:
    """Prediction from :func:`predict_ab` -> sRGB float ``(B, 3, H, W)`` at L's size (whole batch)."""
    H, W = L.shape[-2:]
    if pred.shape[-2:] != (H, W):
        pred = F.interpolate(pred, size=(H, W), mode="bilinear", align_corners=False)
    lab = pred if pred.shape[1] == 3 else color.join_lab(L, pred)
    return color.lab_to_rgb(lab)


def upsample_rows(small: torch.Tensor, H: int, W: int, y0: int, y1: int) -> torch.Tensor:
    """Rows ``y0:y1`` of ``small`` ``(1, C, h, w)`` bilinearly upsampled to ``(H, W)``:
    the same values as ``F.interpolate(small, (H, W), mode="bilinear")`` but only the
    strip is ever materialised (align_corners=False, edges clamped)."""
    ys = (torch.arange(y0, y1, dtype=torch.float32) + 0.5) / H * 2 - 1  # (s,)
    xs = (torch.arange(W, dtype=torch.float32) + 0.5) / W * 2 - 1  # (W,)
    grid = torch.stack(torch.meshgrid(ys, xs, indexing="ij")[::-1], dim=-1)[None]  # (1, s, W, 2) as (x, y)
    return F.grid_sample(small, grid.to(small.dtype), mode="bilinear", padding_mode="border", align_corners=False)


class Colorizer:
    """A loaded model, ready for pictures of any size: ``Colorizer(...)(image) -> PIL.Image``.

    ``render_size`` is the short side the model sees (0 or None: the full picture, bounded).
    """

    def __init__(self, model, head: Head, render_size: int | None = 224, name: str = ""):
        self.model, self.head, self.name = model.eval(), head, name
        self.render_size = check_render_size(render_size)
        set_native_output(self.model, head)

    def predict_small(self, L: torch.Tensor, saturation: float = 1.0) -> torch.Tensor:
        """L ``(1, 1, H, W)`` -> a,b (or Lab) ``(1, C, h, w)`` at render / native size."""
        return predict_ab(self.model, self.head, L, self.render_size, self.head.main, check_saturation(saturation))

    @torch.no_grad()
    def colorize_lightness(self, L: np.ndarray, saturation: float = 1.0) -> np.ndarray:
        """Full-resolution L ``(H, W)`` float32 -> sRGB uint8 ``(H, W, 3)``, in row strips."""
        H, W = L.shape
        Lt = torch.from_numpy(L)[None, None]  # (1, 1, H, W)
        small = self.predict_small(Lt, saturation)  # (1, 2 or 3, h, w)
        out = np.empty((H, W, 3), dtype=np.uint8)
        for y in range(0, H, STRIP_ROWS):
            y1 = min(H, y + STRIP_ROWS)
            up = upsample_rows(small, H, W, y, y1)  # (1, C, s, W)
            lab = up if up.shape[1] == 3 else torch.cat([Lt[:, :, y:y1], up], dim=1)  # (1, 3, s, W)
            out[y:y1] = color.rgb_to_uint8(color.lab_to_rgb(lab))[0].permute(1, 2, 0).numpy()
        return out

    def __call__(self, image, saturation: float = 1.0):
        """Path / PIL image / numpy array -> colour PIL image (alpha and ICC profile kept when present)."""
        pic = read_picture(image)
        return to_pil(self.colorize_lightness(pic.L, saturation), pic)


def load_model(name_or_path: str = "default", render_size: int | None = None) -> Colorizer:
    """A :class:`Colorizer` from a shipped weight name (``tinta models``) or a run folder.
    ``render_size`` None uses the model's own (shipped weights record theirs; runs: the size they trained at)."""
    render_size = check_render_size(render_size)
    if Path(name_or_path).is_dir():
        model, head, info = load_run(name_or_path)
        native = info.native_size
        return Colorizer(model, head, native if render_size is None else render_size, str(name_or_path))
    if name_or_path not in registry() and ("/" in name_or_path or name_or_path.startswith(".")):
        raise TintaError(f"{name_or_path}: no such run folder")
    model, head, entry = load_pretrained(name_or_path)
    return Colorizer(model, head, entry.render_size if render_size is None else render_size, name_or_path)


_LOADED: OrderedDict[tuple, Colorizer] = OrderedDict()
_KEEP = 4  # models kept loaded by colorize()


def _cache_key(name: str, render_size: int | None) -> tuple:
    best = Path(name) / "best.safetensors"
    stamp = best.stat().st_mtime_ns if best.is_file() else None  # a retrained run folder is reloaded
    return name, render_size, stamp


def cached_model(name: str, render_size: int | None = None) -> Colorizer:
    """:func:`load_model`, remembered: the last few models stay loaded (weights verified once)."""
    key = _cache_key(name, check_render_size(render_size))
    if key in _LOADED:
        _LOADED.move_to_end(key)
    else:
        _LOADED[key] = load_model(name, render_size)
        while len(_LOADED) > _KEEP:
            _LOADED.popitem(last=False)
    return _LOADED[key]


def colorize(image, model: str | Colorizer = "default", saturation: float = 1.0, render_size: int | None = None):
    """Colourize one picture (path, PIL image or numpy array) -> PIL image. Models named by string
    are loaded once and kept, so a loop of calls costs what a kept :class:`Colorizer` costs."""
    colorizer = model if isinstance(model, Colorizer) else cached_model(model, render_size)
    return colorizer(image, saturation=check_saturation(saturation))
