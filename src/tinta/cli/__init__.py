"""The ``tinta`` command, built from one table of subcommands.

Each subcommand is a module here with ``add_arguments(parser)`` and ``run(args) -> int``.
Only the module of the command being run is imported, so ``tinta --help`` and the
top-level parser never import torch.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from collections.abc import Sequence

from tinta import __version__
from tinta.errors import TintaError

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "colorize": ("tinta.cli.colorize", "colourize photos (files, folders, globs)"),
    "serve": ("tinta.cli.serve", "a local web page: drop a photo, get it in colour"),
    "models": ("tinta.cli.models", "list architectures and shipped weights"),
    "demo": ("tinta.cli.demo", "colourize the bundled example photos into out/"),
    "export": ("tinta.cli.export", "export a model (ONNX)"),
    "train": ("tinta.cli.train", "train a colourization model"),
    "evaluate": ("tinta.cli.evaluate", "score a trained run on a held-out split"),
    "compare": ("tinta.cli.compare", "compare evaluated runs against a baseline (Markdown + HTML report)"),
    "prior": ("tinta.cli.prior", "index training photos as a guided run's retrieved colour prior"),
    "palette": ("tinta.cli.palette", "fit a K-means colour palette (train+test pixels of the chosen classes)"),
    "data": ("tinta.cli.data", "inspect or download data sets"),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors: one line and exit code 2, as argparse does
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported and given its options."""
    parser = _Parser(prog="tinta",
                     description="Learned image colourization: grey photo in, plausible colour photo out.")
    parser.add_argument("--version", action="version", version=f"tinta {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if name == command:
            mod = importlib.import_module(module)
            mod.add_arguments(p)
            if hasattr(mod, "run"):
                p.set_defaults(_run=mod.run)
    return parser


def _sigterm(signum, frame):  # SIGTERM stops like Ctrl-C: temporary files are removed on the way out
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(command if command in COMMANDS else None)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a usage error (already printed on one line)
        return int(e.code or 0)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:  # not the main thread (e.g. called from a test's worker thread)
        previous = None
    try:
        return int(run(args) or 0)
    except TintaError as e:
        print(f"tinta {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tinta: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # the machine refused: disk full, permission denied, ...
        where = f" ({e.filename})" if e.filename else ""
        print(f"tinta {args.command}: error: {e.strerror or e}{where}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
