"""A tinta server running in a background thread for tests (real uvicorn on 127.0.0.1, port 0),
and test models: a slow one (for ordering and queue tests) and one that takes hints."""

from __future__ import annotations

import copy
import http.client
import json
import queue
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlsplit

from tinta.serve import Limits, ModelCache, limits, make_server


class SlowForBig:
    """Wraps a Colorizer: pictures wider than ``width`` (up to ``upto``) take ``seconds`` more; counts calls."""

    def __init__(self, colorizer, seconds: float = 2.0, width: int = 100, upto: int = 10**9):
        self.inner, self.seconds, self.width, self.upto = colorizer, seconds, width, upto
        self.name, self.render_size, self.calls = colorizer.name, colorizer.render_size, 0

    def __call__(self, image, saturation=1.0, **kw):
        self.calls += 1
        if self.width < image.width <= self.upto:
            time.sleep(self.seconds)
        return self.inner(image, saturation=saturation, **kw)


class Gated:
    """Wraps a Colorizer: each call waits for a permit the test gives (:meth:`let_one`), so a test orders
    requests by the server's state instead of by sleeps; counts calls."""

    def __init__(self, colorizer, timeout: float = 60.0):
        self.inner, self.timeout, self.calls = colorizer, timeout, 0
        self.name, self.render_size = colorizer.name, colorizer.render_size
        self._permits: queue.Queue[bool] = queue.Queue()

    def let_one(self, once_client_left: bool = False) -> None:
        """Let one call through; ``once_client_left``: only after the server has seen its client leave
        (the request's cancel event, :mod:`tinta.serve.limits`), so the model run then stops."""
        self._permits.put(once_client_left)

    def __call__(self, image, saturation=1.0, **kw):
        self.calls += 1
        once_client_left = self._permits.get(timeout=self.timeout)
        if once_client_left:
            assert limits._current.cancelled.wait(self.timeout), "the server never saw the client leave"
        return self.inner(image, saturation=saturation, **kw)


def health_reaches(url: str, deadline_s: float = 60.0, **want) -> dict:
    """Poll ``GET /health`` until its fields equal ``want`` (the deadline only bounds a broken server)."""
    deadline = time.monotonic() + deadline_s
    while True:
        stats = json.loads(request(url + "health")[2])
        if all(stats.get(k) == v for k, v in want.items()):
            return stats
        assert time.monotonic() < deadline, f"/health never reached {want}: {stats}"
        time.sleep(0.01)


def pause(seconds: float) -> None:
    """Sleep, or less when the request being served is cancelled (its client left)."""
    cancelled = getattr(limits._current, "cancelled", None)
    if cancelled is None:
        time.sleep(seconds)
    else:
        cancelled.wait(seconds)


class Painter:
    """A fake model whose answer says what it was asked: a solid picture of red = 100 x saturation;
    pictures wider than ``width`` take ``seconds``, or until their client leaves (to race requests in the
    browser)."""

    name, render_size = "painter", None

    def __init__(self, seconds: float = 1.5, width: int = 100, upto: int = 10**9):
        self.seconds, self.width, self.upto, self.calls = seconds, width, upto, 0

    def __call__(self, image, saturation=1.0, **kw):
        from PIL import Image

        self.calls += 1
        if self.width < image.width <= self.upto:
            pause(self.seconds)
        return Image.new("RGB", image.size, (round(100 * saturation), 40, 40))


class HintTaker:
    """A stand-in for a hint-taking model: the result is the inner
    model's, with each hint painted as a 5x5 square of its colour; records the hints it got."""

    takes_hints = True

    def __init__(self, colorizer):
        self.inner, self.name, self.render_size, self.seen = colorizer, "hint-test", colorizer.render_size, []

    def __call__(self, image, saturation=1.0, hints=None, reference=None, palette=None):
        from tinta.hints import as_hints

        hints = [(h.x, h.y, h.rgb) for h in as_hints(hints)]
        self.seen.append(hints)
        out = self.inner(image, saturation=saturation)
        for x, y, rgb in hints:
            out.paste(tuple(rgb), (int(x) - 2, int(y) - 2, int(x) + 3, int(y) + 3))
        return out


class ServedModels(ModelCache):
    """A ModelCache serving ``wrap(colorizer)`` for the run folder; render sizes still apply."""

    def __init__(self, run: str, wrap=None, extra: dict | None = None):
        super().__init__(list(extra or {}), run)
        self.wrap, self.extra, self.wrapped = wrap, dict(extra or {}), {}

    def load(self, name):
        name = name or self.default
        if name in self.extra:
            return self.extra[name]
        if name not in self.wrapped:
            inner = super().load(name)
            self.wrapped[name] = self.wrap(inner) if self.wrap else inner
        return self.wrapped[name]

    def get(self, name, render_size=None):
        c = self.load(name)
        if render_size is None:
            return c
        c = copy.copy(c)
        c.render_size = render_size
        return c


@contextmanager
def running(run, models: ModelCache | None = None, limits: Limits | None = None, host: str = "127.0.0.1",
            allow_hosts: tuple = ()):
    """Yields the server (``.url``); stops it afterwards."""
    server = make_server(str(run), host=host, port=0, limits=limits or Limits(), allow_hosts=allow_hosts,
                         quiet=True, models=models)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started, "the test server did not start"
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(10)


def request(url: str, method: str = "GET", body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30):
    """-> (status, headers (lower-case names), body bytes); never raises for an HTTP status."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        chunked = body is not None and not isinstance(body, bytes)
        conn.request(method, u.path + (f"?{u.query}" if u.query else ""), body=body, headers=headers or {},
                     encode_chunked=chunked)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def multipart(fields: dict | None = None, files: list[tuple[str, str, bytes]] = ()) -> tuple[bytes, str]:
    """A multipart/form-data body (as curl -F sends) -> (body, content type)."""
    boundary = "----tinta-test-boundary-7d1f"
    parts = []
    for k, v in (fields or {}).items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    for field, name, data in files:
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n")
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def wait_done(page, name: str):
    """Wait until the page offers the result ``name`` for download."""
    page.wait_for_function("n => { const a = document.querySelector('#download');"
                           " return a && !a.hidden && a.download === n; }", arg=name, timeout=20000)


def until(page, condition, timeout: float = 10.0):
    """Poll a Python ``condition`` every 50 ms of page time; AssertionError after ``timeout`` seconds."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("condition not met in time")


def health(site) -> dict:
    return json.loads(request(site["url"] + "health")[2])
