"""The Starlette application: the page, its assets, and the HTTP API (see :mod:`tinta.serve`)."""

from __future__ import annotations

import logging
import math
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
from tinta.imageio import FORMATS
from tinta.inference import render_shape, resolve_render_size
from tinta.pretrained import EXAMPLES_DIR
from tinta.serve import openapi
from tinta.serve.errors import HANDLERS, json_error
from tinta.serve.limits import Abandoned, BodyLimit, Gate, Limits, install_model_cancel, run_unless_gone
from tinta.serve.models import ModelCache
from tinta.serve.pictures import (
    PICTURE_BYTES_PER_PIXEL,
    capped_render_size,
    check_name,
    colorize_upload,
    cost,
    disposition,
    frames_note,
    header_text,
    parse_options,
    picture_size,
    zip_files,
)
from tinta.serve.security import HostOriginCheck
from tinta.serve.sessions import SessionStore, input_preview, read_kept, render, render_cost, suggest

STATIC = Path(__file__).with_name("static")
EXAMPLE_SUFFIXES = tuple(sorted("." + k for k, f in FORMATS.items() if f.web))  # pictures a browser shows
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


def _answer_headers(name: str, colorizer, seconds: float, frames: int = 1, capped: int | None = None) -> dict:
    """Headers of a picture answer; every value built here is plain text (the name was checked)."""
    headers = {**NO_STORE, "Content-Disposition": disposition(name), "X-Tinta-Model": header_text(colorizer.name or ""),
               "Server-Timing": f"colorize;dur={seconds * 1000:.0f}"}
    if frames > 1:
        headers["X-Tinta-Frames"] = str(frames)
        headers["X-Tinta-Partial"] = frames_note(frames)
    if capped is not None:
        headers["X-Tinta-Render-Size"] = f"{capped} (capped: the model sees at most the server's render pixels)"
    return headers


def _sized(state, opts, size: tuple[int, int] | None):
    """The colorizer for ``opts`` at its render size, lowered to the server's render-pixel cap
    -> (colorizer, the lowered size or None)."""
    colorizer = state.models.get(opts.model, opts.render_size)
    if size is None:
        return colorizer, None
    w, h = size
    new, capped = capped_render_size(h, w, resolve_render_size(opts.render_size, colorizer.render_size),
                                     state.limits.render_pixels)
    if capped:
        return state.models.get(opts.model, new), new
    return colorizer, None


def _ticket(fields) -> str | None:
    """The page's name for a request (field ``ticket``), so it can ask ``GET /queue/TICKET`` where it stands."""
    t = fields.get("ticket")
    if t is None:
        return None
    if not (0 < len(t) <= 64 and t.replace("-", "").replace("_", "").isalnum()):
        raise TintaError("ticket must be 1 to 64 letters, digits, '-' or '_'")
    return t


async def _run(request: Request, cost_bytes: int, fn, *args, ticket: str | None = None):
    """``fn(*args, cancelled)`` in a worker once the gate lets it in; None (answered 499) when the client left."""
    state = request.app.state
    async with state.gate.slot(request, cost_bytes, ticket) as ours:
        if not ours:
            log.info("client left while queued: work dropped")
            return None
        try:
            return await run_unless_gone(request, fn, *args)
        except Abandoned as e:
            state.gate.abandoned += 1
            log.info("client left: work dropped %s", e)
            return None


async def colorize(request: Request) -> Response:
    state = request.app.state
    data, reference, fields, filename = await read_upload(request)
    opts = parse_options(fields, filename)  # a bad field (a name with a line break ...) is refused before any work
    size = picture_size(data)
    colorizer, capped = await anyio.to_thread.run_sync(_sized, state, opts, size)
    w, h = size or (0, 0)
    rs = resolve_render_size(None, colorizer.render_size)  # a stand-in model (tests) may record none
    need = cost(w * h, math.prod(render_shape(h, w, rs))) if size and min(size) > 0 else 0
    t0 = time.perf_counter()
    done = await _run(request, need, colorize_upload, data, reference, opts, colorizer, state.limits.max_pixels,
                      ticket=_ticket(fields))
    if done is None:
        return json_error(499, "the client left")
    body, media, name, frames = done
    state.gate.done += 1
    return Response(body, media_type=media, headers=_answer_headers(name, colorizer, time.perf_counter() - t0, frames,
                                                                    capped))


async def new_session(request: Request) -> Response:
    """A picture kept for edits: the upload (raw body or form field ``file``) -> JSON {id, width, height, ...}."""
    state = request.app.state
    data, _, fields, filename = await read_upload(request)
    name = check_name(fields.get("name") or filename or "picture")
    size = picture_size(data)
    need = PICTURE_BYTES_PER_PIXEL * (size[0] * size[1] if size else 0)
    kept = await _run(request, need, lambda cancelled: read_kept(data, name, state.limits.max_pixels))
    if kept is None:
        return json_error(499, "the client left")
    state.sessions.add(kept)
    return JSONResponse(kept.describe(), status_code=201, headers=NO_STORE)


def _kept(request: Request):
    try:
        return request.app.state.sessions.get(request.path_params["sid"])
    except KeyError:
        raise HTTPException(404, "no such picture on the server (it was freed: pictures are kept for a while, "
                                 "a few at a time); send it again with POST /sessions") from None


def _preview(text: str | None) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise TintaError(f"preview must be a whole number of pixels (the long side), got {text!r}") from None
    if value and not 64 <= value <= 8192:
        raise TintaError(f"preview must be 0 (full size) or 64 to 8192 pixels, got {value}")
    return value or None


async def render_session(request: Request) -> Response:
    """A kept picture coloured with these settings (the /colorize fields, no file; ``preview``: long side)."""
    kept = _kept(request)
    fields = dict(request.query_params)
    reference = None
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        files, form_fields = await _form_parts(request, max_files=1)
        fields.update(form_fields)
        for k, f in files:
            if k == "reference":
                reference = await f.read()
            await f.close()
    elif request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    opts = parse_options({"name": kept.name, **fields})
    preview = _preview(fields.get("preview"))
    remember = fields.get("remember", "1") != "0"  # 0: a side render (compare) the download does not follow
    return await _render_kept(request, kept, opts, reference, preview, remember, _ticket(fields))


async def _render_kept(request: Request, kept, opts, reference, preview, remember=True, ticket=None) -> Response:
    state = request.app.state
    colorizer, capped = await anyio.to_thread.run_sync(_sized, state, opts, (kept.width, kept.height))
    need, _ = render_cost(kept, colorizer, preview)
    t0 = time.perf_counter()
    done = await _run(request, need, render, kept, opts, colorizer, reference, state.limits.max_pixels, preview,
                      remember, ticket=ticket)
    if done is None:
        return json_error(499, "the client left")
    body, media, name, previewed = done
    state.gate.done += 1
    headers = _answer_headers(name, colorizer, time.perf_counter() - t0, kept.frames, capped)
    headers["X-Tinta-Size"] = f"{kept.width}x{kept.height}"
    if previewed:
        headers["X-Tinta-Preview"] = "1"
    return Response(body, media_type=media, headers=headers)


async def download_session(request: Request) -> Response:
    """The full-resolution picture of a kept picture's latest render (the page's Download link)."""
    kept = _kept(request)
    if kept.last is None:
        raise TintaError("nothing rendered yet for this picture: POST /sessions/ID/render first")
    opts, reference, _ = kept.last
    response = await _render_kept(request, kept, opts, reference, None)
    if response.status_code == 200:
        cd = response.headers["Content-Disposition"]
        response.headers["Content-Disposition"] = cd.replace("inline", "attachment", 1)
    return response


async def session_input(request: Request) -> Response:
    """The kept picture's lightness as a grey JPEG (long side ``size``, default 1600): for inputs a
    browser cannot show (TIFF ...)."""
    kept = _kept(request)
    side = _preview(request.query_params.get("size")) or 1600
    body = await anyio.to_thread.run_sync(input_preview, kept, side)
    return Response(body, media_type="image/jpeg", headers=NO_STORE)


async def suggest_colours(request: Request) -> Response:
    """The few most likely colours at picture pixel (``x``, ``y``) of a kept picture, from the model's a,b
    distribution (fields: ``x``, ``y``, ``model``, ``render_size``, ``hints``, ``count``) -> JSON."""
    state = request.app.state
    kept = _kept(request)
    fields = dict(request.query_params)
    if request.headers.get("content-type", "").startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form(max_files=0, max_fields=50)
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    opts = parse_options({"name": kept.name, **fields})
    try:
        x, y, count = int(fields.get("x", "")), int(fields.get("y", "")), int(fields.get("count", "5"))
    except ValueError:
        raise TintaError("x, y (and count) must be whole numbers: a pixel of the picture") from None
    colorizer, _ = await anyio.to_thread.run_sync(_sized, state, opts, (kept.width, kept.height))
    need, _ = render_cost(kept, colorizer, 64)
    found = await _run(request, need, suggest, kept, colorizer, opts, x, y, max(1, min(count, 8)))
    if found is None:
        return json_error(499, "the client left")
    return JSONResponse({"x": x, "y": y, "model": colorizer.name, "colours": found}, headers=NO_STORE)


async def queue_place(request: Request) -> Response:
    return JSONResponse(request.app.state.gate.position(request.path_params["ticket"]), headers=NO_STORE)


async def describe_session(request: Request) -> Response:
    return JSONResponse(_kept(request).describe(), headers=NO_STORE)


async def drop_session(request: Request) -> Response:
    request.app.state.sessions.drop(request.path_params["sid"])
    return JSONResponse({"ok": True}, headers=NO_STORE)


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
    state = request.app.state
    return JSONResponse({"ok": True, **state.gate.stats(), "sessions": state.sessions.stats()}, headers=NO_STORE)


def make_app(models: ModelCache, limits: Limits | None = None, hosts: frozenset[str] | None = None) -> Starlette:
    """The ASGI application. ``hosts``: the allowed ``Host`` names (None: any; see security.py)."""
    limits = limits or Limits()
    routes = [
        Route("/", page, methods=["GET"]),
        Route("/colorize", colorize, methods=["POST"]),
        Route("/zip", pack_zip, methods=["POST"]),
        Route("/sessions", new_session, methods=["POST"]),
        Route("/sessions/{sid}", describe_session, methods=["GET"]),
        Route("/sessions/{sid}", drop_session, methods=["DELETE"]),
        Route("/sessions/{sid}/render", render_session, methods=["POST"]),
        Route("/sessions/{sid}/download", download_session, methods=["GET"]),
        Route("/sessions/{sid}/input", session_input, methods=["GET"]),
        Route("/sessions/{sid}/suggest", suggest_colours, methods=["POST"]),
        Route("/queue/{ticket}", queue_place, methods=["GET"]),
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
    app.state.models, app.state.limits = models, limits
    app.state.gate = Gate(limits.workers, limits.queue, limits.memory)
    app.state.sessions = SessionStore(limits.sessions, limits.session_bytes, limits.session_ttl)
    install_model_cancel()
    return app
