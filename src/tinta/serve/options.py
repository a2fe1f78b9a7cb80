"""The options of ``tinta serve``: one frozen dataclass whose field help is the command-line help;
:meth:`ServeOptions.limits` turns them into the server's :class:`~tinta.serve.limits.Limits`. Importing
this module loads neither torch nor Starlette, so ``tinta serve --help`` stays light."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tinta.errors import TintaError

GROUPS = {"limits": "a request past one gets a JSON error"}
HOSTS_HELP = """Host names: only loopback names (and the --host address) are answered unless --host is a
wildcard (0.0.0.0, ::), which answers any; --allow-host NAME adds names. Posts from other
web pages (another Origin) are refused."""


def _limit(default, text: str):
    return field(default=default, metadata={"help": text, "group": "limits"})


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """What ``tinta serve`` serves, where, and within which limits."""

    model: str = field(default="default", metadata={
        "help": "default model: shipped weights name or run folder"})
    host: str = field(default="127.0.0.1", metadata={"help": "address to listen on (0.0.0.0: every interface)"})
    port: int = field(default=8000, metadata={"help": "port (0: any free port)"})
    allow_host: tuple[str, ...] = field(default=(), metadata={
        "help": "also answer requests for this host name (repeatable)", "repeat": True, "metavar": "NAME"})
    quiet: bool = field(default=False, metadata={"help": "no line per request"})
    max_mb: float = _limit(25.0, "largest upload accepted, in MB (a larger one: 413)")
    max_megapixels: float = _limit(50.0, "largest picture accepted, in megapixels (a larger one: 400)")
    workers: int = _limit(2, "pictures colourized at once")
    queue: int = _limit(8, "requests that may wait for a worker; more get 503 with Retry-After")
    body_timeout: float = _limit(30.0, "seconds an upload may stall (then 408; request heads get 10 s)")
    memory_mb: float = _limit(3000.0, "memory budget of the running colourizations together, estimated: more "
                                      "wait their turn; one that alone needs more gets 413")
    render_megapixels: float = _limit(2.0, "most pixels the model sees ('the whole picture' is capped to it)")
    sessions: int = _limit(8, "pictures kept for quick edits in the page (the oldest unused are freed)")
    session_mb: float = _limit(800.0, "memory the kept pictures may hold together")

    def __post_init__(self):
        object.__setattr__(self, "allow_host", tuple(self.allow_host))
        if not 0 <= self.port <= 65535:
            raise TintaError(f"--port must be between 0 and 65535, got {self.port}")
        wanted = [("workers", self.workers >= 1, "at least 1"), ("queue", self.queue >= 0, ">= 0"),
                  ("sessions", self.sessions >= 1, "at least 1")]
        wanted += [(name, math.isfinite(getattr(self, name)) and getattr(self, name) > 0, "a positive number")
                   for name in ("max_mb", "max_megapixels", "body_timeout", "memory_mb", "render_megapixels",
                                "session_mb")]
        for name, ok, want in wanted:
            if not ok:
                raise TintaError(f"--{name.replace('_', '-')} must be {want}, got {getattr(self, name)}")

    def limits(self):
        """The server's :class:`~tinta.serve.limits.Limits` (MB and megapixels as bytes and pixels)."""
        from tinta.serve.limits import Limits

        return Limits(max_bytes=int(self.max_mb * 1e6), max_pixels=int(self.max_megapixels * 1e6),
                      zip_bytes=int(self.max_mb * 8e6), workers=self.workers, queue=self.queue,
                      body_timeout=self.body_timeout, memory=int(self.memory_mb * 1e6),
                      render_pixels=int(self.render_megapixels * 1e6), sessions=self.sessions,
                      session_bytes=int(self.session_mb * 1e6))
