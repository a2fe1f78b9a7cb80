"""``tinta serve``: the local web page and its HTTP API (Starlette under uvicorn)."""

from __future__ import annotations

import argparse

from tinta.cli.args import non_negative, positive

LIMITS_HELP = """limits (a request past one gets a JSON error):
  --max-mb / --max-megapixels   413 / 400 for a larger upload or picture
  --workers / --queue           colourizations at once / waiting; more get 503 with Retry-After
  --body-timeout                408 when the body stalls this long; request heads get 10 s
  --memory-mb                   the estimated memory of all running colourizations together: more wait
                                their turn; one that alone needs more gets 413
  --render-megapixels           the most pixels the model sees ("the whole picture" is capped to it)
  --sessions / --session-mb     pictures kept for quick edits in the page (the oldest unused are freed)
Host names: only loopback names (and the --host address) are answered unless --host is a
wildcard (0.0.0.0, ::), which answers any; --allow-host NAME adds names. Posts from other
web pages (another Origin) are refused."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Serve a web page for colourizing photos in the browser (http://HOST:PORT/), and its "
                     "HTTP API (http://HOST:PORT/docs). Local use: it binds to 127.0.0.1 unless told otherwise.")
    p.epilog = LIMITS_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.add_argument("--model", default="default", help="default model: shipped weights name or run folder")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    p.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                   help="also answer requests for this host name (repeatable)")
    p.add_argument("--max-mb", type=float, default=25.0, help="largest upload accepted, in MB")
    p.add_argument("--max-megapixels", type=float, default=50.0, help="largest picture accepted, in megapixels")
    p.add_argument("--workers", type=positive, default=2, help="pictures colourized at once (default 2)")
    p.add_argument("--queue", type=non_negative, default=8, help="requests that may wait for a worker (default 8)")
    p.add_argument("--body-timeout", type=float, default=30.0, help="seconds an upload may stall (default 30)")
    p.add_argument("--memory-mb", type=float, default=3000.0,
                   help="memory budget of the running colourizations together, estimated (default 3000)")
    p.add_argument("--render-megapixels", type=float, default=2.0,
                   help="most pixels the model sees, 'the whole picture' included (default 2)")
    p.add_argument("--sessions", type=positive, default=8, help="pictures kept for quick edits (default 8)")
    p.add_argument("--session-mb", type=float, default=800.0, help="memory the kept pictures may hold (default 800)")
    p.add_argument("--quiet", action="store_true", help="no line per request")


def run(args: argparse.Namespace) -> int:
    from tinta.serve import Limits, make_server

    limits = Limits(max_bytes=int(args.max_mb * 1e6), max_pixels=int(args.max_megapixels * 1e6),
                    zip_bytes=int(args.max_mb * 8e6), workers=args.workers, queue=args.queue,
                    body_timeout=args.body_timeout, memory=int(args.memory_mb * 1e6),
                    render_pixels=int(args.render_megapixels * 1e6), sessions=args.sessions,
                    session_bytes=int(args.session_mb * 1e6))
    server = make_server(args.model, args.host, args.port, limits, tuple(args.allow_host), args.quiet)
    server.preload()
    print(f"tinta serve: {server.url}  (model {args.model}; API: {server.url}docs; Ctrl-C stops)", flush=True)
    server.serve_forever()
    return 0
