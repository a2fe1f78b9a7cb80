"""tinta serve under faults (issue 21, server items): multi-frame uploads say they are partial (21.6), a
file name with a line break is refused before any work (21.7), and memory has one bound (21.13): a
budget every request counts against (413 alone past it, a queue within it), "the whole picture" capped,
a model run stopped when its client leaves, memory handed back after big requests, one palette rule."""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time

import numpy as np
import pytest
import torch.nn as nn
from PIL import Image

from browser.server import Gated, ServedModels, SlowForBig, health_reaches, multipart, request, running
from tinta.cli import main
from tinta.inference import load_model
from tinta.serve import Limits

from helpers import make_run, photo


def _png(h: int = 24, w: int = 32) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(photo(h, w)).save(buf, format="PNG")
    return buf.getvalue()


def _gif(frames: int = 3) -> bytes:
    pics = [Image.fromarray(photo(24, 32, seed=i)) for i in range(frames)]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:])
    return buf.getvalue()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("serve-faults") / "run")


@pytest.fixture
def counted(run):
    """A server whose model counts its calls (and sleeps 1 s for pictures wider than 100 px)."""
    models = ServedModels(str(run), wrap=lambda c: SlowForBig(c, seconds=1.0, width=100))
    with running(run, models=models, limits=Limits(memory=25_000_000, render_pixels=20_000)) as srv:
        yield srv.url, models


def test_a_multi_frame_upload_says_it_is_partial(model_run, tmp_path):
    """21.6: the CLI says "partial" and exits 1; the server said a plain 200. Now: a header, and the JSON of
    a kept picture."""
    gif = tmp_path / "anim.gif"
    gif.write_bytes(_gif(3))
    assert main(["colorize", str(gif), "-o", str(tmp_path / "out.png"), "--checkpoint", str(model_run)]) == 1
    with running(model_run) as srv:
        status, headers, body = request(srv.url + "colorize", "POST", _gif(3))
        assert status == 200 and headers["x-tinta-frames"] == "3"
        assert "only the first of its 3 frames" in headers["x-tinta-partial"]
        status, _, body = request(srv.url + "sessions", "POST", _gif(3))
        kept = json.loads(body)
        assert status == 201 and kept["partial"] is True and kept["frames"] == 3
        assert "only the first of its 3 frames" in kept["note"]
        status, _, body = request(srv.url + "sessions", "POST", _png())
        assert json.loads(body)["partial"] is False


@pytest.mark.parametrize("name", ["evil\r\nSet-Cookie: x=1.png", "tab\there.png", "nul\x00.png"])
def test_a_name_with_control_characters_is_refused_before_the_model_runs(counted, caplog, name):
    """21.7: the request was dropped (no answer, a traceback in the log) after the model ran."""
    url, models = counted
    calls = models.load(None).calls
    body, ctype = multipart({"name": name}, [("file", "a.png", _png())])
    with caplog.at_level(logging.INFO):
        status, headers, out = request(url + "colorize", "POST", body, {"Content-Type": ctype})
        assert status == 400 and "control characters" in json.loads(out)["error"]
        status, _, out = request(url + "sessions", "POST", body, {"Content-Type": ctype})
        assert status == 400 and "control characters" in json.loads(out)["error"]
    assert models.load(None).calls == calls  # refused before any work
    assert "Exception in ASGI application" not in caplog.text and "Traceback" not in caplog.text


def test_an_all_commas_palette_is_refused_as_the_cli_refuses_it(run, tmp_path, capsys):
    (tmp_path / "a.png").write_bytes(_png())
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o.png"), "--checkpoint", str(run),
                 "--palette", ",,,"]) == 2
    cli = capsys.readouterr().err.strip().splitlines()[-1]
    with running(run) as srv:
        status, _, out = request(srv.url + "colorize?palette=,,,", "POST", _png())
    assert status == 400 and json.loads(out)["error"] in cli


def test_a_request_past_the_memory_budget_gets_413_at_once(counted):
    url, models = counted
    calls = models.load(None).calls
    status, headers, out = request(url + "colorize?render_size=2048", "POST", _png(600, 800))
    error = json.loads(out)["error"]
    assert status == 413 and "memory budget is 25 MB" in error and "--memory-mb" in error
    assert models.load(None).calls == calls
    assert json.loads(request(url + "health")[2])["too_big"] >= 1


def test_requests_within_the_budget_but_not_together_wait_their_turn(run):
    """Two workers, but a budget that holds one of these pictures at a time: the second waits (not 503)."""
    models = ServedModels(str(run), wrap=Gated)
    picture = _png(150, 200)  # 30,000 pixels, 32 x 42 rendered: about 2.1 MB (tinta.serve.pictures.cost)
    with running(run, models=models, limits=Limits(workers=2, memory=3_000_000)) as srv:
        out = {}

        def post(i):
            out[i] = request(srv.url + "colorize", "POST", picture)[0]

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        held = health_reaches(srv.url, running=1, queued=1)  # one worker stays idle: the budget holds one
        assert held["memory_in_use_mb"] <= 3
        models.load(None).let_one()
        after = health_reaches(srv.url, running=1, queued=0, done=1)  # the second runs once the first is done
        assert after["memory_in_use_mb"] <= 3
        models.load(None).let_one()
        for t in threads:
            t.join()
    assert out == {0: 200, 1: 200}


def test_the_whole_picture_is_capped(counted):
    url, _ = counted
    status, headers, body = request(url + "colorize?render_size=0", "POST", _png(150, 200))
    assert status == 200 and headers["x-tinta-render-size"].startswith("122 ")  # 122 x 162 < 20,000 pixels
    assert Image.open(io.BytesIO(body)).size == (200, 150)


class Crawl(nn.Module):
    """A model that runs up to 5,000 slow layers (100 s) before the real one, so a client can leave during its
    run on any machine."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.step, self.steps, self.started = inner, nn.Identity(), 0, threading.Event()

    def forward(self, x):
        self.started.set()
        for _ in range(5000):
            self.step(x)
            self.steps += 1
            time.sleep(0.02)
        return self.inner(x)


def test_a_model_run_stops_when_its_client_leaves(run):
    """21.13: an abandoned request ran to the end; now the model stops at its next layer."""
    colorizer = load_model(str(run))
    crawl = Crawl(colorizer.model)
    colorizer.model = crawl
    models = ServedModels(str(run), wrap=lambda c: colorizer)
    with running(run, models=models) as srv:
        host, port = srv.sock.getsockname()[:2]
        data = _png()
        s = socket.create_connection((host, port))
        s.sendall(b"POST /colorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                  + f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        assert crawl.started.wait(20)
        s.close()
        health_reaches(srv.url, abandoned=1)
        steps = crawl.steps
        time.sleep(0.3)
        assert crawl.steps == steps < 5000  # stopped (abandoned counts after the model run raised), not run to the end


def test_a_client_leaving_during_its_upload_counts_as_abandoned(run):
    """The page's cancel can land while the photo is still uploading: /health counts it like any request whose
    client left, so the operator's figures add up (and the browser test that cancels never waits in vain)."""
    with running(run) as srv:
        host, port = srv.sock.getsockname()[:2]
        data = _png()
        s = socket.create_connection((host, port))
        s.sendall(b"POST /colorize HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                  + f"Content-Length: {len(data)}\r\n\r\n".encode() + data[: len(data) // 2])
        time.sleep(0.2)  # the server is reading the body; then the client goes
        s.close()
        stats = health_reaches(srv.url, abandoned=1)
        assert stats["done"] == 0 and stats["running"] == 0


def test_memory_is_handed_back_after_a_big_request(run, monkeypatch):
    import tinta.serve.limits as limits

    trims = []
    monkeypatch.setattr(limits, "TRIM_BYTES", 5_000_000)
    monkeypatch.setattr(limits, "trim_memory", lambda: trims.append(1))
    with running(run) as srv:
        assert request(srv.url + "colorize", "POST", _png(24, 32))[0] == 200
        assert trims == []  # small: nothing to hand back
        assert request(srv.url + "colorize?render_size=512", "POST", _png(300, 400))[0] == 200
        assert trims == [1]


def test_kept_pictures_are_bounded_and_freed(run):
    with running(run, limits=Limits(sessions=2)) as srv:
        ids = [json.loads(request(srv.url + "sessions", "POST", _png())[2])["id"] for _ in range(3)]
        assert request(srv.url + f"sessions/{ids[0]}")[0] == 404  # the oldest was freed
        assert request(srv.url + f"sessions/{ids[2]}")[0] == 200
        health = json.loads(request(srv.url + "health")[2])["sessions"]
        assert health["kept"] == 2 and health["freed"] == 1
        assert np.isfinite(health["kept_mb"])


def test_every_header_value_built_is_plain_ascii():
    """21.7's other half: a value built from a name (a run folder's, say) never breaks the headers."""
    from tinta.serve.pictures import disposition, header_text

    assert header_text("default") == "default" and header_text("runs/été\r\nx") == "runs/%C3%A9t%C3%A9%0D%0Ax"
    value = disposition("été\r\n.png")
    assert value.isascii() and "\r" not in value and "\n" not in value
