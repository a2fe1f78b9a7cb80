"""Who may talk to the server: a ``Host`` allow-list (against DNS rebinding) and a same-origin
rule for anything but GET/HEAD (a page on another origin, local or not, cannot post pictures,
even as text/plain without a CORS preflight). Requests without ``Origin`` (curl, scripts) pass.

By default the allowed host names are the loopback ones (``localhost``, ``127.0.0.1``, ``::1``)
plus the address the server listens on. ``tinta serve --host 0.0.0.0`` (every interface) allows
any ``Host``; ``--allow-host NAME`` adds names (and with a wildcard address, restricts to them).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from tinta.serve.errors import json_error

LOOPBACK = ("localhost", "127.0.0.1", "::1")
WILDCARD = ("0.0.0.0", "::", "")


def allowed_hosts(listen: str, extra: list[str] | tuple = ()) -> frozenset[str] | None:
    """The host names a request's ``Host`` may carry; None: any (a wildcard address, no extras)."""
    if listen in WILDCARD and not extra:
        return None
    names = {*LOOPBACK, *(h.lower().strip("[]") for h in extra)}
    if listen not in WILDCARD:
        names.add(listen.lower().strip("[]"))
    return frozenset(names)


def host_name(value: str) -> str:
    """'example.com:8000' -> 'example.com'; '[::1]:8000' -> '::1'."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].partition("]")[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostOriginCheck:
    """ASGI middleware: 421 for a ``Host`` not on the list, 403 for a cross-origin write."""

    def __init__(self, app, hosts: frozenset[str] | None):
        self.app, self.hosts = app, hosts

    def _refusal(self, scope):
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and host_name(host) not in self.hosts:
            return json_error(421, f"this server does not answer to the host name {host!r} "
                                   "(tinta serve --allow-host NAME adds one)")
        if scope["method"] in ("GET", "HEAD"):
            return None
        origin = headers.get("origin")
        if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
            return json_error(403, "requests from other web sites are refused")
        if origin is not None:
            o = urlsplit(origin)
            if origin == "null" or o.netloc.lower() != host.lower() or o.scheme != scope.get("scheme", "http"):
                return json_error(403, f"requests from {origin} are refused (only this page may post)")
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            refusal = self._refusal(scope)
            if refusal is not None:
                refusal.headers["Connection"] = "close"
                return await refusal(scope, receive, send)
        await self.app(scope, receive, send)
