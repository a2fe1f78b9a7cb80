"""Colourizing an archive on a Ray cluster (``tinta colorize ... --ray ADDRESS``: :func:`tinta.batch.colorize_files`
with :func:`ray_runner`; :func:`colorize_dataset`).

The batch is :func:`tinta.batch.run_jobs`, the same loop as on one machine: the driver plans every
input and its output name, checks every output against every input, and folds one
:class:`~tinta.batch.Outcome` per input into the summary. Only the work moves: rows holding a few
paths stream through Ray Data (``map_batches`` over an actor pool) to workers that keep the model
loaded, read each picture from the shared file system, colourize it and write it (atomically) with
:func:`tinta.batch.run_one`, and send back its outcome. Memory stays bounded: the dataset holds paths,
never pictures, and streams (nothing is materialised).

Units of work: a task is a chunk of up to ``RayOptions.chunk`` pictures, or one whole video (the
temporal stabiliser runs along the whole clip, and the clip's output is then one atomic rename by one
worker; a long film is split by frame ranges with ``--shard`` instead). Videos go first, so the long
tasks do not make the tail of the job.

When a worker or its node dies, Ray restarts the worker and runs its task again; a picture written by
the lost attempt is written again, by rename, with the same bytes, so every output is whole and there
is one per input, and the lost attempt's outcomes never reach the driver, so each input is counted
once. When the driver dies, its workers are stopped with it; ``--skip-existing`` finishes the job.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tinta import batch
from tinta.errors import TintaError
from tinta.files import sweep_stale_temps

INSTALL = "pip install 'tinta[ray]'"


@dataclass
class RayOptions:
    """Where and how wide a batch runs on Ray."""

    address: str = "auto"  # auto (RAY_ADDRESS / this machine's cluster), local (start one here), HOST:PORT, ray://...
    threads: int = 1  # torch threads of each worker = the CPUs it reserves
    actors: int | None = None  # most workers; None: as many as the cluster's CPUs allow (CPUs // threads)
    chunk: int = 8  # pictures per task: what a worker does again when its node dies
    local_cpus: int | None = None  # address "local": CPUs of the cluster started here (None: Ray counts them)
    local_store_mb: int = 256  # address "local": object store size (it holds paths and outcomes, never pictures)

    def __post_init__(self):
        if self.threads < 1 or self.chunk < 1 or (self.actors is not None and self.actors < 1):
            raise TintaError(f"Ray options: threads {self.threads}, chunk {self.chunk} and actors {self.actors} "
                             f"must be at least 1")


def require_ray():
    try:
        import ray
    except ImportError:
        raise TintaError(f"--ray needs Ray: {INSTALL}") from None
    return ray


@contextlib.contextmanager
def session(options: RayOptions) -> Iterator[None]:
    """Connected to the cluster of ``options.address`` (or started, for ``local``) inside the block; a
    cluster that cannot be reached is a TintaError. A connection this process already has is used as it is."""
    ray = require_ray()
    if ray.is_initialized():
        yield
        return
    local = options.address == "local"
    extra = {"num_cpus": options.local_cpus, "object_store_memory": options.local_store_mb << 20} if local else {}
    try:
        ray.init(address=options.address, logging_level=logging.WARNING, include_dashboard=False, **extra)
    except (ConnectionError, ValueError, RuntimeError) as e:
        raise TintaError(f"--ray {options.address}: cannot reach a Ray cluster ({str(e).splitlines()[0]})") from None
    try:
        _quiet_ray_data()
        yield
    finally:
        ray.shutdown()


def _quiet_ray_data() -> None:
    """One progress bar (tinta's, over the whole job) instead of Ray Data's per-operator bars and logs."""
    from ray.data import DataContext

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "progress bars disabled"
    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False


class Worker:
    """A Ray Data actor: the model loaded once, then chunks of jobs through :func:`tinta.batch.run_one`."""

    def __init__(self, colorizer_ref, options: batch.Options, threads: int):
        import ray
        import torch

        torch.set_num_threads(threads)
        self.colorizer, self.options = ray.get(colorizer_ref[0]), options

    def __call__(self, rows: dict) -> dict:
        outcomes = [batch.run_one(self.colorizer, job, self.options) for chunk in rows["jobs"]
                    for job in _jobs(chunk)]
        return {"outcome": [json.dumps(o.__dict__) for o in outcomes]}


def _chunks(jobs: list[batch.Job], size: int) -> list[dict]:
    """Dataset rows: each video alone, first (long tasks do not make the tail), then pictures ``size`` at a time."""
    videos = [j for j in jobs if batch.is_video(j.src)]
    pictures = [j for j in jobs if not batch.is_video(j.src)]
    groups = [[v] for v in videos] + [pictures[i:i + size] for i in range(0, len(pictures), size)]
    return [{"jobs": json.dumps([[str(j.src), str(j.dst), j.pil_format] for j in g])} for g in groups]


def _jobs(chunk: str) -> list[batch.Job]:
    return [batch.Job(Path(src), Path(dst), fmt) for src, dst, fmt in json.loads(chunk)]


def _actors(options: RayOptions) -> int:
    import ray

    cpus = int(ray.cluster_resources().get("CPU", 0))
    if cpus < options.threads:
        raise TintaError(f"the Ray cluster has {cpus} CPUs; a worker needs {options.threads} (--threads)")
    return options.actors or cpus // options.threads


def on_ray(colorizer, options: batch.Options, ray_options: RayOptions):
    """The ``work`` of :func:`tinta.batch.run_jobs` on the connected Ray cluster (see :func:`session`)."""

    def work(jobs: list[batch.Job]) -> Iterator[batch.Outcome]:
        if not jobs:
            return
        import ray

        rows = _chunks(jobs, ray_options.chunk)
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))  # a block per task
        most = _actors(ray_options)
        pool = ray.data.ActorPoolStrategy(min_size=1, max_size=most, initial_size=most)
        ds = ds.map_batches(Worker, batch_size=1, compute=pool, num_cpus=ray_options.threads,
                            fn_constructor_args=([ray.put(colorizer)], options, ray_options.threads))
        for row in ds.iter_rows():
            yield batch.Outcome(**json.loads(row["outcome"]))
        for folder in {j.dst.parent for j in jobs}:  # temporary files of workers that died (their PIDs are gone)
            sweep_stale_temps(folder)

    return work


class OnRay:
    """The runner of :func:`tinta.batch.colorize_files` on a Ray cluster: every input under one progress bar,
    each clip a task of its own (no frame progress bars)."""

    remote = True  # shares the inputs out itself: no --shard

    def __init__(self, options: RayOptions):
        self.options = options

    def session(self):
        return session(self.options)

    def run(self, colorizer, jobs: list[batch.Job], inputs: set[Path], options: batch.Options,
            progress) -> batch.Result:
        return batch.run_jobs(jobs, inputs, options, on_ray(colorizer, options, self.options), progress)


def ray_runner(options: batch.ColorizeOptions) -> OnRay:
    """The Ray runner of ``options`` (``ray``: the cluster's address, None as ``--ray`` alone: auto; ``threads``
    per worker, None: 1; ``actors``; ``chunk``): ``colorize_files(inputs, out, options, runner=ray_runner(options))``.
    """
    return OnRay(RayOptions(options.ray or "auto", options.threads or 1, options.actors, options.chunk))


def colorize_dataset(inputs: list[str], out: str | Path, model="default", options: batch.Options | None = None,
                     ray: RayOptions | None = None, fmt: str | None = None, progress=None) -> dict:
    """Colourize files, folders (recursive) and globs into the folder ``out`` on a Ray cluster, with the
    guarantees of ``tinta colorize``; -> the summary (done / skipped / failed with reasons / partial).
    ``model``: a shipped weights name, a run folder or a loaded Colorizer; ``options``: saturation, hints
    (``Options.guide``, from ``colorizer.guide(...)``), ``skip_existing``; ``progress(outcomes, total)``:
    e.g. a tqdm wrapper."""
    from tinta.inference import Colorizer, load_model

    options, ray = options or batch.Options(), ray or RayOptions()
    plan = batch.plan(list(inputs), Path(out), fmt)
    batch.check_out_dir(Path(out))
    with session(ray):
        colorizer = model if isinstance(model, Colorizer) else load_model(model)
        extra = {} if progress is None else {"progress": progress}
        result = batch.run_jobs(plan.jobs, {j.src for j in plan.jobs}, options, on_ray(colorizer, options, ray),
                                **extra)
    return batch.summary_dict(result, colorizer.name, (0, 1), plan.problems)

