"""Inference speed of a shipped tinta model, measured side by side in one run:

- ms per 224x224 image at batch 1 and 16, PyTorch and ONNX Runtime, 2 CPU threads;
- the same input through the ECCV16 network (Zhang et al. 2016), the reference a user
  would otherwise pick (random weights: the architecture sets the cost);
- ms to colourize a 224x224 photo as ``tinta colorize`` does (the model at its own render
  size, chroma upsampled, Lab -> sRGB), against the ECCV16 network alone on 224x224;
- seconds per 1-megapixel photo end to end (decode, colourize, encode);
- peak RSS of a process colourizing a 24-megapixel photo.

    python benchmarks/infer.py [--model default] [--threads 2]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from eccv16 import ECCV16  # noqa: E402

from tinta.inference import load_model  # noqa: E402

GOALS = {"ms_224_b1": 50.0, "s_per_mp": 0.5, "rss_24mp_mb": 1024.0, "eccv16_ratio": 30.0,
         "eccv16_floor": 7.0}  # the floor: the speed the colour work must keep (the regression U-Net's)


def timeit(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def interleaved(fns: dict, rounds: int, per_round: int = 5) -> dict[str, float]:
    """Median seconds per call of each of ``fns``, timed in alternating rounds so that a drift of the machine's
    speed (other work, the allocator warming up) reaches all of them alike."""
    for fn in fns.values():
        fn()  # warm-up
    times = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(per_round):
                fn()
            times[k].append((time.perf_counter() - t0) / per_round)
    return {k: float(np.median(v)) for k, v in times.items()}


def with_pooling(c, pooled):
    """``c.head.predict(c.model(x))`` with the model's ``eval_pooled`` set to ``pooled`` for the call."""
    def run(x):
        kept, c.model.eval_pooled = c.model.eval_pooled, pooled
        try:
            return c.head.predict(c.model(x))
        finally:
            c.model.eval_pooled = kept
    return run


def photo(w: int, h: int) -> Image.Image:
    """A grey photo of the requested size: a bundled example, resized."""
    from tinta.pretrained import EXAMPLES_DIR as EXAMPLES

    return Image.open(EXAMPLES / "astronaut.jpg").convert("L").resize((w, h), Image.BICUBIC)


def rss_child(model: str, path: Path, out: Path) -> float:
    """Peak RSS (MB) of a fresh process that colourizes ``path``: its VmHWM, the peak of its own memory.
    (Not ``ru_maxrss``: Linux carries the parent's peak into a child started by vfork + exec, which is how
    subprocess starts it, so a parent at 1.8 GB made every child read 1.8 GB.)"""
    code = (f"import tinta; c = tinta.load_model({model!r}); c({str(path)!r}).save({str(out)!r}); "
            "print(next(line.split()[1] for line in open('/proc/self/status') if line.startswith('VmHWM:')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(r.stdout.strip().splitlines()[-1]) / 1024  # kB -> MB


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="default")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    c = load_model(args.model, render_size=0)  # the network on the whole 224x224 input
    rows = {}
    with torch.no_grad():
        x1 = torch.rand(1, 1, 224, 224)
        b1 = {"tinta torch b1": with_pooling(c, c.model.eval_pooled)}
        if c.model.eval_pooled is not None:  # the same network with its colour classes at full size, as before
            b1["tinta torch b1, classes unpooled"] = with_pooling(c, None)
        rows.update({k: v * 1000 for k, v in interleaved({k: lambda f=f: f(x1) for k, f in b1.items()},
                                                         args.repeats).items()})
        x16 = torch.rand(16, 1, 224, 224)
        rows["tinta torch b16"] = timeit(lambda: c.head.predict(c.model(x16)), 3) * 1000 / 16
        eccv = ECCV16().eval()
        rows["ECCV16 torch b1"] = timeit(lambda: eccv(x1), 3) * 1000
    try:
        from tinta.export import OnnxModel, export_onnx

        tmp = Path(tempfile.mkdtemp())
        onnx = OnnxModel(export_onnx(c, tmp / "m.onnx"), threads=args.threads)
        for b in (1, 16):
            x = torch.rand(b, 1, 224, 224)
            ms = timeit(lambda x=x: c.head.predict(onnx(x)), args.repeats if b == 1 else 3) * 1000
            rows[f"tinta onnx b{b}"] = ms / b
    except Exception as e:  # onnxruntime is an optional extra
        print(f"(ONNX Runtime skipped: {e})")

    c_full = load_model(args.model)  # the model's own render size, as `tinta colorize` runs it
    L224 = np.asarray(photo(224, 224), np.float32) / 255 * 100  # stand-in L (cost does not depend on values)
    pipeline_ms = timeit(lambda: c_full.colorize_lightness(L224), args.repeats) * 1000

    tmp = Path(tempfile.mkdtemp())
    p1 = tmp / "1mp.jpg"
    photo(1224, 816).save(p1, quality=90)  # 1.0 megapixels
    s_per_mp = timeit(lambda: c_full(p1).save(tmp / "1mp_out.jpg", quality=90), 3)
    p24 = tmp / "24mp.jpg"
    photo(6000, 4000).save(p24, quality=90)
    rss = rss_child(args.model, p24, tmp / "24mp_out.jpg")

    print(f"\ntinta inference, model {args.model!r} ({sum(p.numel() for p in c.model.parameters()) / 1e6:.2f}M "
          f"params); {platform.processor() or platform.machine()}, {args.threads} threads, torch {torch.__version__}")
    print(f"{'measurement':<46}{'value':>12}")
    for k, v in rows.items():
        print(f"{k + ' (ms/img 224)':<46}{v:>12.1f}")
    print(f"{'tinta colorize 224 (ms/img)':<46}{pipeline_ms:>12.1f}   (render size {c_full.render_size}, "
          "chroma upsampled, Lab -> sRGB: what `tinta colorize` does)")
    print(f"{'1 MP photo end to end (s)':<46}{s_per_mp:>12.3f}")
    print(f"{'24 MP photo peak RSS (MB)':<46}{rss:>12.0f}")
    ratio = rows["ECCV16 torch b1"] / rows["tinta torch b1"]
    print(f"\nECCV16 / tinta, both networks on the 224x224 input, batch 1: {ratio:.1f}x faster "
          f"(goal >= {GOALS['eccv16_ratio']:.0f}x: {'met' if ratio >= GOALS['eccv16_ratio'] else 'NOT met'}; "
          f"floor >= {GOALS['eccv16_floor']:.0f}x: {'met' if ratio >= GOALS['eccv16_floor'] else 'NOT met'})")
    print(f"ECCV16 network on 224 / tinta colorize of a 224 photo: {rows['ECCV16 torch b1'] / pipeline_ms:.1f}x faster")
    if "tinta torch b1, classes unpooled" in rows:
        unpooled = rows["tinta torch b1, classes unpooled"]
        print(f"colour classes from pooled features / at full size: {unpooled / rows['tinta torch b1']:.2f}x faster "
              f"(ECCV16 / tinta with them at full size: {rows['ECCV16 torch b1'] / unpooled:.1f}x)")
    if "tinta onnx b1" in rows:
        print(f"torch / onnx at batch 1: {rows['tinta torch b1'] / rows['tinta onnx b1']:.2f}x")
    best_b1 = min(rows["tinta torch b1"], rows.get("tinta onnx b1", 1e9))
    print(f"goals: <= {GOALS['ms_224_b1']:.0f} ms/img at batch 1: "
          f"{'met' if best_b1 <= GOALS['ms_224_b1'] else 'NOT met'}; "
          f"<= {GOALS['s_per_mp']} s per MP: {'met' if s_per_mp <= GOALS['s_per_mp'] else 'NOT met'}; "
          f"24 MP under {GOALS['rss_24mp_mb']:.0f} MB: {'met' if rss <= GOALS['rss_24mp_mb'] else 'NOT met'}")


if __name__ == "__main__":
    main()
