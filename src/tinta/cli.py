"""The ``tinta`` command. Each subcommand lives in its own module, which provides
``add_parser(subparsers)`` and ``run(args) -> int``; they are imported on demand."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from tinta import __version__
from tinta.errors import TintaError

# subcommand -> module with add_parser() and run()
COMMANDS: dict[str, str] = {
    "data": "tinta.data.cli",
    "train": "tinta.train.cli",
    "evaluate": "tinta.evaluate.cli",
    "compare": "tinta.evaluate.compare_cli",
    "colorize": "tinta.colorize_cli",
    "models": "tinta.models_cli",
    "export": "tinta.export_cli",
    "demo": "tinta.demo_cli",
    "palette": "tinta.palette_cli",
    "serve": "tinta.serve.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tinta", description="Learned image colourization: grey photo in, plausible colour photo out."
    )
    parser.add_argument("--version", action="version", version=f"tinta {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS.items():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else None
    if not getattr(args, "run", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.run(args) or 0)
    except TintaError as e:
        print(f"tinta {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinta: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
