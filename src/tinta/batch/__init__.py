"""Colourizing files and folders: input collection, output naming, sharding, the batch loop.

Guarantees (tested in ``tests/faults``):

- an input is never overwritten: no output path, summary or temporary file may be an input
  of the whole run (every shard, every torchrun rank);
- outputs are written to a temporary name and renamed, so none is ever half-written; a
  temporary file left by a killed run is removed by the next run into the same folder;
- output names never collide: with one input folder, outputs keep their paths relative
  to it; with several inputs, their paths relative to the inputs' common folder; when
  ``--format`` would give two inputs the same name, the input's own suffix is kept in it
  (``photo-jpg.png``);
- one bad file never stops the batch; every input is counted: done, failed, skipped.

:func:`colorize_files` is the whole of ``tinta colorize`` as one call (``tinta colorize`` parses its
options into a :class:`ColorizeOptions`, calls it and prints the :class:`Summary`):

    from tinta.batch import ColorizeOptions, colorize_files
    summary = colorize_files(["scans/"], "out/", ColorizeOptions(model="vivid", skip_existing=True))
    print(summary.done, summary.failures)

One job loop, :func:`run_jobs`, serves every way of running: the inputs colourized here one after the
other (:func:`in_process`), or by the workers of a Ray cluster (:mod:`tinta.distributed`), which call
:func:`run_one` on each input and send back its :class:`Outcome`.
"""

from __future__ import annotations

from tinta.batch.jobs import (
    READABLE,
    Job,
    Options,
    Outcome,
    Plan,
    Result,
    check_out_dir,
    check_summary_path,
    collect,
    in_process,
    is_video,
    merge_shard_summaries,
    parse_shard,
    plan,
    refusal,
    run_jobs,
    run_one,
    shard_of,
    summary_dict,
)
from tinta.batch.options import ColorizeOptions
from tinta.batch.workflow import Here, Summary, colorize_files, load_colorizer

__all__ = ["READABLE", "ColorizeOptions", "Here", "Job", "Options", "Outcome", "Plan", "Result", "Summary",
           "check_out_dir", "check_summary_path", "collect", "colorize_files", "in_process", "is_video",
           "load_colorizer", "merge_shard_summaries", "parse_shard", "plan", "refusal", "run_jobs", "run_one",
           "shard_of", "summary_dict"]
