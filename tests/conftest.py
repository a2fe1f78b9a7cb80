"""Shared fixtures. Network access is blocked for every test: anything that tries to
reach a non-loopback address fails loudly."""

from __future__ import annotations

import os
import socket

import pytest

_real_connect = socket.socket.connect


def pytest_configure(config):
    """Under pytest-xdist (``make test`` runs two workers), each worker's torch uses one thread, and so does
    every subprocess a test starts: two workers with two spinning threads each on two cores stall each other."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


def _guarded_connect(self, address, *args, **kwargs):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and (host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")):
        return _real_connect(self, address, *args, **kwargs)
    raise RuntimeError(f"network access blocked in tests (tried {address!r})")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield


@pytest.fixture(autouse=True)
def _tmp_cache(tmp_path, monkeypatch):
    """Each test gets its own TINTA_CACHE, so no test reads another's cache."""
    monkeypatch.setenv("TINTA_CACHE", str(tmp_path / "tinta-cache"))
    yield


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module of tiny-frame tests: on a busy 2-core machine a second spinning
    thread costs up to 20x (use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
