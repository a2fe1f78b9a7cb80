"""Every answer that is not a picture is JSON: ``{"error": "..."}`` with the status, for user
mistakes (4xx, no traceback), a busy server (503 with ``Retry-After``) and bugs (500)."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

from tinta.errors import TintaError

log = logging.getLogger("tinta.serve")


def json_error(status: int, message: str, headers: dict | None = None) -> JSONResponse:
    headers = {"Cache-Control": "no-store", **(headers or {})}
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def http_error(request, exc: HTTPException) -> JSONResponse:
    message = exc.detail
    if exc.status_code == 404 and message == "Not Found":  # a route's own 404 keeps its words
        message = f"no such page: {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(sorted(m.strip() for m in headers.get("Allow", "").split(",")))
        message = f"{request.method} is not allowed on {request.url.path}; use {headers['Allow']}"
    return json_error(exc.status_code, message, headers)


async def user_error(request, exc: TintaError) -> JSONResponse:
    return json_error(400, str(exc))


async def server_error(request, exc: Exception) -> JSONResponse:
    log.error("%s %s failed: %r", request.method, request.url.path, exc)
    return json_error(500, f"internal error: {exc.__class__.__name__} (a bug: please report it)")


async def client_left(request, exc: ClientDisconnect) -> JSONResponse:
    request.app.state.gate.abandoned += 1  # as for a client that leaves later: its work is dropped
    log.info("%s %s: the client left during the upload", request.method, request.url.path)
    return json_error(499, "the client left")  # nobody reads it


HANDLERS = {HTTPException: http_error, TintaError: user_error, ClientDisconnect: client_left, Exception: server_error}
