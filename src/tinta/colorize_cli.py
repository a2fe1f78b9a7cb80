"""``tinta colorize INPUT... -o OUTDIR``: colourize files, folders (recursive) and globs.

Outputs keep the input's name and format (or ``--format``), are written under a
temporary name and renamed, and never replace an input. One bad file never stops the
batch: it is reported in the summary, and the exit code is 1 if anything failed.
``--shard I/N`` (or torchrun's RANK / WORLD_SIZE) colourizes a disjoint, deterministic
part of the inputs, so several processes or machines can share a large folder.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
from pathlib import Path

from tinta.errors import TintaError

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp", ".gif"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("colorize", help="colourize photos (files, folders, globs)",
                       description="Colourize grey (or faded) photos. Colour inputs are re-colourized from "
                       "their own lightness. Alpha, ICC profile and EXIF orientation are kept.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive) or globs")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--model", default="default", help="shipped weights name (see `tinta models`) or a run folder")
    p.add_argument("--checkpoint", default=None, help="a run folder to use instead of --model")
    p.add_argument("--saturation", type=float, default=1.0, help="chroma gain (1.0 = as predicted)")
    p.add_argument("--render-size", type=int, default=None, help="short side the model sees (default: the model's)")
    p.add_argument("--format", choices=("png", "jpg", "webp", "tif", "bmp"), default=None,
                   help="output format (default: the input's)")
    p.add_argument("--backend", choices=("torch", "onnx"), default="torch", help="inference engine")
    p.add_argument("--onnx", default=None, help="ONNX file for --backend onnx (default: export --model to a temp file)")
    p.add_argument("--shard", default=None, metavar="I/N", help="process only shard I of N (0-based)")
    p.add_argument("--summary", default=None, help="also write the summary as JSON here")
    p.set_defaults(run=run)


def collect_inputs(items: list[str]) -> tuple[list[tuple[Path, Path]], list[str]]:
    """-> ([(file, relative output name)], [inputs that matched nothing]); sorted, deduplicated."""
    found: dict[Path, Path] = {}
    missing = []
    for item in items:
        paths = [Path(p) for p in sorted(glob.glob(item, recursive=True))] if glob.has_magic(item) else [Path(item)]
        if not paths or not any(p.exists() for p in paths):
            missing.append(item)
            continue
        for p in paths:
            if p.is_dir():
                for f in sorted(p.rglob("*")):
                    if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES:
                        found.setdefault(f.resolve(), f.relative_to(p))
            elif p.is_file():
                found.setdefault(p.resolve(), Path(p.name))
    return sorted(found.items()), missing


def parse_shard(shard: str | None) -> tuple[int, int]:
    if shard is None:
        if "WORLD_SIZE" in os.environ and "RANK" in os.environ:  # under torchrun
            return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        return 0, 1
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise TintaError(f"--shard must look like I/N (e.g. 0/4), got {shard!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise TintaError(f"--shard {shard}: need 0 <= I < N")
    return i, n


def shard_items(items: list, index: int, count: int) -> list:
    """Shard ``index`` of ``count``: every count-th item of the sorted list (disjoint, covering)."""
    return items[index::count]


def onnx_colorizer(colorizer, onnx_path: str | None):
    """The same Colorizer with its model replaced by an ONNX Runtime session."""
    import tempfile

    from tinta.export import OnnxModel, export_onnx

    if onnx_path is None:
        onnx_path = export_onnx(colorizer, Path(tempfile.mkdtemp()) / "model.onnx")
    elif not Path(onnx_path).is_file():
        raise TintaError(f"{onnx_path}: ONNX file not found")
    colorizer.model = OnnxModel(onnx_path)
    colorizer.name += " (onnx)"
    return colorizer


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from tinta.imageio import output_format, read_picture, write_picture
    from tinta.infer import load_model

    files, missing = collect_inputs(args.inputs)
    if missing and not files:
        raise TintaError(f"no input images found: {', '.join(missing)}")
    shard_i, shard_n = parse_shard(args.shard)
    files = shard_items(files, shard_i, shard_n)
    colorizer = load_model(args.checkpoint or args.model, render_size=args.render_size or -1)
    if args.backend == "onnx":
        colorizer = onnx_colorizer(colorizer, args.onnx)
    out_dir = Path(args.out)
    inputs = {f for f, _ in files}
    done, failed, notes = [], [], []
    failed += [(m, "matched no file") for m in missing]
    for src, rel in tqdm(files, desc="colorize", disable=len(files) < 2, file=sys.stderr):
        try:
            pil_format, suffix = output_format(src, args.format)
            dst = (out_dir / rel).with_suffix(suffix)
            if dst.resolve() in inputs:
                raise TintaError(f"output {dst} would overwrite an input; choose another --out")
            pic = read_picture(src)
            rgb = colorizer.colorize_lightness(pic.L, args.saturation)
            if not write_picture(rgb, pic.alpha, dst, pil_format, pic.icc_profile):
                notes.append(f"{src}: {pil_format} has no alpha channel; alpha dropped")
            done.append(str(dst))
        except TintaError as e:
            failed.append((str(src), str(e)))
        except Exception as e:  # one bad file never stops the batch
            failed.append((str(src), f"{e.__class__.__name__}: {e}"))
    summary = {"model": colorizer.name, "shard": f"{shard_i}/{shard_n}", "done": len(done),
               "failed": len(failed), "failures": [{"input": s, "reason": r} for s, r in failed], "notes": notes}
    print(f"colourized {len(done)} of {len(files)} images into {out_dir} (model {colorizer.name}"
          + (f", shard {shard_i}/{shard_n}" if shard_n > 1 else "") + f"); failed {len(failed)}")
    for s, r in failed:
        print(f"  failed: {s}: {r}")
    for n in notes:
        print(f"  note: {n}")
    if args.summary:
        _write_json(Path(args.summary), summary)
    if shard_n > 1:
        merged = merge_shard_summaries(out_dir, summary, shard_i, shard_n)
        if merged:
            print(f"all {shard_n} shards finished: {merged['done']} done, {merged['failed']} failed "
                  f"(merged summary {out_dir / 'tinta-summary.json'})")
    return 1 if failed else 0


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(obj, indent=2) + "\n")
    os.replace(tmp, path)


def merge_shard_summaries(out_dir: Path, summary: dict, i: int, n: int) -> dict | None:
    """Write this shard's summary into OUTDIR; the shard that completes the set writes the
    merged ``tinta-summary.json`` and returns it."""
    _write_json(out_dir / f"tinta-summary.shard-{i}-of-{n}.json", summary)
    parts = [out_dir / f"tinta-summary.shard-{k}-of-{n}.json" for k in range(n)]
    if not all(p.exists() for p in parts):
        return None
    loaded = [json.loads(p.read_text()) for p in parts]
    merged = {"model": summary["model"], "shards": n, "done": sum(x["done"] for x in loaded),
              "failed": sum(x["failed"] for x in loaded),
              "failures": [f for x in loaded for f in x["failures"]], "notes": [m for x in loaded for m in x["notes"]]}
    _write_json(out_dir / "tinta-summary.json", merged)
    return merged
