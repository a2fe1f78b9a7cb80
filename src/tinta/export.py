"""ONNX export of a colourization model (dynamic batch, height and width), and an
ONNX Runtime wrapper that stands in for the PyTorch model inside a Colorizer."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from tinta.errors import TintaError


def export_onnx(colorizer, out: str | Path, opset: int = 17) -> Path:
    """Write ``colorizer.model`` as ONNX: input ``l`` ``(B, 1, H, W)`` = L/100, output ``out``
    ``(B, C, H, W)``. The task (how outputs become ab) is stored in the model's metadata."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp{os.getpid()}")
    x = torch.rand(1, 1, 64, 64)
    dyn = {0: "batch", 2: "height", 3: "width"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(colorizer.model.eval(), (x,), str(tmp), input_names=["l"], output_names=["out"],
                          dynamic_axes={"l": dyn, "out": dyn}, opset_version=opset, dynamo=False)
    import onnx

    m = onnx.load(str(tmp))
    meta = {"name": colorizer.name, "render_size": colorizer.render_size, "task": colorizer.task.name}
    if colorizer.task.name == "palette":
        meta["palette"] = colorizer.task.palette.to_dict()
    if colorizer.task.name == "bins":
        meta["bins"], meta["temperature"] = colorizer.task.bins.to_dict(), colorizer.task.main
    m.metadata_props.add(key="tinta", value=json.dumps(meta))
    onnx.save(m, str(tmp))
    os.replace(tmp, out)
    return out


class OnnxModel:
    """Callable like the PyTorch model: ``(B, 1, H, W)`` tensor -> ``(B, C, H, W)`` tensor."""

    def __init__(self, path: str | Path, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise TintaError("--backend onnx needs onnxruntime: pip install 'tinta[onnx]'") from None
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        (y,) = self.session.run(None, {"l": np.ascontiguousarray(x.numpy(), dtype=np.float32)})
        return torch.from_numpy(y)

    def eval(self) -> "OnnxModel":
        return self
