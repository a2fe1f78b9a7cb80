"""``tinta serve``: the local web page and its HTTP API (Starlette under uvicorn); options from
:class:`tinta.serve.options.ServeOptions`."""

from __future__ import annotations

import argparse

from tinta.cli.args import add_config_args, config_from_args
from tinta.serve.options import GROUPS, HOSTS_HELP, ServeOptions


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Serve a web page for colourizing photos in the browser (http://HOST:PORT/), and its "
                     "HTTP API (http://HOST:PORT/docs). Local use: it binds to 127.0.0.1 unless told otherwise.")
    p.epilog = HOSTS_HELP
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    add_config_args(p, ServeOptions, groups=GROUPS)


def run(args: argparse.Namespace) -> int:
    from tinta.serve import make_server

    options = config_from_args(ServeOptions, args)
    server = make_server(options.model, options.host, options.port, options.limits(), options.allow_host,
                         options.quiet)
    server.preload()
    print(f"tinta serve: {server.url}  (model {options.model}; API: {server.url}docs; Ctrl-C stops)", flush=True)
    server.serve_forever()
    return 0
