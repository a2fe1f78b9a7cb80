"""Running a colourization model on pictures of any size: the one decode path.

The model sees a resized copy of the lightness (its *render size*), the head turns the
output into a,b, and the a,b are upsampled to full resolution and joined with the
full-resolution L, so no detail of the input is lost: only chroma, which the eye
resolves coarsely, comes from the smaller render. ``tinta colorize``, the Python API,
``tinta serve``, ONNX, ``tinta evaluate`` / ``compare`` and training validation all use
:func:`predict_ab` and :func:`upsample_ab`.

Render size, everywhere (the CLI, the API, ``tinta serve``, evaluation): ``None`` = the model's own
(the short side it trained at, as its run folder, shipped weights, ONNX file or loaded
:class:`Colorizer` records it; a model that records none: the full picture), ``0`` = the full
picture, ``N`` = short side N. :func:`resolve_render_size` is the one place the rule is applied;
below it (:func:`render_shape`, :func:`render_input`, ``Colorizer.render_size``) a render size is
always resolved: an int, 0 for the full picture. The rendered picture is bounded (long side <=
``MAX_RENDER_SIDE``, area <= ``MAX_RENDER_PIXELS``), so a thin or huge picture costs no more than a
normal photo.
"""

from __future__ import annotations

import copy
import math
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tinta import color
from tinta.errors import TintaError
from tinta.heads import Decoding, Head, check_saturation
from tinta.hints import (
    Hint,
    ab_histogram,
    as_hints,
    check_hints,
    hint_planes,
    palette_ab,
    propagate_hints,
    rgb8_ab,
    transfer_ab_stats,
)
from tinta.imageio import STRIP_ROWS, read_picture, read_rgb, to_pil
from tinta.models import ColorizationModel
from tinta.pretrained import load_pretrained, registry
from tinta.runs import load_run

MIN_RENDER_SIZE, MAX_RENDER_SIZE = 16, 2048  # allowed --render-size values (besides 0)
MIN_RENDER_SIDE = 16  # every model runs on 16 pixels and more (thinner pictures are stretched for the model)
MAX_RENDER_SIDE = 2048
MAX_RENDER_PIXELS = 4_000_000
REFERENCE_SIDE = 256  # a reference photo's colours are read from a copy this big (long side)


def check_render_size(render_size: int | None) -> int | None:
    """None (the model's own), 0 (full picture) or an int in [MIN_RENDER_SIZE, MAX_RENDER_SIZE]."""
    if render_size is None or render_size == 0:
        return render_size
    if isinstance(render_size, bool) or not isinstance(render_size, (int, np.integer)) or not (
            MIN_RENDER_SIZE <= render_size <= MAX_RENDER_SIZE):
        raise TintaError(f"render size must be 0 (the full picture) or between {MIN_RENDER_SIZE} and "
                         f"{MAX_RENDER_SIZE}, got {render_size!r}")
    return int(render_size)


def resolve_render_size(render_size: int | None, own: int | None) -> int:
    """The one render-size rule: ``render_size`` checked; None -> ``own`` (the model's own, as it records it:
    taken as it is, a run trained on 12-pixel pictures renders at 12, bounded by :func:`render_shape`);
    a model that records none, and 0 -> 0 (the full picture). -> the resolved render size."""
    render_size = check_render_size(render_size)
    return (own or 0) if render_size is None else render_size


def render_shape(h: int, w: int, render_size: int) -> tuple[int, int]:
    """(h, w) scaled so the short side is the resolved ``render_size`` (0: unscaled), then bounded to a
    long side of ``MAX_RENDER_SIDE`` and ``MAX_RENDER_PIXELS``, each side at least ``MIN_RENDER_SIDE``
    (a thin picture is stretched for the model; its a,b are resized back); even sides when rescaled."""
    if render_size is None:
        raise TypeError("render_shape takes a resolved render size (resolve_render_size; 0: the full picture)")
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


def takes_hints(model) -> bool:
    """Whether ``model`` takes point and global hints beside L (see :mod:`tinta.hints`): what a
    :class:`~tinta.models.ColorizationModel` declares. The API also runs any other ``nn.Module``
    (a wrapper, a test double); such a module takes hints when it sets the same attribute."""
    return model.takes_hints if isinstance(model, ColorizationModel) else bool(getattr(model, "takes_hints", False))


@dataclass
class Guide:
    """What the user says about the colours: point hints, and a reference photo's or palette's colours
    (as a,b samples ``ref_ab`` ``(1, 2, h, w)``). They are applied by moving the result's a,b statistics
    onto them (:func:`tinta.hints.transfer_ab_stats`), or, with ``learned_global``, given to a hint-taking
    model as its learned histogram input (it measured worse; see ``benchmarks/reference_colours.py``).
    With ``propagate``, the point hints' residuals are also spread along lightness onto the model's a,b
    (:func:`tinta.hints.propagate_hints`), so each hint's colour lands where it was put."""

    hints: list[Hint] = field(default_factory=list)
    ref_ab: torch.Tensor | None = None
    learned_global: bool = False
    propagate: bool = True

    def global_hint(self) -> torch.Tensor | None:
        return None if self.ref_ab is None else ab_histogram(self.ref_ab)

    def apply(self, pred: torch.Tensor, x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """The head's a,b ``(B, 2, h, w)`` after the training-free steps: statistics transfer (when the
        model did not read the global colours) and hint propagation, with L/100 ``x`` (render size)."""
        if pred.shape[1] != 2:
            return pred
        if self.ref_ab is not None and not self.learned_global:
            pred = transfer_ab_stats(pred, self.ref_ab)
        if self.hints and self.propagate:
            L = F.interpolate(x[:, :1], size=pred.shape[-2:], mode="area") * color.L_SCALE
            pred = torch.cat([propagate_hints(p[None], lum[None], self.hints, size) for p, lum in zip(pred, L)])
        return pred


def reference_ab(reference=None, palette=None) -> torch.Tensor | None:
    """A reference picture (path / PIL / array) or a palette (colours) -> a,b samples ``(1, 2, h, w)``."""
    if reference is not None and palette is not None:
        raise TintaError("give a reference picture or a palette, not both")
    if reference is not None:
        return rgb8_ab(torch.from_numpy(read_rgb(reference, max_side=REFERENCE_SIDE)))
    return None if palette is None else palette_ab(palette)


def set_native_output(model, head: Head) -> None:
    """Heads decoded at the model's own output resolution get it un-upsampled (LAB models
    predict at H/2 and upsample their output by default); modules that are not a
    :class:`~tinta.models.ColorizationModel` are left as they are."""
    if isinstance(model, ColorizationModel):
        model.upsample_output = not head.native_resolution


def set_decoding_output(model, head: Head) -> None:
    """:func:`set_native_output`, and the colour classes of a head that decodes them at stride 2 computed from
    2x2-pooled features (:attr:`Head.pooled_channels`): the same colours for a quarter of the output layer's
    and the decoding's work. The model then returns a :class:`~tinta.models.base.PooledOutput` in eval mode."""
    set_native_output(model, head)
    if isinstance(model, ColorizationModel):
        model.eval_pooled = head.pooled_channels if model.pools_output else None


def render_input(L: torch.Tensor, render_size: int) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] -> the model's input ``(B, 1, h, w)``: L/100 resized to the render
    shape (the resolved ``render_size``; 0: the picture's own size, bounded)."""
    H, W = L.shape[-2:]
    x = color.normalize_l(L)
    rh, rw = render_shape(H, W, render_size)
    if (rh, rw) != (H, W):
        x = F.interpolate(x, size=(rh, rw), mode="bilinear", antialias=True, align_corners=False)
    return x


@torch.no_grad()
def predict_ab(model, head: Head, L: torch.Tensor, render_size: int, decoding: Decoding | None = None,
               saturation: float = 1.0, guide: Guide | None = None) -> torch.Tensor:
    """L ``(B, 1, H, W)`` in [0, 100] -> a,b ``(B, 2, h, w)`` (or Lab ``(B, 3, h, w)`` for a decoding with
    its own lightness) at the render size or the model's native output size, following the hints of
    ``guide`` if any. Call :func:`set_native_output` on the model first."""
    return predict_from_input(model, head, render_input(L, render_size), L.shape[-2:], decoding, saturation, guide)


@torch.no_grad()
def predict_from_input(model, head: Head, x: torch.Tensor, size: tuple[int, int], decoding: Decoding | None = None,
                       saturation: float = 1.0, guide: Guide | None = None) -> torch.Tensor:
    """:func:`predict_ab` from the render-size input ``x`` (:func:`render_input`) of a picture of ``size``."""
    guide = guide or Guide()
    pred = head.predict(model_output(model, x, size, guide), decoding or head.main, saturation)
    return guide.apply(pred, x, size)


def model_output(model, x: torch.Tensor, size: tuple[int, int], guide: Guide | None = None) -> torch.Tensor:
    """The model's raw output for render-size input ``x`` ``(B, 1, h, w)`` of pictures of ``size``: a
    hint-taking model also gets the guide's hint planes (none: zeros) and learned global hint."""
    guide = guide or Guide()
    if takes_hints(model):
        g = guide.global_hint() if guide.learned_global else None
        x = torch.cat([x, hint_planes(guide.hints, size, x.shape[-2:]).expand(len(x), -1, -1, -1)], 1)
        return model(x, g)
    if guide.hints:
        raise TintaError("this model takes no point hints; use a hint-taking model (--model guided)")
    return model(x)


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

    ``render_size`` is the short side the model sees (0: the full picture, bounded; None: the model's
    own, which a bare model does not record: the full picture); ``Colorizer.render_size`` holds it
    resolved, and :meth:`at_render_size` gives the same model at another. Hints (``hints``, ``reference``,
    ``palette``; see :mod:`tinta.hints`) steer the colours; :meth:`session` keeps one picture ready for
    quick re-colouring as hints change.
    """

    def __init__(self, model, head: Head, render_size: int | None = 224, name: str = ""):
        self.model, self.head, self.name = model.eval(), head, name
        self.render_size = resolve_render_size(render_size, None)
        set_decoding_output(self.model, head)

    def at_render_size(self, render_size: int | None) -> Colorizer:
        """This model at ``render_size`` (None: its own, so itself): a light copy sharing the weights."""
        size = resolve_render_size(render_size, self.render_size)
        if size == self.render_size:
            return self
        view = copy.copy(self)
        view.render_size = size
        return view

    @property
    def takes_hints(self) -> bool:
        return takes_hints(self.model)

    def guide(self, hints=None, reference=None, palette=None) -> Guide:
        """Hints in any form :func:`tinta.hints.as_hint` takes, a reference picture or a palette -> a Guide."""
        hints = as_hints(hints)
        if hints and not self.takes_hints:
            raise TintaError(f"model {self.name or '?'} takes no point hints; use a hint-taking model "
                             "such as guided, or a reference photo or palette")
        # global colours by statistics transfer, for every model: on 300 pairs of similar Imagenette val photos it
        # brings the result's mean a,b within 0.85 of the reference's, the guided model's learned histogram input
        # within 7.7 (automatic: 10.6); python benchmarks/reference_colours.py
        return Guide(hints, reference_ab(reference, palette), learned_global=False)

    def predict_small(self, L: torch.Tensor, saturation: float = 1.0, guide: Guide | None = None) -> torch.Tensor:
        """L ``(1, 1, H, W)`` -> a,b (or Lab) ``(1, C, h, w)`` at render / native size."""
        return predict_ab(self.model, self.head, L, self.render_size, self.head.main, check_saturation(saturation),
                          guide)

    @torch.no_grad()
    def colorize_lightness(self, L: np.ndarray, saturation: float = 1.0, guide: Guide | None = None) -> np.ndarray:
        """Full-resolution L ``(H, W)`` float32 -> sRGB uint8 ``(H, W, 3)``, in row strips."""
        Lt = torch.from_numpy(L)[None, None]  # (1, 1, H, W)
        return paint(Lt, self.predict_small(Lt, saturation, guide))

    def __call__(self, image, saturation: float = 1.0, hints=None, reference=None, palette=None):
        """Path / PIL image / numpy array -> colour PIL image (alpha and ICC profile kept when present).
        ``hints``: point hints ``[(x, y, (r, g, b)), ...]`` in the picture's pixels (after EXIF rotation);
        ``reference``: a picture whose colours to follow; ``palette``: colours ``[(r, g, b), ...]``."""
        guide = self.guide(hints, reference, palette)
        pic = read_picture(image)
        check_hints(guide.hints, pic.L.shape[1], pic.L.shape[0])
        return to_pil(self.colorize_lightness(pic.L, saturation, guide), pic)

    def session(self, image) -> Session:
        """One picture kept ready: ``session.render(hints=...)`` re-runs only the model and the painting."""
        return Session(self, image)


@torch.no_grad()
def paint(L: torch.Tensor, small: torch.Tensor) -> np.ndarray:
    """Full-resolution L ``(1, 1, H, W)`` and a,b (or Lab) ``(1, C, h, w)`` -> sRGB uint8 ``(H, W, 3)``,
    upsampled and converted in row strips (memory bounded by the strip, whatever the picture's size)."""
    H, W = L.shape[-2:]
    out = np.empty((H, W, 3), dtype=np.uint8)
    for y in range(0, H, STRIP_ROWS):
        y1 = min(H, y + STRIP_ROWS)
        up = upsample_rows(small, H, W, y, y1)  # (1, C, s, W)
        lab = up if up.shape[1] == 3 else torch.cat([L[:, :, y:y1], up], dim=1)  # (1, 3, s, W)
        out[y:y1] = color.lab_to_rgb8(lab)[0].permute(1, 2, 0).numpy()
    return out


class Session:
    """A picture read once and kept at full and render resolution, for re-colouring it as hints change
    (an interactive editor): each :meth:`render` runs the model on the kept render-size input and
    paints the full-resolution result; reading, decoding and resizing the picture are not repeated."""

    def __init__(self, colorizer: Colorizer, image):
        self.colorizer, self.pic = colorizer, read_picture(image)
        self.L = torch.from_numpy(self.pic.L)[None, None]  # (1, 1, H, W)
        self.x = render_input(self.L, colorizer.render_size)  # (1, 1, h, w)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the picture, the frame of the hints' coordinates."""
        return self.L.shape[-1], self.L.shape[-2]

    def predict_small(self, saturation: float = 1.0, guide: Guide | None = None) -> torch.Tensor:
        c = self.colorizer
        check_hints((guide or Guide()).hints, *self.size)
        return predict_from_input(c.model, c.head, self.x, self.L.shape[-2:], c.head.main,
                                  check_saturation(saturation), guide)

    def render(self, hints=None, reference=None, palette=None, saturation: float = 1.0):
        """The picture coloured with these hints -> PIL image (as :meth:`Colorizer.__call__` gives)."""
        guide = self.colorizer.guide(hints, reference, palette)
        return to_pil(paint(self.L, self.predict_small(saturation, guide)), self.pic)


def load_model(name_or_path: str = "default", render_size: int | None = None) -> Colorizer:
    """A :class:`Colorizer` from a shipped weight name (``tinta models``) or a run folder.
    ``render_size`` None uses the model's own (shipped weights record theirs; runs: the size they trained at)."""
    render_size = check_render_size(render_size)
    if Path(name_or_path).is_dir():
        model, head, info = load_run(name_or_path)
        return Colorizer(model, head, resolve_render_size(render_size, info.native_size), str(name_or_path))
    if name_or_path not in registry() and ("/" in name_or_path or name_or_path.startswith(".")):
        why = "is not a folder; give a run folder" if os.path.lexists(name_or_path) else "no such run folder"
        raise TintaError(f"{name_or_path}: {why}")
    model, head, entry = load_pretrained(name_or_path)
    return Colorizer(model, head, resolve_render_size(render_size, entry.render_size), name_or_path)


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


def colorize(image, model: str | Colorizer = "default", saturation: float = 1.0, render_size: int | None = None,
             hints=None, reference=None, palette=None):
    """Colourize one picture (path, PIL image or numpy array) -> PIL image. Models named by string
    are loaded once and kept, so a loop of calls costs what a kept :class:`Colorizer` costs.
    ``hints=[(x, y, (r, g, b)), ...]`` (pixels of the picture; needs a hint-taking model such as
    ``guided``), ``reference`` (a picture) or ``palette`` (colours) steer the colours. ``render_size``
    applies to a loaded :class:`Colorizer` too (None: the model's own)."""
    colorizer = model.at_render_size(render_size) if isinstance(model, Colorizer) else cached_model(model, render_size)
    return colorizer(image, check_saturation(saturation), hints, reference, palette)
