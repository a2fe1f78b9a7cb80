"""ONNX export of a colourization model (dynamic batch, height and width), and an ONNX
Runtime wrapper that stands in for the PyTorch model inside a :class:`~tinta.inference.Colorizer`.

The ONNX file describes itself: its ``tinta`` metadata holds the head (``Head.to_dict``),
the render size and the model's name, so :func:`load_onnx` needs nothing else.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch

from tinta.errors import TintaError
from tinta.files import atomic_path, not_a_file
from tinta.heads import head_from_dict
from tinta.hints import GLOBAL_DIM, HINT_CHANNELS
from tinta.inference import Colorizer, resolve_render_size, set_decoding_output, takes_hints
from tinta.models.base import PooledOutput


def export_onnx(colorizer: Colorizer, out: str | Path, opset: int = 17) -> Path:
    """Write ``colorizer.model`` as ONNX: input ``l`` ``(B, 1, H, W)`` = L/100 (hint-taking models: ``(B, 4, H, W)``
    with the hint planes, and ``g`` ``(B, GLOBAL_DIM)`` the global hint), output ``out`` ``(B, C, h, w)`` (as the
    head decodes it: render or native size); for a head that decodes its colour classes from pooled features
    (:func:`tinta.inference.set_decoding_output`), ``out`` holds the other channels and ``pooled`` the classes'
    ``(B, Q, h/2, w/2)``."""
    import onnx

    out = check_onnx_out(Path(out))
    model = colorizer.model.eval()
    set_decoding_output(model, colorizer.head)
    outputs = ["out", "pooled"] if model.eval_pooled else ["out"]
    hinted = takes_hints(model)
    x = torch.rand(1, 1 + HINT_CHANNELS * hinted, 64, 64)
    args, names = ((x, torch.zeros(1, GLOBAL_DIM)), ["l", "g"]) if hinted else ((x,), ["l"])
    dyn = {0: "batch", 2: "height", 3: "width"}
    meta = {"name": colorizer.name, "render_size": colorizer.render_size, "head": colorizer.head.to_dict(),
            "takes_hints": hinted}
    with atomic_path(out) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, str(tmp), input_names=names, output_names=outputs,
                          dynamic_axes={"l": dyn, "g": {0: "batch"}, **dict.fromkeys(outputs, dyn)},
                          opset_version=opset, dynamo=False)
        m = onnx.load(str(tmp))
        m.metadata_props.add(key="tinta", value=json.dumps(meta))
        onnx.save(m, str(tmp))
    return out


def check_onnx_out(out: Path) -> Path:
    """Where an export may go: a new file, or an ONNX file tinta exported (replaced); never a folder,
    a device or any other existing file (a photo named by mistake)."""
    if out.is_dir():
        raise TintaError(f"{out} is a folder; give the .onnx file to write")
    if not out.exists():
        return out
    if not out.is_file():
        raise TintaError(f"{out}: {not_a_file(out)}; give the .onnx file to write")
    if not is_tinta_onnx(out):
        raise TintaError(f"{out} exists and is not an ONNX file exported by tinta; it is left as it is: "
                         f"choose another --out")
    return out


def is_tinta_onnx(path: Path) -> bool:
    """Whether ``path`` is an ONNX model carrying tinta's metadata (read without its weights' external data)."""
    import onnx

    try:
        m = onnx.load(str(path), load_external_data=False)
    except Exception:  # protobuf raises its own DecodeError (and others) for files that are not ONNX
        return False
    return any(p.key == "tinta" for p in m.metadata_props)


class OnnxModel:
    """Callable like the PyTorch model: ``(B, 1, H, W)`` tensor -> ``(B, C, h, w)`` tensor (a
    :class:`~tinta.models.base.PooledOutput` from a file with a ``pooled`` output). ``source``: an ONNX
    file or its bytes. Pickled (sent to a Ray worker: tinta.distributed), it carries the model's bytes, so the
    receiving machine needs no copy of the file."""

    def __init__(self, source: str | Path | bytes, threads: int | None = None):
        try:
            import onnxruntime as ort
        except ImportError:
            raise TintaError("--backend onnx needs onnxruntime: pip install 'tinta[onnx]'") from None
        self.source, self.threads = source, threads
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        try:
            model = source if isinstance(source, bytes) else str(source)
            self.session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types for unreadable files
            what = "ONNX bytes" if isinstance(source, bytes) else source
            raise TintaError(f"{what}: not a readable ONNX model ({e.__class__.__name__})") from None
        self.metadata = self.session.get_modelmeta().custom_metadata_map
        self.takes_hints = "g" in [i.name for i in self.session.get_inputs()]

    def __call__(self, x: torch.Tensor, g: torch.Tensor | None = None) -> torch.Tensor | PooledOutput:
        feed = {"l": np.ascontiguousarray(x.numpy(), dtype=np.float32)}
        if self.takes_hints:
            feed["g"] = np.zeros((len(x), GLOBAL_DIM), np.float32) if g is None else g.numpy().astype(np.float32)
        ys = [torch.from_numpy(y) for y in self.session.run(None, feed)]
        return PooledOutput(*ys) if len(ys) == 2 else ys[0]

    def eval(self) -> "OnnxModel":
        return self

    def __reduce__(self):
        data = self.source if isinstance(self.source, bytes) else Path(self.source).read_bytes()
        return OnnxModel, (data, self.threads)


def load_onnx(path: str | Path, render_size: int | None = None, threads: int | None = None) -> Colorizer:
    """A Colorizer running ``path`` on ONNX Runtime, its head and render size read from the file.
    (Files from older versions name the head ``task`` at the top of the metadata.)"""
    path = Path(path)
    if not path.is_file():
        why = not_a_file(path)
        raise TintaError(f"{path}: ONNX file not found" if why == "no such file" else f"{path}: {why}")
    model = OnnxModel(path, threads)
    try:
        meta = json.loads(model.metadata["tinta"])
    except (KeyError, ValueError):
        raise TintaError(f"{path}: not an ONNX file exported by tinta (no tinta metadata)") from None
    head = head_from_dict(meta.get("head", meta))
    name = f"{meta.get('name', path.stem)} (onnx)"
    return Colorizer(model, head, resolve_render_size(render_size, meta.get("render_size")), name)
