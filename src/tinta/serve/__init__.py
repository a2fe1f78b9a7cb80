"""``tinta serve``: a local web page for colourizing photos in the browser, and its HTTP API.

A Starlette application under uvicorn (python-multipart reads forms). Binds to 127.0.0.1 by
default: it is a tool for one person's machine, not a public service (no authentication).

- :mod:`tinta.serve.app`: the routes (``GET /`` the page, ``POST /colorize`` picture in, picture
  out, raw body or form upload; ``POST /zip``; ``GET /models``, ``/examples``, ``/health``,
  ``/docs``, ``/openapi.json``).
- :mod:`tinta.serve.pictures`: options, reading uploads, output format, EXIF kept.
- :mod:`tinta.serve.limits`: body size and read time, URL and header size, the concurrency gate
  (workers + a small queue, 503 with ``Retry-After`` beyond), dropping work whose client left.
- :mod:`tinta.serve.security`: the ``Host`` allow-list and the same-origin rule for posts.
- :mod:`tinta.serve.protocol`: uvicorn's h11 protocol with a request-head timeout and JSON errors.
- :mod:`tinta.serve.server`: the uvicorn server (``make_server``); ``static/``: the page.
- :mod:`tinta.serve.options`: ``ServeOptions``, the options of ``tinta serve`` (and its ``Limits``).

Every answer that is not a picture or a page is JSON, ``{"error": "..."}`` for errors.
"""

from __future__ import annotations

from tinta.serve.options import ServeOptions

__all__ = ["Limits", "ModelCache", "ServeOptions", "make_app", "make_server"]

_HOMES = {"Limits": "limits", "ModelCache": "models", "make_app": "app", "make_server": "server"}


def __getattr__(name):  # Starlette, uvicorn and torch load on first use: `tinta serve --help` stays light
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f"tinta.serve.{_HOMES[name]}"), name)
    raise AttributeError(name)
