"""What one client may cost the server: body size and read time, URL and header size, and a
concurrency gate (``workers`` colourizing at once, ``queue`` more waiting, 503 beyond).

Work whose client has left is dropped: while it waits in the queue, between the stages of a
colourization (decoding, the model, painting, encoding), and inside the model run at its next layer.
Every request's estimated memory counts against one budget (:class:`Gate`).
"""

from __future__ import annotations

import ctypes
import gc
import math
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
from starlette.exceptions import HTTPException
from starlette.requests import Request

from tinta.serve.errors import json_error


@dataclass
class Limits:
    """The server's limits (``tinta serve --help`` names the options that set them)."""

    max_bytes: int = 25_000_000  # largest request body (one picture, or a form with one)
    max_pixels: int = 50_000_000  # largest picture
    zip_bytes: int = 200_000_000  # largest body of POST /zip (results to pack)
    workers: int = 2  # colourizations at once
    queue: int = 8  # requests waiting for a worker (holding only their upload); more get 503
    memory: int = 3_000_000_000  # bytes all running colourizations may take together (estimated); see cost()
    render_pixels: int = 2_000_000  # "the whole picture" (and any render size) is capped to this many pixels
    sessions: int = 8  # pictures kept on the server for quick edits (POST /sessions); the oldest go first
    session_bytes: int = 800_000_000  # and the memory they may hold together
    session_ttl: float = 1800.0  # a kept picture unused this many seconds is freed
    body_timeout: float = 30.0  # seconds without a byte of the body -> 408
    head_timeout: float = 10.0  # seconds to send the request line and headers -> 408 (protocol.py)
    keep_alive: float = 5.0  # idle keep-alive connections are closed after this
    max_url: int = 8192  # longer request targets -> 414
    max_headers: int = 16384  # larger header blocks -> 431 (h11 refuses 64 KiB and more)


class BodyLimit:
    """ASGI middleware: a body over the limit gets 413 (at once when ``Content-Length`` says so,
    else when the count passes it, chunked bodies included); a body that stalls gets 408; an
    over-long URL 414, oversized headers 431. Every answer is JSON."""

    def __init__(self, app, limits: Limits):
        self.app, self.limits = app, limits

    def _cap(self, scope) -> int:
        return self.limits.zip_bytes if scope["path"] == "/zip" else self.limits.max_bytes

    def _refusal(self, scope):
        lim = self.limits
        target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
        if target > lim.max_url:
            return json_error(414, f"the URL is {target:,} bytes; this server takes at most {lim.max_url:,}")
        head = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
        if head > lim.max_headers:
            return json_error(431, f"the headers are {head:,} bytes; this server takes at most {lim.max_headers:,}")
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                return json_error(400, "bad Content-Length")
            if int(length) > self._cap(scope):
                return json_error(413, too_large(int(length), self._cap(scope)))
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        refusal = self._refusal(scope)
        if refusal is not None:
            refusal.headers["Connection"] = "close"
            headers = dict(scope["headers"])
            length = int(headers.get(b"content-length", b"0") or 0)
            if refusal.status_code == 413 and b"expect" not in headers and length <= DRAIN_BYTES:
                await drain(receive, length, self.limits.body_timeout)  # the body is on its way
            return await refusal(scope, receive, send)
        cap, seen, timeout = self._cap(scope), 0, self.limits.body_timeout

        async def limited_receive():
            nonlocal seen
            try:
                with anyio.fail_after(timeout):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(408, f"no body data for {timeout:g} s", {"Connection": "close"}) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    if message.get("more_body"):
                        await drain(receive, DRAIN_BYTES, timeout)
                    raise HTTPException(413, too_large(seen, cap, more=True), {"Connection": "close"})
            return message

        await self.app(scope, limited_receive, send)


DRAIN_BYTES = 1 << 26  # a refused body up to this size is read and dropped before the answer


async def drain(receive, length: int, timeout: float) -> None:
    """Read and drop a refused body (up to ``DRAIN_BYTES``), so that closing the connection
    after the answer does not reset it (a reset can make the client lose the answer). Larger or
    stalled bodies are not waited for."""
    left = min(length, DRAIN_BYTES)
    with anyio.move_on_after(min(timeout, 5.0)):
        while left > 0:
            message = await receive()
            if message["type"] != "http.request":
                return
            left -= len(message.get("body", b""))
            if not message.get("more_body"):
                return


def too_large(size: int, cap: int, more: bool = False) -> str:
    return (f"the upload is {'over ' if more else ''}{size:,} bytes; this server takes at most {cap:,} "
            "(tinta serve --max-mb raises it)")


class Gate:
    """At most ``workers`` colourizations at once, their estimated memory within ``budget`` bytes, and
    ``queue`` waiting (first come, first served); the rest get 503 with ``Retry-After`` (an estimate from
    recent durations). A request that alone needs more than the budget gets 413 at once."""

    def __init__(self, workers: int, queue: int, budget: int = 3_000_000_000):
        self.workers, self.queue, self.budget = max(1, workers), max(0, queue), max(1, budget)
        self.running = self.done = self.abandoned = self.refused = self.too_big = 0
        self.in_use = 0  # estimated bytes of the running requests
        self._line: list[object] = []  # tickets waiting, in order
        self._running: set = set()  # tickets running
        self._changed: anyio.Event | None = None
        self._mean = 2.0  # seconds per colourization, a running mean
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._line)

    def retry_after(self) -> int:
        return max(1, math.ceil(self._mean * (self.waiting + self.running) / self.workers))

    def stats(self) -> dict:
        return {"running": self.running, "queued": self.waiting, "done": self.done, "abandoned": self.abandoned,
                "refused": self.refused, "too_big": self.too_big, "workers": self.workers, "queue": self.queue,
                "memory_budget_mb": round(self.budget / 1e6), "memory_in_use_mb": round(self.in_use / 1e6)}

    def position(self, ticket) -> dict:
        """Where a ticket stands: {"position": 1 for the next to run, or None; "running": bool}."""
        pos = next((i + 1 for i, t in enumerate(self._line) if t == ticket), None)
        return {"position": pos, "running": ticket in self._running, "ahead_running": self.running}

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
        self._changed = anyio.Event()

    def _may_start(self, ticket, cost: int) -> bool:
        return (bool(self._line) and self._line[0] is ticket and self.running < self.workers
                and self.in_use + cost <= self.budget)

    async def _acquire_unless_gone(self, request: Request, ticket, cost: int) -> bool:
        while not self._may_start(ticket, cost):
            if self._changed is None:
                self._changed = anyio.Event()
            with anyio.move_on_after(0.2):
                await self._changed.wait()
            if await request.is_disconnected():
                return False
        return True

    def check_cost(self, cost: int, what: str = "this picture") -> None:
        if cost > self.budget:
            self.too_big += 1
            raise HTTPException(413, f"{what} needs about {cost / 1e6:,.0f} MB to colourize; this server's memory "
                                     f"budget is {self.budget / 1e6:,.0f} MB (choose a smaller render size, or "
                                     "tinta serve --memory-mb raises it)")

    @asynccontextmanager
    async def slot(self, request: Request, cost: int = 0, ticket=None):
        """Yields True when a worker (and ``cost`` bytes of the budget) is ours, False when the client
        left while queued. ``ticket``: any object naming this request (for :meth:`position`)."""
        self.check_cost(cost)
        if self.running + self.waiting >= self.workers + self.queue:
            self.refused += 1
            raise HTTPException(503, f"the server is busy ({self.running} running, {self.waiting} waiting); "
                                     "try again shortly", {"Retry-After": str(self.retry_after())})
        ticket = ticket if ticket is not None else object()
        self._line.append(ticket)
        try:
            got = await self._acquire_unless_gone(request, ticket, cost)
        finally:
            self._line.remove(ticket)
            self._wake()
        if got and isinstance(ticket, str):
            self._running.add(ticket)
        if not got:
            self.abandoned += 1
            yield False
            return
        self.running += 1
        self.in_use += cost
        t0 = time.monotonic()
        try:
            yield True
        finally:
            self.running -= 1
            self.in_use -= cost
            self._running.discard(ticket)
            self._mean = 0.8 * self._mean + 0.2 * (time.monotonic() - t0)
            self._wake()
            if cost >= TRIM_BYTES:
                await anyio.to_thread.run_sync(trim_memory)


TRIM_BYTES = 200_000_000  # after a request estimated this big, freed memory goes back to the system


def trim_memory() -> None:
    """Collect garbage and hand freed heap pages back to the system (glibc's ``malloc_trim``), so
    one big request does not leave the server's RSS at its peak."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


class Abandoned(Exception):
    """The client left; the work was dropped."""


_current = threading.local()  # .cancelled: the Event of the request this worker thread runs
_hook_installed = False


def _stop_if_cancelled(module, args) -> None:
    """A forward pre-hook on every torch module: the model run of a request whose client left stops at
    its next layer."""
    cancelled = getattr(_current, "cancelled", None)
    if cancelled is not None and cancelled.is_set():
        raise Abandoned("during the model run")


def install_model_cancel() -> None:
    """Let :func:`run_unless_gone` stop a model run between layers (a global torch hook that costs one
    attribute look-up per layer; a no-op outside a request's worker thread)."""
    global _hook_installed
    if not _hook_installed:
        from torch.nn.modules.module import register_module_forward_pre_hook

        register_module_forward_pre_hook(_stop_if_cancelled)
        _hook_installed = True


def _with_cancel(fn, args, cancelled: threading.Event):
    _current.cancelled = cancelled
    try:
        return fn(*args, cancelled)
    finally:
        _current.cancelled = None


async def run_unless_gone(request: Request, fn, *args):
    """``fn(*args, cancelled)`` in a worker thread; ``cancelled`` (a threading.Event) is set when
    the client disconnects; ``fn`` checks it between stages, and the model stops at its next layer
    (:func:`install_model_cancel`), raising :class:`Abandoned`."""
    cancelled = threading.Event()

    async def watch():
        while not await request.is_disconnected():
            await anyio.sleep(0.1)
        cancelled.set()

    result = error = None
    async with anyio.create_task_group() as tg:
        tg.start_soon(watch)
        try:
            result = await anyio.to_thread.run_sync(_with_cancel, fn, args, cancelled)
        except Exception as e:  # raised outside the task group, so not wrapped in an ExceptionGroup
            error = e
        tg.cancel_scope.cancel()
    if error is not None:
        raise error
    return result
