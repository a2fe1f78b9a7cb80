"""``tinta export onnx --model NAME --out model.onnx``."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Export a shipped model or a run to ONNX with dynamic batch/height/width.")
    p.add_argument("format", choices=("onnx",), help="export format")
    p.add_argument("--model", default="default", help="shipped weights name or run folder")
    p.add_argument("--out", required=True, help="output .onnx file")
    p.add_argument("--opset", type=int, default=17, help="ONNX opset")


def run(args: argparse.Namespace) -> int:
    from tinta.export import export_onnx
    from tinta.inference import load_model

    path = export_onnx(load_model(args.model), args.out, opset=args.opset)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); run it with: "
          f"tinta colorize IMAGES -o OUT --backend onnx --onnx {path}")
    return 0
