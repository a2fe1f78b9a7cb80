"""The Starlette application: the page, its assets, and the HTTP API (see :mod:`tinta.serve`)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from tinta.errors import TintaError
from tinta.pretrained import EXAMPLES_DIR
from tinta.serve import openapi
from tinta.serve.errors import HANDLERS, json_error
from tinta.serve.limits import Abandoned, BodyLimit, Gate, Limits, run_unless_gone
from tinta.serve.models import ModelCache
from tinta.serve.pictures import colorize_upload, disposition, parse_options, zip_files
from tinta.serve.security import HostOriginCheck

STATIC = Path(__file__).with_name("static")
EXAMPLE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
NO_STORE = {"Cache-Control": "no-store"}
log = logging.getLogger("tinta.serve")


def _examples() -> list[Path]:
    return sorted(p for p in EXAMPLES_DIR.iterdir() if p.suffix.lower() in EXAMPLE_SUFFIXES)


async def _form_parts(request: Request, max_files: int) -> tuple[list[tuple[str, UploadFile]], dict]:
    """A multipart form -> ([(field, file)], {field: text}); files spool to disk past 1 MB."""
    form = await request.form(max_files=max_files, max_fields=50, max_part_size=1 << 20)
    files = [(k, v) for k, v in form.multi_items() if isinstance(v, UploadFile)]
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return files, fields


async def read_upload(request: Request) -> tuple[bytes, bytes | None, dict, str | None]:
    """The picture (raw body, or the form's ``file``), a ``reference`` picture if any, the
    fields (query string, then form fields) and the upload's file name."""
    fields = dict(request.query_params)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await request.body(), None, fields, None
    files, form_fields = await _form_parts(request, max_files=2)
    fields.update(form_fields)
    by_name = dict(files)
    picture = by_name.get("file") or next((f for k, f in files if k != "reference"), None)
    reference = by_name.get("reference")
    data = await picture.read() if picture else b""
    ref = await reference.read() if reference else None
    for _, f in files:
        await f.close()
    return data, ref, fields, picture.filename if picture else None


async def colorize(request: Request) -> Response:
    state = request.app.state
    data, reference, fields, filename = await read_upload(request)
    opts = parse_options(fields, filename)
    colorizer = await anyio.to_thread.run_sync(state.models.get, opts.model, opts.render_size)
    async with state.gate.slot(request) as ours:
        if not ours:
            log.info("client left while queued: work dropped")
            return json_error(499, "the client left")
        t0 = time.perf_counter()
        try:
            body, media, name = await run_unless_gone(request, colorize_upload, data, reference, opts, colorizer,
                                                      state.limits.max_pixels)
        except Abandoned as e:
            state.gate.abandoned += 1
            log.info("client left: work dropped %s", e)
            return json_error(499, "the client left")
        seconds = time.perf_counter() - t0
    state.gate.done += 1
    return Response(body, media_type=media, headers={
        **NO_STORE, "Content-Disposition": disposition(name), "X-Tinta-Model": colorizer.name or "",
        "Server-Timing": f"colorize;dur={seconds * 1000:.0f}"})


async def pack_zip(request: Request) -> Response:
    """Several files (form field ``file``, repeated) -> one zip, for the page's "download all"."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise TintaError("send the files as a multipart form (field 'file', repeated)")
    files, _ = await _form_parts(request, max_files=500)
    pairs = [(f.filename or "picture", await f.read()) for _, f in files]
    for _, f in files:
        await f.close()
    if not pairs:
        raise TintaError("no files to pack")
    body = await anyio.to_thread.run_sync(zip_files, pairs)
    return Response(body, media_type="application/zip",
                    headers={**NO_STORE, "Content-Disposition": disposition("tinta-colour.zip", "attachment")})


async def page(request: Request) -> Response:
    return HTMLResponse((STATIC / "index.html").read_text(), headers=NO_STORE)


async def list_models(request: Request) -> Response:
    state = request.app.state
    described = await anyio.to_thread.run_sync(state.models.describe)
    return JSONResponse({"default": state.models.default, "models": described})


async def model_card(request: Request) -> Response:
    try:
        return PlainTextResponse(request.app.state.models.card(request.path_params["name"]),
                                 media_type="text/markdown; charset=utf-8")
    except KeyError:
        raise HTTPException(404) from None


async def examples(request: Request) -> Response:
    return JSONResponse({"examples": [{"name": p.name, "url": f"/examples/{p.name}"} for p in _examples()]})


async def example(request: Request) -> Response:
    found = {p.name: p for p in _examples()}.get(request.path_params["name"])
    if found is None:
        raise HTTPException(404)
    return FileResponse(found)


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True, **request.app.state.gate.stats()}, headers=NO_STORE)


def make_app(models: ModelCache, limits: Limits | None = None, hosts: frozenset[str] | None = None) -> Starlette:
    """The ASGI application. ``hosts``: the allowed ``Host`` names (None: any; see security.py)."""
    limits = limits or Limits()
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/colorize", colorize, methods=["POST"]),
        Route("/zip", pack_zip, methods=["POST"]),
        Route("/models", list_models, methods=["GET"]),
        Route("/models/{name}/card", model_card, methods=["GET"]),
        Route("/examples", examples, methods=["GET"]),
        Route("/examples/{name}", example, methods=["GET"]),
        Route("/health", health, methods=["GET"]),
        Route("/openapi.json", openapi.schema, methods=["GET"]),
        Route("/docs", openapi.docs, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [Middleware(HostOriginCheck, hosts=hosts), Middleware(BodyLimit, limits=limits)]
    app = Starlette(routes=routes, middleware=middleware, exception_handlers=HANDLERS)
    app.state.models, app.state.limits, app.state.gate = models, limits, Gate(limits.workers, limits.queue)
    return app
