"""``tinta export onnx --model NAME --out model.onnx``: options from :class:`ExportOptions` (here, not in
:mod:`tinta.export`, so ``--help`` loads no torch)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from tinta.cli.args import add_config_args, config_from_args
from tinta.errors import TintaError


@dataclass(frozen=True)
class ExportOptions:
    """The options of ``tinta export``."""

    format: str = field(metadata={"help": "export format", "choices": ("onnx",), "positional": True})
    out: str = field(metadata={"help": "output .onnx file"})
    model: str = field(default="default", metadata={"help": "shipped weights name or run folder"})
    opset: int = field(default=17, metadata={"help": "ONNX opset"})

    def __post_init__(self):
        if not 13 <= self.opset <= 21:
            raise TintaError(f"--opset must be between 13 and 21, got {self.opset}")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = "Export a shipped model or a run to ONNX with dynamic batch/height/width."
    add_config_args(p, ExportOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.export import export_onnx
    from tinta.inference import load_model

    o = config_from_args(ExportOptions, args)
    path = export_onnx(load_model(o.model), o.out, opset=o.opset)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); run it with: "
          f"tinta colorize IMAGES -o OUT --backend onnx --onnx {path}")
    return 0
