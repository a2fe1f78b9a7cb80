"""Pictures over HTTP: the request's options, reading the upload, colourizing it, and writing the
result in the asked format (default: the input's) with its EXIF (date taken ...) and ICC profile."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import re
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import quote

from PIL import Image, UnidentifiedImageError

from tinta.errors import TintaError
from tinta.heads import check_saturation
from tinta.hints import MAX_HINTS, Hint, as_hints, parse_palette
from tinta.imageio import WEB_FORMATS, format_of_pil, web_format
from tinta.inference import check_render_size, render_shape
from tinta.serve.limits import Abandoned

SAVE_OPTIONS = {"JPEG": {"quality": 92}, "WEBP": {"quality": 90, "method": 3}, "PNG": {"compress_level": 1}}


def _render_size(text: str | None) -> int | None:
    if text in (None, "", "auto", "model"):
        return None
    try:
        value = int(text)
    except ValueError:
        raise TintaError(f"render size must be a whole number (0: the full picture), got {text!r}") from None
    return check_render_size(value)


def _format(text: str | None) -> str | None:
    return web_format(text).name if text else None


def _hints(text: str | None) -> list:
    if not text:
        return []
    try:
        items = json.loads(text)
    except ValueError:
        raise TintaError('hints must be a JSON list like [{"x": 120, "y": 80, "color": "#c03020"}]') from None
    if not isinstance(items, list) or len(items) > MAX_HINTS:
        raise TintaError(f"hints must be a JSON list of at most {MAX_HINTS} points")
    return as_hints(items)


def _palette(text: str | None) -> list:
    """The CLI's rule (:func:`tinta.hints.parse_palette`): no field or an empty one is no palette;
    anything else must hold at least one colour (an all-commas palette is refused, not ignored)."""
    return parse_palette(text) if text else []


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_NAME = 255


def check_name(name: str) -> str:
    """A file name a header can carry: no control characters (CR/LF would split the header), at most
    ``MAX_NAME`` characters. Checked before any work, so a bad name costs nothing but a 400."""
    if _CONTROL.search(name):
        raise TintaError(f"the name {name!r} holds control characters (line breaks, tabs ...); give a plain file name")
    if len(name) > MAX_NAME:
        raise TintaError(f"the name is {len(name)} characters; at most {MAX_NAME}")
    return name


def _model(text: str) -> str | None:
    return text or None


def _field(parse, schema: str, text: str, **default):
    """A request option: ``parse`` turns the field's text into its value, ``schema`` is its OpenAPI type."""
    return field(**default, metadata={"help": text, "parse": parse, "schema": schema})


@dataclass(frozen=True)
class Options:
    """What a request asks for (query string or form fields; the form wins). Each field's metadata is the one
    description of the option: its parser (:func:`parse_options`) and its OpenAPI entry (:mod:`.openapi`)."""

    model: str | None = _field(_model, "string", "model name (GET /models); default: the server's --model",
                               default=None)
    saturation: float = _field(check_saturation, "number", "0 = grey, 1 = as predicted (default), up to 4 = more "
                               "vivid", default=1.0)
    render_size: int | None = _field(_render_size, "integer", "short side the model sees; 0 = the whole picture "
                                     "(bounded); default: the model's own", default=None)
    format: str | None = _field(_format, "string", f"{', '.join(WEB_FORMATS)} (a fast PNG); default: the input's "
                                "format (PNG for others)", default=None)
    name: str = _field(check_name, "string", "file name for the result (raw uploads); default: the upload's name",
                       default="picture")
    hints: list[Hint] = _field(_hints, "string", 'JSON list of point hints in picture pixels: [{"x": 120, "y": 80, '
                               '"color": "#c03020"}] (models that take hints)', default_factory=list)
    palette: list = _field(_palette, "string", "colours the result should use: #c03020,#2050a0 (any model; not "
                           "with a reference)", default_factory=list)  # [(r, g, b)]


def parse_options(fields, name: str | None = None) -> Options:
    """Options from a mapping of field -> text (query parameters and form fields): each given field read by
    its own parser, an absent one its default; no (or an empty) ``name`` is the upload's ``name``."""
    given = {**fields, "name": fields.get("name") or name or "picture"}
    return Options(**{f.name: f.metadata["parse"](given[f.name]) for f in dataclasses.fields(Options)
                      if f.name in given})


def answer_format(pil_name: str | None) -> str:
    """The format of the answer to a picture Pillow read as ``pil_name``: its own where a browser shows
    it, else PNG (the request's ``format`` overrides it)."""
    fmt = format_of_pil(pil_name)
    return fmt.name if fmt is not None and fmt.web else "png"


# Memory one colourization takes, estimated (peak RSS over the idle server, the `default` model on the 2-core
# x86_64 CPU, a 4000x3000 grey JPEG: +250 MB at its own render size (112), +1.5 GB at render size 1024):
# about 21 bytes per picture pixel (decoding, lightness, painting, encoding) and 900 per rendered pixel
# (the model's activations and its 251-bin head).
PICTURE_BYTES_PER_PIXEL = 25
RENDER_BYTES_PER_PIXEL = 1000


def cost(picture_pixels: int, render_pixels: int) -> int:
    """Estimated bytes one colourization takes (counted against the server's memory budget)."""
    return PICTURE_BYTES_PER_PIXEL * picture_pixels + RENDER_BYTES_PER_PIXEL * render_pixels


def capped_render_size(height: int, width: int, render_size: int, cap: int) -> tuple[int, bool]:
    """The resolved ``render_size`` (0: the whole picture) lowered so the model sees at most ``cap`` pixels
    -> (render size, whether it was lowered)."""
    rh, rw = render_shape(height, width, render_size)
    if rh * rw <= cap:
        return render_size, False
    short = max(16, int(min(height, width) * math.sqrt(cap / (height * width))))
    while short > 16 and math.prod(render_shape(height, width, short)) > cap:
        short -= 2
    return min(short, 2048), True


def frames_note(frames: int) -> str:
    """What the CLI says of a multi-frame input (it reports it as partial and exits 1)."""
    return f"only the first of its {frames} frames (pages) was colourized" if frames > 1 else ""


def picture_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the file's header, without decoding it; None when it is no picture."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except Exception:
        return None


def open_picture(data: bytes, max_pixels: int, what: str = "picture") -> Image.Image:
    """Upload bytes -> a loaded PIL image (its ``format`` kept), refusing what is no picture or too large."""
    if not data:
        raise TintaError(f"no {what} in the request (send the file as the body, or as the form field 'file')")
    try:
        im = Image.open(io.BytesIO(data))
        if im.width * im.height > max_pixels:
            raise TintaError(f"the {what} is {im.width}x{im.height}; this server takes at most {max_pixels:,} pixels "
                             "(tinta serve --max-megapixels raises it)")
        im.load()
    except UnidentifiedImageError:
        raise TintaError(f"the {what} is not a readable image (unrecognised or damaged file)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise TintaError(f"the {what} is not a readable image ({e.__class__.__name__}: {e})") from None
    return im


def kept_exif(im: Image.Image) -> Image.Exif | None:
    """The input's EXIF with the orientation reset (the result is already upright), or None.
    Changes ``im``'s own EXIF: call it once the picture has been read."""
    try:
        exif = im.getexif()
        if not exif:
            return None
        exif.get_ifd(0x8769)  # load the Exif sub-IFD (date taken ...) so it is written back
        if 0x0112 in exif:
            exif[0x0112] = 1
        return exif
    except Exception:  # a broken EXIF block is dropped, not a reason to refuse the picture
        return None


def encode(out: Image.Image, fmt: str, exif: Image.Exif | None = None) -> bytes:
    """A PIL result -> file bytes in ``fmt`` (jpeg / webp / png), EXIF and ICC profile kept."""
    pil_format = WEB_FORMATS[fmt].pil
    if pil_format == "JPEG" and out.mode not in ("RGB", "L"):
        out = out.convert("RGB")  # JPEG has no alpha
    kw = dict(SAVE_OPTIONS[pil_format])
    if out.info.get("icc_profile"):
        kw["icc_profile"] = out.info["icc_profile"]
    if exif is not None:
        kw["exif"] = exif.tobytes()
    buf = io.BytesIO()
    out.save(buf, format=pil_format, **kw)
    return buf.getvalue()


def result_name(name: str, fmt: str) -> str:
    stem = PurePath(name.replace("\\", "/")).stem or "picture"
    return f"{stem}-colour{WEB_FORMATS[fmt].suffix}"


def header_text(value: str) -> str:
    """Any text as a header value: printable ASCII kept, anything else (control characters, non-ASCII)
    percent-encoded, so no value built from a name can break or fail the answer's headers."""
    return quote(value, safe=" !#$&'()*+,-./:;=?@[]^_`{|}~")


def disposition(filename: str, kind: str = "inline") -> str:
    """A ``Content-Disposition`` value; control characters never reach it (the ASCII fallback drops them,
    the UTF-8 form percent-encodes them)."""
    ascii_name = _CONTROL.sub("_", filename).encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def colorize_upload(data: bytes, reference: bytes | None, opts: Options, colorizer, max_pixels: int,
                    cancelled: threading.Event) -> tuple[bytes, str, str, int]:
    """Upload bytes -> (result bytes, media type, file name, frames in the input); raises
    :class:`Abandoned` when ``cancelled`` is set (the client left)."""
    im = open_picture(data, max_pixels)
    frames = int(getattr(im, "n_frames", 1) or 1)
    ref = open_picture(reference, max_pixels, "reference picture") if reference else None
    fmt = opts.format or answer_format(im.format)
    if cancelled.is_set():
        raise Abandoned("before the model ran")
    out = colorizer(im, saturation=opts.saturation, hints=opts.hints, reference=ref, palette=opts.palette or None)
    exif = kept_exif(im)  # after: it resets the orientation, which the colorizer applies
    del im
    if cancelled.is_set():
        raise Abandoned("before encoding")
    return encode(out, fmt, exif), WEB_FORMATS[fmt].mime, result_name(opts.name, fmt), frames


def zip_files(files: list[tuple[str, bytes]]) -> bytes:
    """(name, bytes) pairs -> a zip (stored: pictures are compressed already); names made safe
    and unique."""
    buf, seen = io.BytesIO(), set()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in files:
            base = PurePath(name.replace("\\", "/")).name.lstrip(".") or "picture"
            stem, suffix, n = PurePath(base).stem, PurePath(base).suffix, 1
            while base.lower() in seen:
                n += 1
                base = f"{stem}-{n}{suffix}"
            seen.add(base.lower())
            z.writestr(base, data)
    return buf.getvalue()
