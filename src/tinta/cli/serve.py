"""``tinta serve``: the local web page."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Serve a web page for colourizing photos in the browser "
                       "(http://HOST:PORT/). Local use: it binds to 127.0.0.1 unless told otherwise.")
    p.add_argument("--model", default="default", help="default model: shipped weights name or run folder")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    p.add_argument("--max-mb", type=float, default=25.0, help="largest upload accepted, in MB")
    p.add_argument("--max-megapixels", type=float, default=50.0, help="largest picture accepted, in megapixels")


def run(args: argparse.Namespace) -> int:
    from tinta.serve import make_server

    server = make_server(args.model, args.host, args.port, args.max_mb, args.max_megapixels)
    host, port = server.server_address[:2]
    print(f"tinta serve: http://{host}:{port}/  (model {args.model}; Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
