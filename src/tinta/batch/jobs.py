"""The batch's parts: planning (inputs, output names, shards), the guard against writing over an
input, one input colourized (:func:`run_one`) and the one job loop (:func:`run_jobs`); see
:mod:`tinta.batch` for the guarantees. Importing it loads no torch (the model's modules load when a
picture is colourized), so ``tinta colorize --help`` stays light."""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tinta.errors import TintaError
from tinta.files import os_error_line, read_json, sweep_stale_temps, write_json
from tinta.imageio import FORMATS, PICTURE_SUFFIXES, output_format, read_picture, write_picture
from tinta.video import CONTAINERS, VIDEO_SUFFIXES, container_of, is_video

READABLE = PICTURE_SUFFIXES | VIDEO_SUFFIXES  # videos go through tinta.video


@dataclass
class Job:
    src: Path  # resolved input file
    dst: Path  # output file
    pil_format: str


@dataclass
class Plan:
    jobs: list[Job]  # every input of the run, in a fixed order
    problems: list[tuple[str, str]] = field(default_factory=list)  # (input, why it yields no picture)


def _expand(item: str) -> list[Path]:
    return [Path(p) for p in sorted(glob.glob(item, recursive=True))] if glob.has_magic(item) else [Path(item)]


def collect(items: list[str]) -> tuple[list[tuple[Path, Path]], list[tuple[str, str]]]:
    """-> ([(resolved file, anchor folder)], [(input, problem)]): files of the inputs (folders searched
    recursively), sorted and deduplicated, each with the folder its output name is relative to."""
    found: dict[Path, Path] = {}
    problems: list[tuple[str, str]] = []
    for item in items:
        paths = _expand(item)
        if not paths or not any(os.path.lexists(p) for p in paths):
            problems.append((item, "matched no file"))
            continue
        for p in paths:
            if p.is_dir():
                files = [f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix.lower() in READABLE]
                if not files:
                    problems.append((str(p), f"folder holds no pictures or videos ({', '.join(sorted(READABLE))})"))
                for f in files:
                    found.setdefault(f.resolve(), p.resolve())
            elif p.exists() and stat.S_ISREG(p.stat().st_mode):
                found.setdefault(p.resolve(), p.resolve().parent)
            else:
                problems.append((str(p), "not a regular file or folder"))
    return sorted(found.items()), problems


def plan(items: list[str], out_dir: Path, fmt: str | None = None) -> Plan:
    """Every input and its output path; raises TintaError when no input yields a picture. A file named
    directly whose suffix tinta does not know (or that has none) is read as a picture when ``fmt`` names
    a picture format."""
    files, problems = collect(items)
    as_picture = fmt is not None and fmt.lower() in FORMATS  # a named file of no known suffix is read as a picture
    bad = [src for src, _ in files if src.suffix.lower() not in READABLE and not as_picture]
    problems += [(str(src), f"not a picture or video type tinta reads ({', '.join(sorted(READABLE))}; "
                  f"give --format png to read it as a picture)") for src in bad]
    files = [(src, a) for src, a in files if src not in bad]
    if not files:
        reasons = "; ".join(f"{i}: {r}" for i, r in problems) or "no inputs"
        raise TintaError(f"no pictures to colourize ({reasons})")
    anchors = {a for _, a in files}  # one input folder: the folder itself
    base = anchors.pop() if len(anchors) == 1 else Path(os.path.commonpath([str(a) for _, a in files]))
    jobs, names = [], {}
    for src, _ in files:
        pil_format, suffix = _output_format(src, fmt)
        rel = src.relative_to(base)
        jobs.append(Job(src, out_dir / rel.with_suffix(suffix), pil_format))
        names.setdefault(jobs[-1].dst, []).append(jobs[-1])
    for dst, same in names.items():
        if len(same) > 1:  # --format gave several inputs one name: keep each input's suffix in it
            for j in same:
                j.dst = dst.with_name(f"{j.src.stem}-{j.src.suffix.lstrip('.').lower()}{dst.suffix}")
    return Plan(jobs, problems)


def _output_format(src: Path, fmt: str | None) -> tuple[str, str]:
    """(PIL format, or FFmpeg muxer for a video; suffix): ``--format`` applies to the inputs of its kind."""
    if is_video(src):
        return container_of(src, fmt if fmt in CONTAINERS else None)
    return output_format(src, None if fmt in CONTAINERS else fmt)


def check_out_dir(out_dir: Path) -> None:
    """The output folder, checked (and created) before any model runs."""
    if out_dir.exists() and not out_dir.is_dir():
        raise TintaError(f"-o {out_dir} is a file; give a folder for the results")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TintaError(f"-o {out_dir}: cannot create the folder ({e.strerror})") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise TintaError(f"-o {out_dir}: the folder is not writable")
    sweep_stale_temps(out_dir, recursive=True)


def check_summary_path(summary: str | None, inputs: set[Path]) -> Path | None:
    """``--summary FILE``: a .json path that is not an input and not an existing non-JSON file."""
    if summary is None:
        return None
    path = Path(summary)
    if path.suffix.lower() != ".json":
        raise TintaError(f"--summary {summary}: the summary is JSON; give a path ending in .json")
    if path.resolve() in inputs:
        raise TintaError(f"--summary {summary} is one of the inputs; choose another path")
    if path.exists() and not path.is_file():
        raise TintaError(f"--summary {summary} is a folder or device; give a .json file path")
    if path.exists():
        read_json(path)  # an existing file is only replaced when it is JSON (a previous summary)
    return path


def shard_of(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Shard ``index`` of ``count``: every count-th picture of the fixed order (disjoint, covering), and
    every video (each shard colourizes its own range of a video's frames: tinta.video)."""
    return [j for j in jobs if not is_video(j.src)][index::count] + [j for j in jobs if is_video(j.src)]


def parse_shard(shard: str | None, environ=os.environ) -> tuple[int, int]:
    """``--shard I/N``, else torchrun's RANK / WORLD_SIZE, else 0/1."""
    if shard is None:
        if "WORLD_SIZE" in environ and "RANK" in environ:  # under torchrun
            try:
                i, n = int(environ["RANK"]), int(environ["WORLD_SIZE"])
            except ValueError:
                raise TintaError(f"RANK={environ['RANK']!r} / WORLD_SIZE={environ['WORLD_SIZE']!r} "
                                 f"must be whole numbers") from None
            if not (n >= 1 and 0 <= i < n):
                raise TintaError(f"RANK={i} WORLD_SIZE={n}: need 0 <= RANK < WORLD_SIZE")
            return i, n
        return 0, 1
    try:
        i, n = (int(x) for x in shard.split("/"))
    except ValueError:
        raise TintaError(f"--shard must look like I/N (e.g. 0/4), got {shard!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise TintaError(f"--shard {shard}: need 0 <= I < N")
    return i, n


@dataclass
class Options:
    """How every input of a batch is colourized; picklable (the Ray workers of tinta.distributed get a copy)."""

    saturation: float = 1.0  # chroma gain, 0 to 4
    guide: object = None  # a tinta.inference.Guide (point hints, reference or palette colours), or None
    skip_existing: bool = False  # leave outputs that already exist (resume a batch)
    stabilize: bool = True  # videos: colours kept steady along the motion
    shard: tuple[int, int] = (0, 1)  # videos: this process colourizes frames [I n/N, (I+1) n/N) of each clip
    video_progress: bool = False  # videos: a frame progress bar per clip on stderr


@dataclass
class Outcome:
    """What became of one input: ``status`` done / skipped / failed / part (a video shard's frames, written
    into a hidden part file: counted when the last shard joins the parts)."""

    src: str
    status: str
    dst: str = ""
    reason: str = ""  # failed: why
    notes: list[str] = field(default_factory=list)
    partial: bool = False  # frames / pages were left out


@dataclass
class Result:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # outputs already there (--skip-existing)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)  # inputs with frames / pages that were not colourized

    def add(self, o: Outcome) -> None:
        if o.status not in ("done", "skipped", "failed", "part"):
            raise ValueError(f"unknown outcome status {o.status!r} for {o.src}")
        if o.status == "done":
            self.done.append(o.dst)
        elif o.status == "skipped":
            self.skipped.append(o.dst)
        elif o.status == "failed":
            self.failed.append((o.src, o.reason))
        if o.partial:
            self.partial.append(o.src)
        self.notes.extend(o.notes)


def refusal(job: Job, inputs: set[Path], shard: tuple[int, int] = (0, 1)) -> str | None:
    """Why ``job`` must not be written (its output, or its video part file, is an input of the run), or None."""
    targets = [job.dst]
    if is_video(job.src) and shard[1] > 1:
        from tinta.video.pipeline import part_path

        targets.append(part_path(job.dst, *shard))
    if any(t.resolve() in inputs for t in targets):
        return f"output {job.dst} would overwrite an input; choose another -o"
    return None


def _colorize_picture(colorizer, job: Job, options: Options) -> Outcome:
    from tinta.hints import check_hints

    pic = read_picture(job.src)
    if options.guide is not None:
        check_hints(options.guide.hints, pic.L.shape[1], pic.L.shape[0])
    rgb = colorizer.colorize_lightness(pic.L, options.saturation, options.guide)
    notes = [] if write_picture(rgb, pic.alpha, job.dst, job.pil_format, pic.icc_profile) else \
        [f"{job.src}: {job.pil_format} has no alpha channel; alpha dropped"]
    if pic.frames > 1:
        notes.append(f"{job.src}: only the first of its {pic.frames} frames was colourized")
    return Outcome(str(job.src), "done", str(job.dst), notes=notes, partial=pic.frames > 1)


def _colorize_video(colorizer, job: Job, options: Options) -> Outcome:
    from tinta.video.pipeline import VideoOptions, colorize_file
    from tinta.video.stabilize import StabilizeOptions

    video = VideoOptions(options.saturation, StabilizeOptions() if options.stabilize else None, shard=options.shard,
                         guide=options.guide, progress=options.video_progress)
    out = colorize_file(colorizer, job.src, job.dst, job.pil_format, video)
    return Outcome(str(job.src), "part" if out.path is None else "done", str(out.path or ""), notes=out.notes)


def run_one(colorizer, job: Job, options: Options) -> Outcome:
    """Colourize one input (a picture, or a video: the frames of ``options.shard``); a problem with the file
    is its outcome (failed, with the reason), never an exception."""
    if options.skip_existing and job.dst.is_file():
        return Outcome(str(job.src), "skipped", str(job.dst))
    try:
        return (_colorize_video if is_video(job.src) else _colorize_picture)(colorizer, job, options)
    except TintaError as e:
        return Outcome(str(job.src), "failed", reason=str(e))
    except OSError as e:  # the machine refused: a full disk, no permission
        return Outcome(str(job.src), "failed", reason=os_error_line(e))
    except Exception as e:  # one bad file never stops the batch
        return Outcome(str(job.src), "failed", reason=f"{e.__class__.__name__}: {e}")


def in_process(colorizer, options: Options) -> Callable[[list[Job]], Iterator[Outcome]]:
    """The work of :func:`run_jobs` done here, one input after the other."""
    return lambda jobs: (run_one(colorizer, job, options) for job in jobs)


def run_jobs(jobs: list[Job], inputs: set[Path], options: Options, work: Callable[[list[Job]], Iterable[Outcome]],
             progress=lambda outcomes, total: outcomes, result: Result | None = None) -> Result:
    """The batch: every job is checked against the inputs of the whole run (a refusal is its failure), the
    rest go to ``work`` (:func:`in_process`, or tinta.distributed's Ray workers), which yields one
    :class:`Outcome` per job in any order; ``progress(outcomes, total)`` may wrap them in a progress bar.
    The outcomes are added to ``result`` (default: a new :class:`Result`), which is returned."""
    result, todo = Result() if result is None else result, []
    for job in jobs:
        why = refusal(job, inputs, options.shard)
        if why:
            result.add(Outcome(str(job.src), "failed", reason=why))
        else:
            todo.append(job)
    for outcome in progress(work(todo), len(todo)):
        result.add(outcome)
    return result


def summary_dict(result: Result, model: str, shard: tuple[int, int], problems: list[tuple[str, str]]) -> dict:
    failures = [{"input": s, "reason": r} for s, r in problems + result.failed]
    return {"model": model, "shard": f"{shard[0]}/{shard[1]}", "done": len(result.done), "skipped": len(result.skipped),
            "failed": len(failures), "partial": len(result.partial), "failures": failures, "notes": result.notes}


def merge_shard_summaries(out_dir: Path, summary: dict, i: int, n: int) -> dict | None:
    """Write this shard's summary into OUTDIR; the shard that completes the set writes the
    merged ``tinta-summary.json`` and returns it."""
    write_json(out_dir / f"tinta-summary.shard-{i}-of-{n}.json", summary)
    parts = [out_dir / f"tinta-summary.shard-{k}-of-{n}.json" for k in range(n)]
    if not all(p.exists() for p in parts):
        return None
    loaded = [read_json(p) for p in parts]
    merged = {"model": summary["model"], "shards": n,
              **{k: sum(x.get(k, 0) for x in loaded) for k in ("done", "skipped", "failed", "partial")},
              "failures": [f for x in loaded for f in x["failures"]], "notes": [m for x in loaded for m in x["notes"]]}
    write_json(out_dir / "tinta-summary.json", merged)
    return merged
