"""tinta serve's limits over raw sockets: 100-continue, body and head timeouts, oversized URLs and
headers, the Host / Origin checks, the concurrency gate (503 + Retry-After) and dropping the work
of a client that left, without a traceback."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time

import numpy as np
import pytest
from PIL import Image

from browser.server import Gated, ServedModels, health_reaches, request, running
from tinta.serve import Limits, ModelCache
from tinta.serve.security import allowed_hosts, host_name

from helpers import make_run, photo

FAST = Limits(max_bytes=50_000, max_pixels=100_000, body_timeout=0.5, head_timeout=0.5, keep_alive=0.5)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("limits") / "run")


@pytest.fixture(scope="module")
def server(run):
    with running(run, models=ModelCache([], str(run)), limits=FAST) as srv:
        yield srv


def _png(h=24, w=32) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo(h, w)).save(buf, format="PNG")
    return buf.getvalue()


def _connect(server) -> socket.socket:
    port = int(server.url.rsplit(":", 1)[1].strip("/"))
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    return s


def _read_all(s: socket.socket) -> bytes:
    out = b""
    while chunk := s.recv(65536):
        out += chunk
    return out


def _head(method: str, path: str, headers: dict) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *[f"{k}: {v}" for k, v in headers.items()]]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), raw[:300]
    return int(head.split()[1]), json.loads(body)


def test_expect_100_continue_is_answered_at_once(server):
    body = _png()
    with _connect(server) as s:
        s.sendall(_head("POST", "/colorize", {"Content-Length": len(body), "Expect": "100-continue"}))
        t0 = time.monotonic()
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
        assert time.monotonic() - t0 < 0.5  # curl waits 1 s for it before sending anyway
        s.sendall(body)
        assert s.recv(100).startswith(b"HTTP/1.1 200")


def test_a_bogus_huge_length_is_refused_at_once(server):
    with _connect(server) as s:
        s.sendall(_head("POST", "/colorize", {"Content-Length": 10**12, "Expect": "100-continue"}))
        status, err = _status_and_json(_read_all(s))  # no 100 Continue, and the connection closes
    assert status == 413 and "at most 50,000" in err["error"]


def test_a_bogus_huge_length_without_expect_is_refused_at_once(server):
    with _connect(server) as s:
        s.sendall(_head("POST", "/colorize", {"Content-Length": 10**12}))
        t0 = time.monotonic()
        status, err = _status_and_json(_read_all(s))
    assert status == 413 and time.monotonic() - t0 < 1


def test_a_chunked_body_over_the_cap_is_refused(server):
    with _connect(server) as s:
        s.sendall(_head("POST", "/colorize", {"Transfer-Encoding": "chunked"}))
        for _ in range(7):  # 57,344 bytes: the 7th chunk crosses the cap, and nothing is left unread (no RST)
            s.sendall(b"2000\r\n" + b"x" * 0x2000 + b"\r\n")
        status, err = _status_and_json(_read_all(s))
    assert status == 413 and "over" in err["error"]


def test_a_stalled_body_gets_408(server):
    with _connect(server) as s:
        s.sendall(_head("POST", "/colorize", {"Content-Length": 1000}) + b"x" * 10)
        t0 = time.monotonic()
        status, err = _status_and_json(_read_all(s))
    assert status == 408 and "no body data" in err["error"] and time.monotonic() - t0 < 3


def test_silent_and_slow_connections_are_closed(server):
    silent, slow, idle = _connect(server), _connect(server), _connect(server)  # timed out side by side
    t0 = time.monotonic()
    slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # half a request head, then nothing
    idle.sendall(_head("GET", "/health", {}))  # a keep-alive connection left idle after its answer
    with silent, slow, idle:
        assert _read_all(silent) == b""
        status, err = _status_and_json(_read_all(slow))
        assert status == 408 and "request head" in err["error"]
        assert b'"ok":true' in _read_all(idle)
    assert time.monotonic() - t0 < 3


@pytest.mark.parametrize("raw, code, words", [
    (_head("GET", "/" + "a" * 9000, {}), 414, "the URL is"),
    (_head("GET", "/", {"X-Big": "b" * 20000}), 431, "headers are"),
    (b"GET / HTTP/1.1\r\nX-Big: " + b"c" * 70000, 431, "too large"),  # an unfinished head past h11's 64 KiB
    (b"NONSENSE\r\n\r\n", 400, "malformed HTTP request"),
])
def test_oversized_and_malformed_requests_get_json(server, raw, code, words):
    with _connect(server) as s:
        s.sendall(raw)
        status, err = _status_and_json(_read_all(s))
    assert status == code and words in err["error"]


def test_host_and_origin_checks(server):
    url = server.url + "colorize"
    png = _png()
    status, _, body = request(url, "POST", png, {"Host": "evil.example:8000"})  # DNS rebinding
    assert status == 421 and "host name" in json.loads(body)["error"]
    status, _, body = request(server.url, "GET", headers={"Host": "attacker.test"})
    assert status == 421
    host = server.url.split("//")[1].strip("/")
    for origin in ("http://localhost:3000", "null", "http://evil.example", f"https://{host}"):
        status, _, body = request(url, "POST", png, {"Origin": origin, "Content-Type": "text/plain"})
        assert status == 403 and "refused" in json.loads(body)["error"], origin
    status, _, _ = request(url, "POST", png, {"Sec-Fetch-Site": "same-site"})
    assert status == 403
    status, _, _ = request(url, "POST", png, {"Origin": f"http://{host}", "Sec-Fetch-Site": "same-origin"})
    assert status == 200
    status, _, _ = request(url.replace("127.0.0.1", "localhost"), "POST", png)
    assert status == 200


def test_allowed_host_names():
    assert allowed_hosts("127.0.0.1") == {"localhost", "127.0.0.1", "::1"}
    assert allowed_hosts("0.0.0.0") is None  # every interface: any name (documented)
    assert allowed_hosts("0.0.0.0", ["photos.lan"]) == {"localhost", "127.0.0.1", "::1", "photos.lan"}
    assert allowed_hosts("192.168.1.5") >= {"192.168.1.5", "localhost"}
    assert [host_name(h) for h in ("a.b:80", "[::1]:8000", "::1", "LOCALHOST")] == ["a.b", "::1", "::1", "localhost"]


def test_a_wildcard_host_answers_any_name(run):
    with running(run, models=ModelCache([], str(run)), limits=FAST, host="0.0.0.0") as srv:
        port = srv.url.rsplit(":", 1)[1].strip("/")
        status, _, _ = request(f"http://127.0.0.1:{port}/health", headers={"Host": "photos.lan"})
        assert status == 200


def _post_in_thread(url, body, out, i):
    out[i] = request(url, "POST", body, timeout=30)


def test_a_full_queue_gets_503_with_retry_after(run):
    gated = ServedModels(str(run), wrap=Gated)
    limits = Limits(max_bytes=50_000, workers=1, queue=1)
    with running(run, models=gated, limits=limits) as srv:
        model, out = gated.load(None), [None] * 2
        threads = [threading.Thread(target=_post_in_thread, args=(srv.url + "colorize", _png(), out, i))
                   for i in range(2)]
        threads[0].start()
        health_reaches(srv.url, running=1)  # the first holds the one worker
        threads[1].start()
        health_reaches(srv.url, queued=1)  # the second fills the queue
        status, headers, body = request(srv.url + "colorize", "POST", _png())
        assert status == 503 and int(headers["retry-after"]) >= 1 and "busy" in json.loads(body)["error"]
        model.let_one()
        model.let_one()
        for t in threads:
            t.join()
        assert [r[0] for r in out] == [200, 200]
        assert health_reaches(srv.url, done=2)["refused"] == 1


def test_work_of_a_client_that_left_is_dropped_quietly(run, caplog):
    gated = ServedModels(str(run), wrap=Gated)
    limits = Limits(max_bytes=50_000, workers=1, queue=2)
    body = _png()
    with caplog.at_level(logging.INFO), running(run, models=gated, limits=limits) as srv:
        model = gated.load(None)
        first = threading.Thread(target=_post_in_thread, args=(srv.url + "colorize", body, [None], 0))
        first.start()
        health_reaches(srv.url, running=1)
        with _connect(srv) as s:  # queued behind the first, then gone
            s.sendall(_head("POST", "/colorize", {"Content-Length": len(body)}) + body)
            health_reaches(srv.url, queued=1)
        health_reaches(srv.url, queued=0, abandoned=1)
        model.let_one()
        first.join()
        with _connect(srv) as s:  # running, then gone: dropped at the model's next layer, no traceback
            s.sendall(_head("POST", "/colorize", {"Content-Length": len(body)}) + body)
            health_reaches(srv.url, running=1)
        model.let_one(once_client_left=True)
        stats = health_reaches(srv.url, running=0, abandoned=2)
    assert stats["done"] == 1
    assert model.calls == 2  # the queued one never reached the model
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "BrokenPipe" not in caplog.text and "Traceback" not in caplog.text


def test_memory_guard_pictures_over_the_pixel_cap_are_refused_before_decoding(server):
    big = io.BytesIO()
    Image.fromarray(np.zeros((400, 400), np.uint8)).save(big, format="PNG")
    status, _, body = request(server.url + "colorize", "POST", big.getvalue())
    assert status == 400 and "at most 100,000 pixels" in json.loads(body)["error"]


@pytest.mark.slow
def test_four_12_megapixel_uploads_stay_under_1_5_gb(tmp_path):
    """The memory goal, measured as benchmarks/serve.py does: a fresh server process (model
    `default`), 4 concurrent uploads of a 12-megapixel grey JPEG, peak RSS (VmHWM)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("bench_serve", Path(__file__).parents[1] / "benchmarks" / "serve.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.load("new", "default", tmp_path, bench.grey_jpeg(4000, 3000), 4, 4)
    assert result["non-200"] == 0 and result["peak RSS MB"] < 1500, result
