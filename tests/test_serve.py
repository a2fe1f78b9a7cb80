"""tinta serve over real HTTP (uvicorn on 127.0.0.1): the routes, raw / form / chunked uploads,
output formats and EXIF, JSON errors for every status, and the CLI. Framing, timeouts, Host /
Origin checks and the concurrency gate: tests/test_serve_limits.py."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from browser.server import multipart, request, running
from tinta.cli import main
from tinta.errors import TintaError
from tinta.inference import load_model
from tinta.serve import Limits, ModelCache, make_server

from helpers import make_run, photo

LIMITS = Limits(max_bytes=50_000, max_pixels=10_000, zip_bytes=200_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("serve")
    run, guided = make_run(root / "run"), make_run(root / "guided", model="guided-unet")
    with running(run, models=ModelCache([str(guided)], str(run)), limits=LIMITS) as srv:  # no shipped models
        yield srv.url.rstrip("/"), str(run)


def _encode(arr: np.ndarray, fmt: str = "PNG", **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format=fmt, **kw)
    return buf.getvalue()


def _json(body: bytes) -> dict:
    return json.loads(body)


def test_page_models_examples_docs(server):
    base, run = server
    status, headers, page = request(base + "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"/static/app.js" in page and b'aria-live="polite"' in page and b'type="file"' in page
    assert b"http://" not in page and b"https://" not in page  # no external assets
    for asset in ("app.js", "batch.js", "compare.js", "hints.js", "guide.js", "style.css"):
        status, _, body = request(f"{base}/static/{asset}")
        assert status == 200 and b"http://" not in body and b"https://" not in body
    status, _, body = request(base + "/models")
    models = _json(body)
    assert models["default"] == run and [m["name"] for m in models["models"]][0] == run
    assert {"description", "takes_hints", "render_size"} <= set(models["models"][0])
    assert [m["takes_hints"] for m in models["models"]] == [False, True]
    examples = _json(request(base + "/examples")[2])["examples"]
    assert {e["name"] for e in examples} >= {"chelsea.jpg", "astronaut.jpg"}
    status, headers, _ = request(base + examples[0]["url"])
    assert status == 200 and headers["content-type"] == "image/jpeg"
    spec = _json(request(base + "/openapi.json")[2])
    assert "/colorize" in spec["paths"] and spec["openapi"].startswith("3.")
    status, _, docs = request(base + "/docs")
    assert status == 200 and b"curl -F file=@photo.jpg" in docs


@pytest.mark.parametrize("method, path, code, allow", [
    ("GET", "/colorize", 405, "POST"), ("HEAD", "/colorize", 405, "POST"), ("PUT", "/colorize", 405, "POST"),
    ("DELETE", "/", 405, "GET, HEAD"), ("OPTIONS", "/colorize", 405, "POST"), ("POST", "/models", 405, "GET, HEAD"),
    ("GET", "/nowhere", 404, None), ("POST", "/nowhere", 404, None), ("GET", "/examples/../../x", 404, None),
])
def test_every_error_status_is_json(server, method, path, code, allow):
    base, _ = server
    status, headers, body = request(base + path, method, body=b"" if method in ("PUT", "POST") else None)
    assert status == code and headers["content-type"] == "application/json"
    if method != "HEAD":
        assert _json(body)["error"]
    if allow:
        assert headers["allow"] == allow


def test_head_of_a_page(server):
    base, _ = server
    status, headers, body = request(base + "/", "HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0


def test_raw_form_and_chunked_uploads_equal_the_api(server):
    base, run = server
    rgba = np.dstack([photo(40, 56), np.full((40, 56), 200, np.uint8)])
    png = _encode(rgba)
    want = np.asarray(load_model(run)(Image.fromarray(rgba), saturation=1.5))
    form, ctype = multipart({"saturation": "1.5"}, [("file", "my photo.png", png)])
    chunks = iter([png[:1000], png[1000:]])
    for body, headers, extra in [(png, {}, "?saturation=1.5"), (form, {"Content-Type": ctype}, ""),
                                 (chunks, {"Transfer-Encoding": "chunked"}, "?saturation=1.5")]:
        status, h, out = request(base + "/colorize" + extra, "POST", body, headers)
        assert status == 200 and h["content-type"] == "image/png", out[:200]
        got = Image.open(io.BytesIO(out))
        assert got.size == (56, 40) and got.mode == "RGBA"
        assert np.array_equal(np.asarray(got), want)
        assert h["cache-control"] == "no-store" and h["x-tinta-model"] == run
    assert "my%20photo-colour.png" in request(base + "/colorize", "POST", form, {"Content-Type": ctype})[1][
        "content-disposition"]


def test_output_format_defaults_to_the_input_and_exif_is_kept(server):
    base, _ = server
    exif = Image.Exif()
    exif[0x0112] = 6  # shown rotated by 90 degrees
    exif.get_ifd(0x8769)[0x9003] = "1931:07:04 10:20:30"  # DateTimeOriginal
    jpg = _encode(photo(40, 56), "JPEG", exif=exif.tobytes())
    cases = [("", jpg, "image/jpeg", "JPEG"), ("?format=webp", jpg, "image/webp", "WEBP"),
             ("?format=png", jpg, "image/png", "PNG"), ("?format=jpg", _encode(photo(40, 56)), "image/jpeg", "JPEG"),
             ("", _encode(photo(40, 56), "BMP"), "image/png", "PNG"), ("", _encode(photo(40, 56), "WEBP"),
                                                                    "image/webp", "WEBP")]
    for query, body, ctype, pil in cases:
        status, headers, out = request(base + "/colorize" + query, "POST", body)
        assert status == 200 and headers["content-type"] == ctype
        im = Image.open(io.BytesIO(out))
        assert im.format == pil
        if body is jpg:  # upright, with the date taken
            assert im.size == (40, 56)
            e = im.getexif()
            assert e.get(0x0112, 1) == 1 and e.get_ifd(0x8769)[0x9003] == "1931:07:04 10:20:30"


def test_alpha_with_jpeg_output_is_flattened(server):
    base, _ = server
    rgba = np.dstack([photo(20, 20), np.full((20, 20), 100, np.uint8)])
    status, headers, out = request(base + "/colorize?format=jpeg", "POST", _encode(rgba))
    assert status == 200 and Image.open(io.BytesIO(out)).mode == "RGB"


@pytest.mark.parametrize("query, body, code, words", [
    ("", b"", 400, "no picture"),
    ("", b"not an image at all", 400, "not a readable image"),
    ("?saturation=lots", None, 400, "saturation must be a number"),
    ("?saturation=9", None, 400, "saturation must be between 0 and 4"),
    ("?model=../../etc", None, 400, "unknown model"),
    ("?render_size=7", None, 400, "render size must be"),
    ("?render_size=big", None, 400, "render size must be a whole number"),
    ("?format=gif", None, 400, "format must be one of"),
    ("?hints=notjson", None, 400, "hints must be a JSON list"),
    ('?hints=[{"x":1,"y":2,"color":"%23c03020"}]', None, 400, "takes no point hints"),
    ("", np.zeros((200, 200), np.uint8), 400, "at most 10,000 pixels"),
    ("", b"x" * 60_000, 413, "at most 50,000"),
])
def test_bad_requests_get_a_clear_error(server, query, body, code, words):
    base, _ = server
    if body is None:
        body = _encode(photo(16, 16))
    elif isinstance(body, np.ndarray):
        body = _encode(body)
    status, headers, raw = request(base + "/colorize" + query, "POST", body)
    assert status == code and headers["content-type"] == "application/json"
    assert words in _json(raw)["error"]
    assert _json(request(base + "/health")[2])["ok"]  # the server lives on


def test_hints_palette_and_reference_reach_a_guided_model(server):
    base, _ = server
    guided = _json(request(base + "/models")[2])["models"][1]["name"]
    png = _encode(photo(40, 56))
    hint = '[{"x": 10, "y": 20, "color": "#c03020"}]'
    for fields, files in [({"hints": hint, "palette": "#c03020, #2050a0"}, []),
                          ({"hints": hint}, [("reference", "r.png", png)])]:
        body, ctype = multipart({"model": guided, **fields}, [("file", "p.png", png), *files])
        status, headers, out = request(base + "/colorize", "POST", body, {"Content-Type": ctype})
        assert status == 200 and Image.open(io.BytesIO(out)).size == (56, 40), out[:300]
    for fields, files, words in [({"hints": '[{"x": 10}]'}, [], "needs x, y and color"),
                                 ({"palette": "#zz0000"}, [], "not a colour"),
                                 ({"palette": "#c03020"}, [("reference", "r.png", png)], "not both")]:
        body, ctype = multipart({"model": guided, **fields}, [("file", "p.png", png), *files])
        status, _, out = request(base + "/colorize", "POST", body, {"Content-Type": ctype})
        assert status == 400 and words in _json(out)["error"]


def test_a_text_file_in_a_form_is_refused(server):
    base, _ = server
    body, ctype = multipart({}, [("file", "notes.txt", b"hello, not a picture")])
    status, _, raw = request(base + "/colorize", "POST", body, {"Content-Type": ctype})
    assert status == 400 and "not a readable image" in _json(raw)["error"]
    body, ctype = multipart({"saturation": "1"}, [])
    status, _, raw = request(base + "/colorize", "POST", body, {"Content-Type": ctype})
    assert status == 400 and "no picture" in _json(raw)["error"]


@pytest.mark.parametrize("shape", [(1, 300), (300, 1), (2, 2000)])
def test_thin_pictures_are_quick(server, shape):
    """The render size is bounded: a 1x300 strip costs what a small photo costs (it took 10 s)."""
    base, _ = server
    for query in ("", "?render_size=0", "?render_size=2048"):
        status, headers, out = request(base + "/colorize" + query, "POST", _encode(photo(*shape)), timeout=10)
        assert status == 200 and Image.open(io.BytesIO(out)).size == shape[::-1]
        assert float(headers["server-timing"].split("dur=")[1]) < 3000


def test_zip_packs_results_under_unique_names(server):
    base, _ = server
    body, ctype = multipart({}, [("file", "a-colour.jpg", b"1"), ("file", "a-colour.jpg", b"22"),
                                 ("file", "../../etc/b.png", b"333")])
    status, headers, raw = request(base + "/zip", "POST", body, {"Content-Type": ctype})
    assert status == 200 and headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(raw))
    assert z.namelist() == ["a-colour.jpg", "a-colour-2.jpg", "b.png"] and z.read("b.png") == b"333"
    status, _, raw = request(base + "/zip", "POST", b"x")
    assert status == 400 and "multipart" in _json(raw)["error"]


def test_unknown_model_and_busy_port_fail_at_start(tmp_path, capsys):
    with pytest.raises(TintaError):
        make_server(str(tmp_path / "missing") + "/", port=0)
    assert main(["serve", "--model", "./no/such/run", "--port", "0"]) == 2
    assert "no such run folder" in capsys.readouterr().err
    run = make_run(tmp_path / "run")
    with running(run) as srv:
        assert {"default", "vivid", "cifar-horse", str(run)} <= set(srv.config.app.state.models.allowed)
        port = srv.url.rsplit(":", 1)[1].strip("/")
        with pytest.raises(TintaError, match="cannot listen"):
            make_server(str(run), port=int(port))


def test_help(capsys):
    assert main(["serve", "--help"]) == 0  # main returns argparse's exit status rather than raising SystemExit
    out = capsys.readouterr().out
    assert "--max-mb" in out and "--workers" in out and "--allow-host" in out


def test_a_kept_picture_renders_previews_and_a_full_download(server):
    """POST /sessions keeps the picture; renders send settings only; previews of larger pictures are JPEGs at
    the asked long side; the download is the full picture of the latest (remembered) render."""
    base, run = server
    status, _, body = request(base + "/sessions", "POST", _encode(photo(60, 80)), {"Content-Type": "image/png"})
    kept = _json(body)
    assert status == 201 and (kept["width"], kept["height"], kept["frames"], kept["partial"]) == (80, 60, 1, False)
    sid = kept["id"]
    status, headers, body = request(f"{base}/sessions/{sid}/render?preview=64&saturation=1.5", "POST", b"")
    assert status == 200 and headers["content-type"] == "image/jpeg" and headers["x-tinta-preview"] == "1"
    assert Image.open(io.BytesIO(body)).size == (64, 48) and headers["x-tinta-size"] == "80x60"
    status, headers, body = request(f"{base}/sessions/{sid}/render?saturation=1.5", "POST", b"")
    full = np.asarray(Image.open(io.BytesIO(body)))
    assert status == 200 and full.shape == (60, 80, 3) and "x-tinta-preview" not in headers
    status, _, _ = request(f"{base}/sessions/{sid}/render?saturation=0&remember=0", "POST", b"")  # a side render
    status, headers, body = request(f"{base}/sessions/{sid}/download")
    assert status == 200 and headers["content-disposition"].startswith("attachment")
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(body))), full)  # the remembered one, not the side one
    status, _, body = request(f"{base}/sessions/{sid}/input?size=64")
    assert status == 200 and Image.open(io.BytesIO(body)).size == (64, 48)
    assert request(f"{base}/sessions/{sid}", "DELETE")[0] == 200
    status, _, body = request(f"{base}/sessions/{sid}/render", "POST", b"")
    assert status == 404 and "send it again" in _json(body)["error"]


def test_models_say_plain_words_and_docs_name_every_field(server):
    base, _ = server
    for m in _json(request(base + "/models")[2])["models"]:
        assert m["summary"].startswith("A model trained here") and m["toy"] is False
    from tinta.serve.models import PLAIN, TOY

    assert set(PLAIN) >= set(__import__("tinta.pretrained", fromlist=["registry"]).registry())
    assert TOY == {"cifar-horse"} and not any(w in " ".join(PLAIN.values()) for w in ("T=0.", " dB", "annealed"))
    page = request(base + "/docs")[2].decode()
    port = base.rsplit(":", 1)[1]
    assert "<code>reference</code>" in page and ":8000" not in page and f"127.0.0.1:{port}/colorize" in page
