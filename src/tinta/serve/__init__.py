"""``tinta serve``: a local web page for colourizing photos in the browser.

Standard library only (``http.server``): the page is one HTML file with a little JavaScript;
the browser sends the picture's bytes to ``POST /colorize?model=NAME&saturation=S`` and gets
a PNG back. Binds to 127.0.0.1 by default: it is a tool for one person's machine, not a
public service (no authentication, one process).

Routes: ``GET /`` the page, ``GET /models`` the shipped weights as JSON, ``GET /health``,
``POST /colorize`` picture in, PNG out. User mistakes (no body, not an image, too large,
unknown model, bad saturation) answer 4xx with ``{"error": "..."}``, never a traceback.
"""

from __future__ import annotations

import io
import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tinta.errors import TintaError
from tinta.heads import check_saturation
from tinta.inference import load_model

PAGE = Path(__file__).with_name("page.html")


class ModelCache:
    """Colorizers loaded on first use, at most one load at a time; ``allowed`` limits the
    names a request may ask for (shipped weights plus the ``--model`` the server started with)."""

    def __init__(self, allowed: list[str], default: str):
        self.allowed, self.default = list(dict.fromkeys([default, *allowed])), default
        self._loaded: dict = {}
        self._lock = threading.Lock()

    def get(self, name: str | None):
        name = name or self.default
        if name not in self.allowed:
            raise TintaError(f"unknown model {name!r}; this server offers {', '.join(self.allowed)}")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_model(name)
            return self._loaded[name]


def colorize_bytes(data: bytes, colorizer, saturation: float, max_pixels: int) -> bytes:
    """Picture file bytes -> PNG bytes of the colourized picture (alpha and ICC kept)."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise TintaError("no picture in the request body")
    try:
        im = Image.open(io.BytesIO(data))
        if im.width * im.height > max_pixels:
            raise TintaError(f"picture is {im.width}x{im.height}; this server takes at most {max_pixels:,} pixels")
        im.load()
    except UnidentifiedImageError:
        raise TintaError("not a readable image (unrecognised or damaged file)") from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise TintaError(f"not a readable image ({e.__class__.__name__}: {e})") from None
    out = colorizer(im, saturation=saturation)
    buf = io.BytesIO()
    kw = {"icc_profile": out.info["icc_profile"]} if out.info.get("icc_profile") else {}
    out.save(buf, format="PNG", **kw)
    return buf.getvalue()


class Server(ThreadingHTTPServer):
    """The HTTP server; each request's :class:`Handler` reads its settings from here: the
    ``models`` on offer, the largest body (``max_bytes``) and picture (``max_pixels``) accepted,
    and ``quiet`` (no per-request log lines)."""

    def __init__(self, address: tuple[str, int], models: ModelCache, max_bytes: int, max_pixels: int,
                 quiet: bool = False):
        self.models, self.max_bytes, self.max_pixels, self.quiet = models, max_bytes, max_pixels, quiet
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    """The routes (see the module docstring), for a :class:`Server`."""

    server: Server
    server_version = "tinta"

    def log_message(self, fmt, *args):  # one line per request, on stderr
        if not self.server.quiet:
            super().log_message(fmt, *args)

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _drain(self, length: int, limit: int = 1 << 26) -> None:
        """Read and drop a refused body (so the client sees the answer, not a reset); past
        ``limit`` bytes, stop reading and close the connection instead."""
        self.close_connection = True
        left = min(length, limit)
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            left -= len(chunk)

    def _json(self, status: int, obj) -> None:
        self._send(status, json.dumps(obj).encode(), "application/json")

    def do_GET(self):
        path = urlsplit(self.path).path
        models = self.server.models
        if path == "/":
            self._send(200, PAGE.read_bytes(), "text/html; charset=utf-8")
        elif path == "/models":
            self._json(200, {"default": models.default, "models": models.allowed})
        elif path == "/health":
            self._json(200, {"ok": True})
        else:
            self._json(404, {"error": f"no such page: {path}"})

    def do_POST(self):
        url = urlsplit(self.path)
        if url.path != "/colorize":
            return self._json(404, {"error": f"no such endpoint: {url.path}"})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return self._json(400, {"error": "bad Content-Length"})
        max_bytes = self.server.max_bytes
        if length > max_bytes:
            self._drain(length)
            return self._json(413, {"error": f"picture is {length:,} bytes; this server takes at most {max_bytes:,}"})
        data = self.rfile.read(length) if length > 0 else b""
        q = {k: v[-1] for k, v in parse_qs(url.query).items()}
        try:
            saturation = check_saturation(q.get("saturation", 1.0))
            png = colorize_bytes(data, self.server.models.get(q.get("model")), saturation, self.server.max_pixels)
        except TintaError as e:
            return self._json(400, {"error": str(e)})
        except Exception as e:  # a bug, not the user's fault: say so without killing the server
            self.log_error("colorize failed: %r", e)
            error = f"internal error: {e.__class__.__name__}"
            return self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": error})
        self._send(200, png, "image/png")


def make_server(model: str = "default", host: str = "127.0.0.1", port: int = 8000,
                max_mb: float = 25.0, max_megapixels: float = 50.0) -> Server:
    """A ready (not yet serving) HTTP server; ``port=0`` picks a free port
    (``server.server_address[1]``). Call ``serve_forever()`` and later ``shutdown()``."""
    from tinta.pretrained import registry

    models = ModelCache(sorted(registry()), model)
    models.get(model)  # fail now, not at the first request, if the model does not load
    try:
        return Server((host, port), models, int(max_mb * 1e6), int(max_megapixels * 1e6))
    except OSError as e:
        raise TintaError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None
