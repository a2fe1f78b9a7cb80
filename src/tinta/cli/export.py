"""``tinta export onnx --model NAME --out model.onnx``: options from :class:`tinta.export.ExportOptions`."""

from __future__ import annotations

import argparse

from tinta.cli.args import add_config_args, config_from_args


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tinta.export import ExportOptions

    p.description = "Export a shipped model or a run to ONNX with dynamic batch/height/width."
    add_config_args(p, ExportOptions)


def run(args: argparse.Namespace) -> int:
    from tinta.export import ExportOptions, export_onnx
    from tinta.inference import load_model

    o = config_from_args(ExportOptions, args)
    path = export_onnx(load_model(o.model), o.out, opset=o.opset)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); run it with: "
          f"tinta colorize IMAGES -o OUT --backend onnx --onnx {path}")
    return 0
