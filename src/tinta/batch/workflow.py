"""``tinta colorize`` as one library call: :func:`colorize_files` plans the inputs, checks every
output against every input, loads the model, runs the one job loop (:func:`tinta.batch.run_jobs`)
here or on a Ray cluster (a *runner*), and returns a :class:`Summary`; the command line only parses,
calls it and prints."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tinta.batch import jobs as batch
from tinta.batch.options import ColorizeOptions
from tinta.errors import TintaError
from tinta.files import write_json


@dataclass
class Summary:
    """What became of the inputs of one :func:`colorize_files` call (of its shard, when sharded)."""

    model: str
    shard: tuple[int, int]
    inputs: int  # inputs of this shard, those that yield no picture included
    outputs: list[str]  # files written
    skipped: list[str]  # outputs already there (skip_existing)
    failures: list[dict]  # {"input": ..., "reason": ...}
    partial: list[str]  # inputs with frames or pages left out
    notes: list[str]
    guide: dict = field(default_factory=dict)  # the hints, reference or palette used
    merged: dict | None = None  # every shard's summary, once this shard completed the set

    @property
    def done(self) -> int:
        return len(self.outputs)

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def ok(self) -> bool:
        """Every input colourized whole (or skipped): the command's exit code 0."""
        return not self.failures and not self.partial

    def to_json(self) -> dict:
        """The summary ``--summary`` writes (``--hints`` reads the hints back from it)."""
        result = batch.Result(self.outputs, self.skipped, [], self.notes, self.partial)
        problems = [(f["input"], f["reason"]) for f in self.failures]
        return {**batch.summary_dict(result, self.model, self.shard, problems), **self.guide}


class Here:
    """The runner of this process: pictures one after the other under one progress bar, then each clip
    (under its own frame progress bar when a progress bar is shown)."""

    remote = False  # a remote runner shares the inputs out itself (no sharding) and shows no per-clip bars

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def session(self):
        return contextlib.nullcontext()

    def run(self, colorizer, jobs: list[batch.Job], inputs: set[Path], options: batch.Options,
            progress) -> batch.Result:
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        pictures = [j for j in jobs if not batch.is_video(j.src)]
        work = batch.in_process(colorizer, options)
        result = batch.run_jobs(pictures, inputs, options, work, progress)
        return batch.run_jobs(jobs[len(pictures):], inputs, options, work, result=result)


def load_colorizer(options: ColorizeOptions):
    """The model of ``options``: ``checkpoint`` or ``model`` at ``render_size``, in PyTorch or ONNX Runtime."""
    from tinta.inference import load_model

    if options.backend == "onnx":
        from tinta.export import export_onnx, load_onnx

        onnx = options.onnx
        if onnx is None:
            import tempfile

            onnx = export_onnx(load_model(options.model_name), Path(tempfile.mkdtemp()) / "model.onnx")
        return load_onnx(onnx, options.render_size, options.threads)
    return load_model(options.model_name, render_size=options.render_size)


def _given(options: ColorizeOptions, colorizer):
    """A loaded model passed in, at ``options.render_size``; the options that load a model must be unset."""
    loading = {"model": options.model != "default", "checkpoint": options.checkpoint is not None,
               "backend": options.backend != "torch", "onnx": options.onnx is not None}
    named = [k for k, v in loading.items() if v]
    if named:
        raise TintaError(f"a loaded model was given: leave {', '.join(named)} unset (they choose the model to load)")
    return colorizer.at_render_size(options.render_size)


def _shard(options: ColorizeOptions, runner) -> tuple[int, int]:
    shard = batch.parse_shard(options.shard)
    if runner.remote and (options.shard is not None or shard[1] > 1):
        raise TintaError("--ray shares the inputs out itself: drop --shard (and do not start it under torchrun)")
    return shard


def _runner(options: ColorizeOptions, runner):
    if runner is None and options.ray is not None:
        raise TintaError(f"ray={options.ray!r}: colourizing on a Ray cluster needs its runner: "
                         "colorize_files(..., runner=tinta.distributed.ray_runner(options))")
    return runner or Here(options.threads)


def colorize_files(inputs: list[str], out: str | Path, options: ColorizeOptions | None = None, *,
                   colorizer=None, runner=None, progress: Callable | None = None) -> Summary:
    """Colourize files, folders (recursive) and globs ``inputs`` into the folder ``out``, with the guarantees
    of :mod:`tinta.batch` (no input overwritten, no half-written output, one bad file never stops the
    batch), as ``tinta colorize`` does -> the :class:`Summary` (also written to ``options.summary``).

    ``options``: :class:`ColorizeOptions` (model, saturation, render size, format, hints, shard ...);
    ``colorizer``: a loaded model to use instead of loading ``options.model`` (``options.render_size``
    applies to it); ``runner``: where the work runs (default: here; ``tinta.distributed.ray_runner(options)``:
    a Ray cluster); ``progress(outcomes, total)``: e.g. a tqdm wrapper (with it, each clip shows a frame bar).
    A user mistake (a bad option, no input that yields a picture, an unusable ``out``) raises TintaError
    before any model runs; a bad file is a failure in the summary."""
    options = options or ColorizeOptions()
    runner = _runner(options, runner)
    out_dir = Path(out)
    shard = _shard(options, runner)
    plan = batch.plan(list(inputs), out_dir, options.format)
    every_input = {j.src for j in plan.jobs}
    summary_path = batch.check_summary_path(options.summary, every_input)
    batch.check_out_dir(out_dir)
    jobs = batch.shard_of(plan.jobs, *shard)
    hints, palette = options.read_hints(), options.read_palette()  # refused before the model loads
    with runner.session():  # a Ray cluster that is not there is found before the model loads
        model = load_colorizer(options) if colorizer is None else _given(options, colorizer)
        job_options = batch.Options(options.saturation, model.guide(hints, options.reference, palette),
                                    options.skip_existing, options.stabilize, shard,
                                    video_progress=progress is not None and not runner.remote)
        result = runner.run(model, jobs, every_input, job_options, progress or (lambda outcomes, total: outcomes))
    problems = plan.problems if shard[0] == 0 else []  # reported once, by shard 0
    summary = Summary(model.name, shard, len(jobs) + len(problems), result.done, result.skipped,
                      [{"input": s, "reason": r} for s, r in problems + result.failed], result.partial, result.notes,
                      options.guide_record(hints))
    if summary_path:
        write_json(summary_path, summary.to_json())
    if shard[1] > 1:
        summary.merged = batch.merge_shard_summaries(out_dir, summary.to_json(), *shard)
    return summary
