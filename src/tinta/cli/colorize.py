"""``tinta colorize INPUT... -o OUTDIR``: colourize files, folders (recursive) and globs.

Outputs keep the input's format (or ``--format``) and its path relative to the input folder
(several inputs: to their common folder), are written under a temporary name and renamed,
and never replace an input. One bad file never stops the batch: it is reported in the
summary, and the exit code is 1 if anything failed. ``--shard I/N`` (or torchrun's RANK /
WORLD_SIZE) colourizes a disjoint, deterministic part of the inputs; ``--ray ADDRESS`` colourizes
them on a Ray cluster (:mod:`tinta.distributed`) with the same guarantees.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tinta.cli.args import number, positive, whole_number

VIDEO_FORMATS = ("mp4", "mkv", "mov", "avi", "webm", "m4v")  # tinta.video.CONTAINERS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.description = ("Colourize grey (or faded) photos. Colour inputs are re-colourized from their own "
                     "lightness. Alpha, ICC profile and EXIF orientation are kept.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or video files, folders (recursive) or globs")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--model", default="default", help="shipped weights name (see `tinta models`) or a run folder")
    p.add_argument("--checkpoint", default=None, help="a run folder to use instead of --model")
    p.add_argument("--saturation", type=number, default=1.0, help="chroma gain, 0 to 4 (1.0 = as predicted)")
    p.add_argument("--render-size", type=whole_number, default=None,
                   help="short side the model sees (default: the model's own; 0: the full picture)")
    p.add_argument("--format", choices=("png", "jpg", "webp", "tif", "bmp", *VIDEO_FORMATS), default=None,
                   help="output format (default: the input's); a picture format applies to pictures, "
                        "a video container to videos")
    p.add_argument("--no-stabilize", action="store_true",
                   help="videos: colourize every frame on its own (default: colours kept steady along the motion)")
    p.add_argument("--backend", choices=("torch", "onnx"), default="torch", help="inference engine")
    p.add_argument("--onnx", default=None, help="ONNX file for --backend onnx (its own metadata names the head; "
                   "default: export --model to a temporary file)")
    p.add_argument("--shard", default=None, metavar="I/N", help="process only shard I of N (0-based)")
    p.add_argument("--skip-existing", action="store_true", help="leave outputs that already exist (resume a batch)")
    p.add_argument("--summary", default=None, metavar="FILE.json", help="also write the summary as JSON here")
    p.add_argument("--threads", type=positive, default=None,
                   help="torch threads of each process (default: torch's own here; 1 per Ray worker)")
    r = p.add_argument_group("Ray cluster", "colourize on a Ray cluster (pip install 'tinta[ray]'; docs/ray.md)")
    r.add_argument("--ray", nargs="?", const="auto", default=None, metavar="ADDRESS",
                   help="run on Ray: auto (the cluster this machine belongs to, RAY_ADDRESS; the default), "
                        "local (start one here), or HOST:PORT / ray://HOST:PORT; every input and output path "
                        "must be the same on every node (a shared file system)")
    r.add_argument("--actors", type=positive, default=None,
                   help="most Ray workers (each keeps the model loaded and reserves --threads CPUs; "
                        "default: as many as the cluster's CPUs allow)")
    r.add_argument("--chunk", type=positive, default=8,
                   help="pictures per Ray task (a video is a task of its own); larger on big clusters: docs/ray.md")
    g = p.add_argument_group("colour hints", "steer the colours (point hints need a hint-taking model: --model guided)")
    g.add_argument("--hint", action="append", default=[], metavar="X,Y=#RRGGBB",
                   help="pixel X,Y of the input (after EXIF rotation) is this colour (its lightness is ignored); "
                        "repeat for more hints")
    g.add_argument("--hints", default=None, metavar="FILE.json",
                   help='hints from a JSON list ([{"x": 120, "y": 80, "color": "#c03020"}, ...]) or a summary')
    g.add_argument("--reference", default=None, metavar="PICTURE", help="follow the colours of this photo")
    g.add_argument("--palette", default=None, metavar="'#RRGGBB,...'", help="follow these colours")


def load_colorizer(args: argparse.Namespace):
    from tinta.heads import check_saturation
    from tinta.inference import check_render_size, load_model

    check_saturation(args.saturation)
    render_size = check_render_size(args.render_size)
    if args.backend == "onnx":
        from tinta.export import export_onnx, load_onnx

        if args.onnx is None:
            import tempfile

            args.onnx = export_onnx(load_model(args.checkpoint or args.model), Path(tempfile.mkdtemp()) / "model.onnx")
        return load_onnx(args.onnx, render_size, args.threads)
    return load_model(args.checkpoint or args.model, render_size=render_size)


def read_hint_options(args: argparse.Namespace) -> list:
    """--hints FILE then every --hint, parsed (a TintaError names a bad one; at most MAX_HINTS in all)."""
    from tinta.hints import as_hints, read_hints

    return as_hints([*(read_hints(args.hints) if args.hints is not None else []), *args.hint])


def parse_palette(text: str | None) -> list | None:
    """--palette, by the library's one rule (text naming no colour is refused); None when not given."""
    from tinta.hints import parse_palette

    return None if text is None else parse_palette(text)


def guide_summary(args: argparse.Namespace, hints: list) -> dict:
    """What the summary records of the hints used (``--hints`` reads them back)."""
    out = {"hints": [h.to_json() for h in hints]} if hints else {}
    if args.reference:
        out["reference"] = str(args.reference)
    if args.palette:
        out["palette"] = args.palette
    return out


def report(summary: dict, out_dir: Path, total: int) -> None:
    shard = summary["shard"]
    print(f"colourized {summary['done']} of {total} images into {out_dir} (model {summary['model']}"
          + (f", shard {shard}" if not shard.endswith("/1") else "") + f"); failed {summary['failed']}"
          + (f"; skipped {summary['skipped']} already there" if summary["skipped"] else ""))
    for f in summary["failures"]:
        print(f"  failed: {f['reason'] if f['reason'].startswith(f['input']) else f['input'] + ': ' + f['reason']}")
    for n in summary["notes"]:
        print(f"  note: {n}")


def _options(args: argparse.Namespace, guide, shard: tuple[int, int], on_ray: bool):
    from tinta.batch import Options

    return Options(args.saturation, guide, args.skip_existing, not args.no_stabilize, shard, video_progress=not on_ray)


def _shard(args: argparse.Namespace) -> tuple[int, int]:
    from tinta.batch import parse_shard
    from tinta.errors import TintaError

    shard = parse_shard(args.shard)
    if args.ray is not None and (args.shard is not None or shard[1] > 1):
        raise TintaError("--ray shares the inputs out itself: drop --shard (and do not start it under torchrun)")
    return shard


def _cluster(args: argparse.Namespace):
    """Connected to --ray's cluster inside the block (nothing to do without --ray)."""
    if args.ray is None:
        import contextlib

        return contextlib.nullcontext()
    from tinta.distributed import session

    return session(_ray_options(args))


def _ray_options(args: argparse.Namespace):
    from tinta.distributed import RayOptions

    return RayOptions(args.ray, args.threads or 1, args.actors, args.chunk)


def _run_batch(args: argparse.Namespace, colorizer, jobs: list, inputs: set, options):
    """The batch here (pictures under one progress bar, then each clip under its own) or on --ray's cluster
    (every input under one progress bar)."""
    from tqdm import tqdm

    from tinta import batch

    def progress(outcomes, n):
        return tqdm(outcomes, total=n, desc="colorize", disable=n < 2, file=sys.stderr)

    if args.ray is not None:
        from tinta.distributed import on_ray

        work = on_ray(colorizer, options, _ray_options(args))
        return batch.run_jobs(jobs, inputs, options, work, progress)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    pictures = [j for j in jobs if not batch.is_video(j.src)]
    work = batch.in_process(colorizer, options)
    result = batch.run_jobs(pictures, inputs, options, work, progress)
    return batch.run_jobs(jobs[len(pictures):], inputs, options, work, result=result)


def run(args: argparse.Namespace) -> int:
    from tinta import batch

    out_dir = Path(args.out)
    shard_i, shard_n = shard = _shard(args)
    plan = batch.plan(args.inputs, out_dir, args.format)
    inputs = {j.src for j in plan.jobs}
    summary_path = batch.check_summary_path(args.summary, inputs)
    batch.check_out_dir(out_dir)
    jobs = batch.shard_of(plan.jobs, shard_i, shard_n)
    hints, palette = read_hint_options(args), parse_palette(args.palette)  # refused before the model loads
    with _cluster(args):  # a Ray cluster that is not there is found before the model loads
        colorizer = load_colorizer(args)
        guide = colorizer.guide(hints, args.reference, palette)
        result = _run_batch(args, colorizer, jobs, inputs, _options(args, guide, shard, args.ray is not None))
    problems = plan.problems if shard_i == 0 else []  # reported once, by shard 0
    summary = batch.summary_dict(result, colorizer.name, shard, problems)
    summary.update(guide_summary(args, hints))
    report(summary, out_dir, len(jobs) + len(problems))
    if summary_path:
        from tinta.files import write_json

        write_json(summary_path, summary)
    if shard_n > 1:
        merged = batch.merge_shard_summaries(out_dir, summary, shard_i, shard_n)
        if merged:
            print(f"all {shard_n} shards finished: {merged['done']} done, {merged['failed']} failed "
                  f"(merged summary {out_dir / 'tinta-summary.json'})")
    return 1 if summary["failed"] or summary["partial"] else 0
