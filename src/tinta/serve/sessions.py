"""Pictures kept on the server for quick edits: ``POST /sessions`` reads a photo once; every tweak
(hint, saturation, palette, reference, model, render size) is ``POST /sessions/ID/render`` with the
new settings and no upload, and re-runs only what it must:

- the picture is decoded and its lightness kept once (:class:`Kept`);
- per model and render size, the library's :meth:`tinta.inference.Colorizer.session` keeps the
  render-size input;
- the model's raw output is kept per (model, render size, point hints): a saturation, palette or
  reference change re-runs only the head's decoding and the painting;
- the page asks for a *preview* at the size it shows (long side ``preview``); the full-resolution
  picture is painted only for the download (``GET /sessions/ID/download``, the last settings).

The store is bounded in number (``Limits.sessions``), in memory (``Limits.session_bytes``) and in
lifetime (``Limits.session_ttl`` unused); the least recently used picture is freed first.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from tinta.errors import TintaError
from tinta.imageio import WEB_FORMATS, Picture, read_picture, to_pil
from tinta.inference import Colorizer, check_hints, model_output, paint, render_shape, resolve_render_size
from tinta.serve.limits import Abandoned
from tinta.serve.pictures import (
    Options,
    answer_format,
    encode,
    frames_note,
    kept_exif,
    open_picture,
    result_name,
)

PREVIEW_QUALITY = 90  # JPEG quality of previews (pictures larger than the page shows)
MAX_KEPT_OUTPUT = 64_000_000  # a raw model output larger than this is not kept


@dataclass
class Kept:
    """One photo kept for edits: its upload, its lightness, and what was computed from it."""

    id: str
    name: str
    data: bytes
    fmt: str  # the default output format (the input's, or png)
    width: int
    height: int
    frames: int
    colour: bool  # the upload has colours of its own (they are replaced)
    pic: Picture
    exif: object = None
    used: float = field(default_factory=time.monotonic)
    sessions: dict = field(default_factory=dict)  # (model key, render size) -> tinta.inference.Session
    outputs: OrderedDict = field(default_factory=OrderedDict)  # (model key, render size, hints) -> raw output
    previews: dict = field(default_factory=dict)  # long side -> (L (1, 1, h, w), alpha or None)
    last: tuple | None = None  # (Options, reference bytes, colorizer) of the latest render: for the download
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def nbytes(self) -> int:
        n = len(self.data) + self.pic.L.nbytes + (self.pic.alpha.nbytes if self.pic.alpha is not None else 0)
        n += sum(s.x.nbytes for s in self.sessions.values())
        n += sum(t.nbytes for t in self.outputs.values() if isinstance(t, torch.Tensor))
        n += sum(L.nbytes for L, _ in self.previews.values())
        return n

    def describe(self) -> dict:
        note = frames_note(self.frames)
        if self.colour:
            colour_note = "This photo has colours of its own: tinta keeps its lightness and paints new colours."
            note = f"{note} {colour_note}" if note else colour_note
        return {"id": self.id, "name": self.name, "width": self.width, "height": self.height, "frames": self.frames,
                "partial": self.frames > 1, "colour": self.colour, "format": self.fmt, "note": note}

    def preview(self, side: int) -> tuple[torch.Tensor, np.ndarray | None]:
        """L and alpha at long side ``side`` (area-resized), kept."""
        if side not in self.previews:
            s = side / max(self.width, self.height)
            h, w = max(1, round(self.height * s)), max(1, round(self.width * s))
            L = F.interpolate(torch.from_numpy(self.pic.L)[None, None], size=(h, w), mode="area")
            alpha = None
            if self.pic.alpha is not None:
                alpha = np.asarray(Image.fromarray(self.pic.alpha).resize((w, h), Image.Resampling.BILINEAR))
            if len(self.previews) >= 2:
                self.previews.pop(next(iter(self.previews)))
            self.previews[side] = (L, alpha)
        return self.previews[side]


def _is_colour(im: Image.Image) -> bool:
    """Whether a picture has colour (not just grey stored as RGB), judged on a small copy."""
    if im.mode in ("L", "LA", "1", "I", "I;16", "F", "La"):
        return False
    small = im.convert("RGB")
    small.thumbnail((128, 128))
    a = np.asarray(small).astype(np.int16)
    return bool(np.abs(a[..., 0] - a[..., 1]).mean() + np.abs(a[..., 1] - a[..., 2]).mean() > 2.0)


def read_kept(data: bytes, name: str, max_pixels: int) -> Kept:
    im = open_picture(data, max_pixels)
    fmt = answer_format(im.format)
    frames = int(getattr(im, "n_frames", 1) or 1)
    colour = _is_colour(im)
    pic = read_picture(im)
    exif = kept_exif(im)
    h, w = pic.L.shape
    return Kept(secrets.token_urlsafe(12), name, data, fmt, w, h, frames, colour, pic,
                exif)


class SessionStore:
    """The kept pictures, bounded in number, bytes and idle lifetime (least recently used freed first)."""

    def __init__(self, count: int, max_bytes: int, ttl: float):
        self.count, self.max_bytes, self.ttl = max(1, count), max_bytes, ttl
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self._lock = threading.Lock()
        self.freed = 0

    def __len__(self) -> int:
        return len(self._kept)

    def add(self, kept: Kept) -> None:
        if kept.nbytes > self.max_bytes:
            raise TintaError(f"the picture needs {kept.nbytes / 1e6:,.0f} MB kept; this server keeps at most "
                             f"{self.max_bytes / 1e6:,.0f} MB of pictures (tinta serve --session-mb)")
        with self._lock:
            self._kept[kept.id] = kept
            self._evict(keep=kept.id)

    def get(self, sid: str) -> Kept:
        with self._lock:
            self._evict()
            kept = self._kept.get(sid)
            if kept is None:
                raise KeyError(sid)
            kept.used = time.monotonic()
            self._kept.move_to_end(sid)
            return kept

    def drop(self, sid: str) -> bool:
        with self._lock:
            return self._free(sid)

    def _free(self, sid: str) -> bool:
        kept = self._kept.pop(sid, None)
        if kept is None:
            return False
        kept.sessions.clear()
        kept.outputs.clear()
        kept.previews.clear()
        self.freed += 1
        return True

    def total_bytes(self) -> int:
        return sum(k.nbytes for k in list(self._kept.values()))

    def _evict(self, keep: str | None = None) -> None:
        now = time.monotonic()
        for sid in [s for s, k in self._kept.items() if now - k.used > self.ttl and s != keep]:
            self._free(sid)
        while len(self._kept) > self.count or (len(self._kept) > 1 and self.total_bytes() > self.max_bytes):
            oldest = next(s for s in self._kept if s != keep)
            self._free(oldest)

    def stats(self) -> dict:
        return {"kept": len(self._kept), "kept_mb": round(self.total_bytes() / 1e6), "freed": self.freed}


def _model_key(colorizer) -> tuple:
    return (colorizer.name, id(getattr(colorizer, "model", colorizer)), colorizer.render_size)


def _cached_output(kept: Kept, colorizer: Colorizer, lib, guide) -> torch.Tensor:
    key = (_model_key(colorizer), tuple(guide.hints) if colorizer.takes_hints else ())
    out = kept.outputs.get(key)
    if out is None:
        with torch.no_grad():
            out = model_output(colorizer.model, lib.x, lib.L.shape[-2:], guide)
        if out.nbytes <= MAX_KEPT_OUTPUT:
            kept.outputs[key] = out
            while len(kept.outputs) > 4:
                kept.outputs.popitem(last=False)
    else:
        kept.outputs.move_to_end(key)
    return out


def _small_ab(kept: Kept, colorizer: Colorizer, opts: Options, reference: Image.Image | None) -> torch.Tensor:
    """a,b (or Lab) at render / native size for these settings: the model runs only when its input changed."""
    key = (colorizer.name, id(colorizer.model), colorizer.render_size)
    lib = kept.sessions.get(key)
    if lib is None:
        lib = kept.sessions[key] = colorizer.session(kept.pic)
    guide = colorizer.guide(opts.hints, reference, opts.palette or None)
    check_hints(guide.hints, *lib.size)
    raw = _cached_output(kept, colorizer, lib, guide)
    head = colorizer.head
    with torch.no_grad():
        pred = head.predict(raw, head.main, opts.saturation)
        return guide.apply(pred, lib.x, lib.L.shape[-2:])


def render_cost(kept: Kept, colorizer, preview: int | None) -> tuple[int, int]:
    """(estimated bytes, render pixels) of one render of ``kept``; see :func:`tinta.serve.pictures.cost`."""
    from tinta.serve.pictures import cost

    rh, rw = render_shape(kept.height, kept.width, resolve_render_size(None, colorizer.render_size))
    shown = kept.width * kept.height
    if preview and max(kept.width, kept.height) > preview:
        shown = round(shown * (preview / max(kept.width, kept.height)) ** 2)
    return cost(shown, rh * rw), rh * rw


def render(kept: Kept, opts: Options, colorizer, reference: bytes | None, max_pixels: int, preview: int | None,
           remember: bool, cancelled: threading.Event) -> tuple[bytes, str, str, bool]:
    """One render of a kept picture -> (bytes, media type, result file name, previewed). ``preview``: the
    long side to paint at (None or 0: full resolution); a preview of a larger picture is a JPEG."""
    ref = open_picture(reference, max_pixels, "reference picture") if reference else None
    fmt = opts.format or kept.fmt
    small = preview and max(kept.width, kept.height) > preview
    with kept.lock:
        if cancelled.is_set():
            raise Abandoned("before the model ran")
        if isinstance(colorizer, Colorizer):
            ab = _small_ab(kept, colorizer, opts, ref)
            if cancelled.is_set():
                raise Abandoned("before painting")
            if small:
                L, alpha = kept.preview(preview)
                out = to_pil(paint(L, ab), Picture(L[0, 0].numpy(), alpha, kept.pic.icc_profile, kept.pic.mode))
            else:
                out = to_pil(paint(torch.from_numpy(kept.pic.L)[None, None], ab), kept.pic)
        else:  # a stand-in model (tests): it takes the decoded picture
            out = colorizer(open_picture(kept.data, max_pixels), saturation=opts.saturation, hints=opts.hints,
                            reference=ref, palette=opts.palette or None)
            if small:
                out.thumbnail((preview, preview), Image.Resampling.BILINEAR)
        if remember:
            kept.last = (opts, reference, colorizer)
    if cancelled.is_set():
        raise Abandoned("before encoding")
    if small:
        body = encode(out, "png" if out.mode == "RGBA" else "jpeg")
        return body, "image/png" if out.mode == "RGBA" else "image/jpeg", result_name(opts.name, fmt), True
    return encode(out, fmt, kept.exif), WEB_FORMATS[fmt].mime, result_name(opts.name, fmt), False


def input_preview(kept: Kept, side: int) -> bytes:
    """The picture's lightness as a grey JPEG at long side ``side`` (for inputs a browser cannot show)."""
    L, _ = kept.preview(min(side, max(kept.width, kept.height)))
    grey = paint(L, torch.zeros(1, 2, 1, 1))
    return encode(Image.fromarray(grey, "RGB"), "jpeg")


def suggest(kept: Kept, colorizer, opts: Options, x: int, y: int, count: int, cancelled: threading.Event) -> list:
    """The few most likely colours of picture pixel (x, y) -> [{"color": "#rrggbb", "share": p or None}]: the top
    bins of the model's a,b distribution there (bins far apart), or its one predicted colour (regression heads);
    shown at the pixel's lightness, kept within 35..85 so a swatch is never black or white (a hint uses only
    the colour's a,b)."""
    from tinta import color

    if not isinstance(colorizer, Colorizer):
        raise TintaError(f"model {colorizer.name or '?'} gives no colour suggestions")
    if not (0 <= x < kept.width and 0 <= y < kept.height):
        raise TintaError(f"({x}, {y}) is outside the {kept.width}x{kept.height} picture")
    with kept.lock:
        key = (colorizer.name, id(colorizer.model), colorizer.render_size)
        lib = kept.sessions.get(key) or kept.sessions.setdefault(key, colorizer.session(kept.pic))
        guide = colorizer.guide(opts.hints, None, None)
        raw = _cached_output(kept, colorizer, lib, guide)
    if cancelled.is_set():
        raise Abandoned("before the suggestions")
    h, w = raw.shape[-2:]
    oy, ox = min(h - 1, int(y * h / kept.height)), min(w - 1, int(x * w / kept.width))
    light = float(np.clip(kept.pic.L[y, x], 35.0, 85.0))
    dist = colorizer.head.colour_distribution(raw)  # None: the head predicts one colour
    picks: list[tuple[torch.Tensor, float | None]] = []
    if dist is None:
        with torch.no_grad():
            ab = colorizer.head.predict(raw, colorizer.head.main, 1.0)[0, :2, oy, ox]
        picks.append((ab, None))
    else:
        logits, centres = dist
        p = torch.softmax(logits[0, :, oy, ox].float(), 0)
        heads, shares = [], []  # greedy clustering: each bin joins the likeliest pick within 15 a,b units
        for i in torch.argsort(p, descending=True).tolist():
            ab = centres[i].float()
            near = next((j for j, q in enumerate(heads) if torch.dist(ab, q) < 15.0), None)
            if near is not None:
                shares[near] += float(p[i])
            elif len(heads) < count:
                heads.append(ab)
                shares.append(float(p[i]))
        order = sorted(range(len(heads)), key=lambda j: -shares[j])
        picks = [(heads[j], shares[j]) for j in order if shares[j] >= 0.02] or [(heads[order[0]], shares[order[0]])]
    out = []
    for ab, share in picks:
        lab = torch.tensor([light, float(ab[0]), float(ab[1])]).view(1, 3, 1, 1)
        r, g, b = color.lab_to_rgb8(lab)[0, :, 0, 0].tolist()
        out.append({"color": f"#{r:02x}{g:02x}{b:02x}", "share": None if share is None else round(share, 3)})
    return out
