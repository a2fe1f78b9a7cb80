"""Running the application under uvicorn: the socket (bound here, so a busy port is a clear
error), the protocol with its timeouts, and a clean stop on Ctrl-C."""

from __future__ import annotations

import socket
import threading

import uvicorn

from tinta.errors import TintaError
from tinta.serve.app import make_app
from tinta.serve.limits import Limits
from tinta.serve.models import ModelCache
from tinta.serve.protocol import TintaH11Protocol
from tinta.serve.security import allowed_hosts


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise TintaError(f"cannot listen on {host}:{port} ({e.strerror or e})") from None
    sock.listen(2048)  # connections made before serving starts wait in the backlog
    sock.set_inheritable(True)
    return sock


class Server(uvicorn.Server):
    """A uvicorn server on a socket bound in advance: ``url``, ``serve_forever()`` (returns on
    Ctrl-C or ``should_exit``)."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket):
        super().__init__(config)
        self.sock = sock
        host, port = sock.getsockname()[:2]
        self.url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"

    def preload(self) -> None:
        """Load every offered model in the background (the page's model list needs them)."""
        threading.Thread(target=self.config.app.state.models.describe, daemon=True).start()

    def serve_forever(self) -> None:
        try:
            self.run(sockets=[self.sock])
        finally:
            self.sock.close()


def make_server(model: str = "default", host: str = "127.0.0.1", port: int = 8000, limits: Limits | None = None,
                allow_hosts: tuple[str, ...] = (), quiet: bool = False, models: ModelCache | None = None) -> Server:
    """A ready (not yet serving) server; ``port=0`` picks a free port (``server.url``)."""
    from tinta.pretrained import registry

    limits = limits or Limits()
    if models is None:
        models = ModelCache(sorted(registry()), model)
    models.load(model)  # fail now, not at the first request, if the model does not load
    protocol = type("Protocol", (TintaH11Protocol,), {"head_timeout": limits.head_timeout})
    app = make_app(models, limits, allowed_hosts(host, allow_hosts))
    sock = bind(host, port)
    config = uvicorn.Config(app, http=protocol, lifespan="off", timeout_keep_alive=int(max(1, limits.keep_alive)),
                            h11_max_incomplete_event_size=64 * 1024, log_level="warning" if quiet else "info",
                            access_log=not quiet, timeout_graceful_shutdown=5, server_header=False)
    return Server(config, sock)
