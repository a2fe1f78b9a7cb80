"""download_cifar10 against a local HTTP server serving a small archive in the official format."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial

import pytest

from tinta.cli import main
from tinta.data import load_dataset
from tinta.data.download import FILENAME, download_cifar10
from tinta.errors import TintaError
from tinta.files import TMP_MARK

from data_helpers import make_tar, write_cifar_python


@pytest.fixture
def server(tmp_path, monkeypatch):
    """``(base_url, md5, hits)``: a thread serving tmp_path/www on 127.0.0.1."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    www = tmp_path / "www"
    www.mkdir()
    arc = make_tar(write_cifar_python(tmp_path / "src"), www / FILENAME)
    hits = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            hits.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(www)))
    t = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hashlib.md5(arc.read_bytes()).hexdigest(), hits
    httpd.shutdown()
    httpd.server_close()


def test_good_md5(tmp_path, server):
    base, md5, hits = server
    out = tmp_path / "data"
    path = download_cifar10(out, url=f"{base}/{FILENAME}", md5=md5, quiet=True)
    assert path == out / FILENAME and hashlib.md5(path.read_bytes()).hexdigest() == md5
    assert sorted(p.name for p in out.iterdir()) == [FILENAME]
    assert len(load_dataset("cifar10", out, "test")) == 20
    download_cifar10(out, url=f"{base}/{FILENAME}", md5=md5, quiet=True)  # present: not fetched again
    assert len(hits) == 1


def test_a_killed_download_is_swept(tmp_path, server):
    base, md5, _ = server
    out = tmp_path / "data"
    out.mkdir()
    (out / f".{FILENAME}{TMP_MARK}999999999").write_bytes(b"half")  # left by a killed download (no such process)
    download_cifar10(out, url=f"{base}/{FILENAME}", md5=md5, quiet=True)
    assert sorted(p.name for p in out.iterdir()) == [FILENAME]


def test_bad_md5_leaves_nothing(tmp_path, server):
    base, md5, _ = server
    out = tmp_path / "data"
    with pytest.raises(TintaError, match="md5"):
        download_cifar10(out, url=f"{base}/{FILENAME}", md5="0" * 32, quiet=True)
    assert list(out.iterdir()) == []


def test_network_errors(tmp_path, server):
    base, md5, _ = server
    out = tmp_path / "data"
    with pytest.raises(TintaError, match="failed: HTTP 404"):
        download_cifar10(out, url=f"{base}/missing.tar.gz", md5=md5, quiet=True)
    with pytest.raises(TintaError, match="failed") as refused:
        download_cifar10(out, url="http://127.0.0.1:9/x.tar.gz", md5=md5, quiet=True, timeout=5)
    assert FILENAME not in str(refused.value).replace("/x.tar.gz", "")  # the network's fault, not the file's
    assert list(out.iterdir()) == []


def test_cli_download(tmp_path, server, capsys):
    base, md5, _ = server
    out = tmp_path / "cli"
    assert main(["data", "download", "cifar10", "--to", str(out), "--url", f"{base}/{FILENAME}", "--md5", md5]) == 0
    assert (out / FILENAME).is_file() and "ok" in capsys.readouterr().out
    assert main(["data", "download", "cifar10", "--to", str(tmp_path / "x"), "--url", f"{base}/{FILENAME}"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tinta data: error: download of") and "\n" not in err
