"""Video: flicker and colour fidelity of per-frame and stabilised colourization, and end-to-end speed.

Clips with known colour and motion: each is two shots over real photos (a camera pan over one, a
zoom into another, a hard cut between), film grain added (Gaussian, the same in every channel, new
every frame), encoded with H.264 (CRF 18). The ground truth is the encoded colour clip itself.
Every clip is colourized from its lightness three ways: frame by frame, stabilised, and stabilised
with cut detection switched off (to show what the reset at the cut is for). Then:

- flicker: mean chroma change between consecutive frames once the motion is taken out (the previous
  frame's a,b warped onto the current one by the ground truth's DIS optical flow, averaged over 8x8
  pixel cells; per pixel too) - ground truth, per frame, stabilised;
- fidelity: PSNR (dB, sRGB) and colourfulness gap |CF - CF of the ground truth| (Hasler & Suesstrunk),
  per frame, averaged;
- the cut: chroma distance between the stabilised and the per-frame output on the first frame after
  the cut (0 up to codec noise: nothing carried over), with and without cut detection;
- speed: frames per second end to end (decode, colourize, stabilise, encode; the model loaded and warm)
  at 640x480 and 1280x720 with 2 torch threads;
- memory: peak RSS of a fresh process colourizing a 1280x720 clip of 48 and of 192 frames (frames
  stream through, so it does not grow with the length).

    python benchmarks/video.py [--source imagenette|photos-mix] [--clips 8] [--threads 2]
                               [--strip docs/img/video-strip.jpg]
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

import tinta
from tinta.evaluate import metrics
from tinta.inference import cached_model
from tinta.video import clips, measure
from tinta.video.stabilize import StabilizeOptions

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ARCHIVES = {"imagenette": DATA / "imagenette2-224.tar.gz", "photos-mix": DATA / "photos-mix.tar.gz"}
VARIANTS = {"per frame": False, "stabilised": StabilizeOptions(), "no cut reset": StabilizeOptions(cut_fraction=2.0)}


def val_photos(source: str, count: int) -> list[np.ndarray]:
    """``count`` colour photos evenly spaced through the validation split (near-grey ones skipped)."""
    with tarfile.open(ARCHIVES[source], "r|gz") as tar:
        names = [m.name for m in tar if m.isfile() and m.name.startswith("val/")]
    keep = set(names[:: max(1, len(names) // (3 * count))])
    out = []
    with tarfile.open(ARCHIVES[source], "r|gz") as tar:
        for m in tar:
            if m.name in keep and len(out) < count:
                rgb = np.asarray(Image.open(BytesIO(tar.extractfile(m).read())).convert("RGB"))
                if np.percentile(np.abs(rgb[..., 0].astype(int) - rgb[..., 2]), 99) > 20:
                    out.append(rgb)
    return out


def make_clip(path: Path, a: np.ndarray, b: np.ndarray, n: int, size: tuple[int, int], grain: float,
              rng: np.random.Generator) -> list[int]:
    """A pan over ``a``, a cut, a zoom into ``b``; ``n`` frames each. Returns the cut frames."""
    s = rng.uniform(0.3, 0.7, 4)
    shots = [clips.Shot(a, n, start=(s[0], s[1]), end=(1 - s[0], 1 - s[1]), zoom=(0.7, 0.7)),
             clips.Shot(b, n, start=(0.5, 0.5), end=(s[2], s[3]), zoom=(0.95, 0.6))]
    frames = (np.clip(f + rng.normal(0, grain, f.shape[:2])[..., None], 0, 255).astype(np.uint8) if grain else f
              for f in clips.clip_frames(shots, *size))
    clips.write_clip(path, frames, fps=24)
    return clips.cut_frames(shots)


def score(gt: list[np.ndarray], out: list[np.ndarray], moves) -> dict:
    t = lambda fr: torch.from_numpy(np.stack(fr)).permute(0, 3, 1, 2).float()  # noqa: E731
    ab = [measure.lab(f)[1] for f in out]
    return {"flicker": measure.flicker(ab, moves), "flicker_px": measure.flicker(ab, moves, 1),
            "psnr": metrics.psnr(t(out), t(gt)).mean().item(),
            "cf_gap": (metrics.colourfulness(t(out)) - metrics.colourfulness(t(gt))).abs().mean().item()}


def quality(args, tmp: Path) -> tuple[dict, dict]:
    """Per-variant means over the clips; and the first clip's frames for the strip."""
    photos = val_photos(args.source, 2 * args.clips)
    rng = np.random.default_rng(0)
    rows, first = {k: [] for k in ["ground truth", *VARIANTS]}, {}
    for c in range(len(photos) // 2):
        src = tmp / f"clip{c}.mp4"
        cuts = make_clip(src, photos[2 * c], photos[2 * c + 1], args.frames, (256, 192), args.grain, rng)
        gt = measure.decode(src)
        L, ab = zip(*[measure.lab(f) for f in gt])
        moves = measure.motion(L, cuts)
        rows["ground truth"].append({"flicker": measure.flicker(list(ab), moves),
                                     "flicker_px": measure.flicker(list(ab), moves, 1)})
        outs = {}
        for name, stab in VARIANTS.items():
            r = tinta.colorize_video(src, tmp / f"{name.replace(' ', '-')}{c}.mp4", model=args.model, stabilize=stab)
            outs[name] = measure.decode(r.path)
            rows[name].append(score(gt, outs[name], moves))
        for name in ("stabilised", "no cut reset"):
            rows[name][-1]["carry"] = float(np.mean([measure.chroma_distance(
                measure.lab(outs[name][t])[1], measure.lab(outs["per frame"][t])[1]) for t in cuts]))
        if c == 0:
            first = {"cuts": cuts, "ground truth": gt, **outs}
    means = {k: {m: float(np.mean([r[m] for r in v])) for m in v[0]} for k, v in rows.items()}
    return means, first


def speed(args, tmp: Path, size: tuple[int, int], stabilize: bool) -> float:
    """Frames per second of tinta.colorize_video on a clip of ``size`` (decode to encode)."""
    path = tmp / f"speed-{size[0]}x{size[1]}.mp4"
    if not path.exists():
        photo = val_photos(args.source, 1)[0]
        clips.write_clip(path, clips.clip_frames([clips.Shot(photo, args.speed_frames)], *size), fps=24)
    r = tinta.colorize_video(path, tmp / f"speed-out-{stabilize}.mp4", model=args.model, stabilize=stabilize)
    return r.fps


def peak_rss_mb(args, tmp: Path, frames: int, size: tuple[int, int] = (1280, 720)) -> float:
    """Peak RSS (MB) of a fresh process colourizing a clip of ``frames`` frames: flat in the length."""
    path = tmp / f"rss-{frames}.mp4"
    photo = val_photos(args.source, 1)[0]
    clips.write_clip(path, clips.clip_frames([clips.Shot(photo, frames)], *size), fps=24)
    code = (f"import resource, torch, tinta; torch.set_num_threads({args.threads}); "
            f"tinta.colorize_video({str(path)!r}, {str(tmp / 'rss-out.mp4')!r}, model={args.model!r}); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(r.stdout.strip().splitlines()[-1]) / 1024


def strip(first: dict, path: Path, cols: int = 7, scale: float = 0.69) -> None:
    """Rows: the grey the model sees, per frame, stabilised, ground truth; columns: consecutive frames up
    to the cut and the two after it; thumbnails at ``scale``."""
    from PIL import ImageDraw

    from tinta import color

    cut = first["cuts"][0]
    picks = list(range(cut - cols + 2, cut + 2))
    gt = first["ground truth"]
    grey = [color.rgb_to_uint8(color.lightness_to_grey(torch.from_numpy(measure.lab(gt[t])[0])[None]))[0].numpy()
            for t in picks]
    rows = [("grey input", [np.repeat(g[..., None], 3, -1) for g in grey])]
    rows += [(k, [first[k][t] for t in picks]) for k in ("per frame", "stabilised", "ground truth")]
    h, w = (round(x * scale) for x in gt[0].shape[:2])
    label_w = 84
    canvas = Image.new("RGB", (label_w + cols * (w + 3), len(rows) * (h + 3) + 16), "white")
    draw = ImageDraw.Draw(canvas)
    for j, t in enumerate(picks):
        draw.text((label_w + j * (w + 3) + 2, 2), f"frame {t}" + (" (cut)" if t == cut else ""), fill="black")
    for i, (name, frames) in enumerate(rows):
        draw.text((4, 16 + i * (h + 3) + h // 2 - 6), name, fill="black")
        for j, f in enumerate(frames):
            thumb = Image.fromarray(f).resize((w, h), Image.Resampling.LANCZOS)
            canvas.paste(thumb, (label_w + j * (w + 3), 16 + i * (h + 3)))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path, quality=72)  # under 200 KB


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    training = any("tinta train" in ln and "ps -eo" not in ln for ln in ps.splitlines())
    return (f"{platform.machine()}, {cpu}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
            f"a tinta training {'WAS' if training else 'was not'} running in the background")


def report_quality(means: dict, args) -> None:
    print(f"tinta video, model {args.model!r}; {args.clips} clips from {args.source} val, 2 shots x {args.frames} "
          f"frames, 256x192, grain sigma {args.grain}, H.264 CRF 18")
    print(f"{'':16}{'flicker 8px':>12}{'flicker px':>12}{'PSNR dB':>9}{'CF gap':>8}{'at the cut':>11}")
    for name, m in means.items():
        row = f"{name:16}{m['flicker']:12.3f}{m['flicker_px']:12.3f}"
        row += f"{m['psnr']:9.2f}{m['cf_gap']:8.2f}" if "psnr" in m else " " * 17
        print(row + (f"{m['carry']:11.2f}" if "carry" in m else ""))
    gt, pf, st = means["ground truth"], means["per frame"], means["stabilised"]
    ratio = st["flicker"] / gt["flicker"]
    print(f"stabilised / ground-truth flicker {ratio:.2f}x (goal <= 1.5x: {'met' if ratio <= 1.5 else 'not met'}); "
          f"per frame {pf['flicker'] / gt['flicker']:.2f}x")
    gain = st["psnr"] - pf["psnr"]
    print(f"PSNR stabilised - per frame {gain:+.2f} dB (goal >= -0.2: {'met' if gain >= -0.2 else 'not met'})")


def report_speed(fps: dict, rss: dict) -> None:
    for (size, stab), v in fps.items():
        print(f"speed {size[0]}x{size[1]} {'stabilised' if stab else 'per frame':10}: {v:6.1f} frames/s end to end")
    v = fps[((640, 480), True)]
    print(f"goal >= 10 frames/s at 640x480: {'met' if v >= 10 else 'not met'}")
    for n, mb in rss.items():
        print(f"peak RSS, 1280x720 clip of {n} frames (a fresh process, model load included): {mb:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--source", choices=sorted(ARCHIVES), default="imagenette")
    ap.add_argument("--clips", type=int, default=8)
    ap.add_argument("--frames", type=int, default=24, help="frames per shot")
    ap.add_argument("--grain", type=float, default=4.0, help="film grain, sigma in 8-bit levels")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--speed-frames", type=int, default=96)
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--no-quality", action="store_true")
    ap.add_argument("--strip", type=Path, default=None, help="write a frame strip of the first clip here")
    ap.add_argument("--strength", type=float, default=StabilizeOptions.strength, help="stabiliser strength")
    ap.add_argument("--sigma", type=float, default=StabilizeOptions.sigma, help="stabiliser trust sigma (L units)")
    args = ap.parse_args()
    for k in ("stabilised", "no cut reset"):
        VARIANTS[k].strength, VARIANTS[k].sigma = args.strength, args.sigma
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    cached_model(args.model)
    means, fps, rss = {}, {}, {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.no_quality:
            means, first = quality(args, tmp)
            if args.strip:
                strip(first, args.strip)
        if not args.no_speed:
            for size in ((640, 480), (1280, 720)):
                speed(args, tmp, size, True)  # warm-up (oneDNN kernels for this size)
                for stab in (False, True):
                    fps[(size, stab)] = speed(args, tmp, size, stab)
            rss = {n: peak_rss_mb(args, tmp, n) for n in (48, 4 * 48)}
    if means:
        report_quality(means, args)
    if fps:
        report_speed(fps, rss)
    print(machine())


if __name__ == "__main__":
    main()
