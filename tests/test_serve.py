"""tinta serve: the page, the JSON routes, colourizing over HTTP on 127.0.0.1, and bad requests."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from tinta.cli import main
from tinta.errors import TintaError
from tinta.inference import load_model
from tinta.serve import make_server

from helpers import make_run, photo


@pytest.fixture
def server(tmp_path, monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    run = make_run(tmp_path / "run")
    srv = make_server(str(run), port=0, max_mb=0.05, max_megapixels=0.01)
    srv.quiet = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", str(run)
    srv.shutdown()
    srv.server_close()


def _png(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def _post(url: str, body: bytes):
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers["Content-Type"], r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers["Content-Type"], e.read()


def test_page_and_models(server):
    base, run = server
    with urllib.request.urlopen(base + "/", timeout=10) as r:
        page = r.read().decode()
    assert r.headers["Content-Type"].startswith("text/html") and "/colorize" in page
    with urllib.request.urlopen(base + "/models", timeout=10) as r:
        models = json.loads(r.read())
    assert models["default"] == run and "default" in models["models"] and "cifar-horse" in models["models"]
    status, _, body = _post(base + "/nowhere", b"x")
    assert status == 404 and "no such endpoint" in json.loads(body)["error"]


def test_colorize_over_http_equals_the_api(server):
    base, run = server
    rgba = np.dstack([photo(40, 56), np.full((40, 56), 200, np.uint8)])
    status, ctype, body = _post(base + "/colorize?saturation=1.5", _png(rgba))
    assert status == 200 and ctype == "image/png"
    out = Image.open(io.BytesIO(body))
    assert out.size == (56, 40) and out.mode == "RGBA"
    want = load_model(run)(Image.fromarray(rgba), saturation=1.5)  # what the Python API gives
    assert np.array_equal(np.asarray(out), np.asarray(want))
    assert (np.asarray(out)[..., 3] == 200).all()


def test_saturation_zero_gives_grey(server):
    base, _ = server
    status, _, body = _post(base + "/colorize?saturation=0", _png(photo(32, 32)))
    rgb = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), np.int16)
    assert status == 200 and np.abs(rgb[..., 0] - rgb[..., 2]).max() <= 2


@pytest.mark.parametrize("query, body, code, words", [
    ("", b"", 400, "no picture"),
    ("", b"not an image at all", 400, "not a readable image"),
    ("?saturation=lots", None, 400, "saturation must be a number"),
    ("?saturation=9", None, 400, "saturation must be between 0 and 4"),
    ("?model=../../etc", None, 400, "unknown model"),
    ("", np.zeros((200, 200), np.uint8), 400, "at most 10,000 pixels"),
    ("", b"x" * 60_000, 413, "at most 50,000"),
])
def test_bad_requests_get_a_clear_error(server, query, body, code, words):
    base, _ = server
    if body is None:
        body = _png(photo(16, 16))
    elif isinstance(body, np.ndarray):
        body = _png(body)
    status, ctype, raw = _post(base + "/colorize" + query, body)
    assert status == code and ctype == "application/json"
    assert words in json.loads(raw)["error"]
    with urllib.request.urlopen(base + "/health", timeout=10) as r:  # the server lives on
        assert json.loads(r.read())["ok"]


def test_unknown_model_fails_at_start(tmp_path, capsys):
    with pytest.raises(TintaError):
        make_server(str(tmp_path / "missing") + "/", port=0)
    assert main(["serve", "--model", "./no/such/run", "--port", "0"]) == 2
    assert "no such run folder" in capsys.readouterr().err


def test_help(capsys):
    assert main(["serve", "--help"]) == 0  # main returns argparse's exit status rather than raising SystemExit
    assert "--max-mb" in capsys.readouterr().out
