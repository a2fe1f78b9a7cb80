"""``tinta colorize`` here against ``tinta colorize --ray`` on the same machine, side by side in one run.

Each configuration colourizes the first N pictures of Imagenette val (224 px JPEGs) with a shipped
model, as a fresh ``tinta colorize`` process, ``--repeats`` times (the median is printed): its wall
clock (start, model load, every picture read, colourized and written), the time to its first output,
and its steady rate, from the outputs' modification times (the pictures after the first 10%, so the
start does not count). The Ray clusters are started before the command; their start is timed on its
own line. The overhead per Ray task is the difference of the time per picture (steady rates, same
number of workers) times the pictures per task.

    python benchmarks/ray_colorize.py --data ../shared/data/imagenette2-224.tar.gz [--n 200] [--model default]
    python benchmarks/ray_colorize.py --plan-files 100000   # the driver's share: planning, dataset rows

``--plan-files N`` measures only what grows with the archive on the driver: planning N empty ``.jpg`` files
(listing, names, the guard) and the size of the dataset rows, the numbers docs/ray.md scales to 10 million.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src"), "RAY_AUTH_MODE": "disabled"}
STORE = 200 << 20  # object store per node: it holds paths and outcomes, never pictures


def extract(archive: Path, n: int, folder: Path) -> Path:
    """The first ``n`` JPEGs under ``val/`` of the Imagenette archive, into ``folder``."""
    folder.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        got = 0
        for m in tar:
            if m.isfile() and "/val/" in "/" + m.name and m.name.endswith(".JPEG"):
                (folder / f"{got:05d}.jpg").write_bytes(tar.extractfile(m).read())
                got += 1
                if got == n:
                    return folder
    raise SystemExit(f"{archive}: only {got} val JPEGs, need {n}")


def colorize(src: Path, out: Path, model: str, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "tinta", "colorize", str(src), "-o", str(out), "--model", model, *extra]
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def timed(out: Path, *procs: subprocess.Popen) -> tuple[float, float, float]:
    """(wall s, s to the first output, steady pictures/s) of the ``tinta colorize`` processes writing ``out``."""
    t0 = time.time()
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"tinta colorize failed:\n{err[-2000:]}")
    wall = time.time() - t0
    stamps = sorted(f.stat().st_mtime for f in out.rglob("*.jpg"))
    m = len(stamps) // 10
    return wall, stamps[0] - t0, (len(stamps) - 1 - m) / (stamps[-1] - stamps[m])


def cluster(cpus: list[int]):
    """A Ray cluster on this machine: one node per entry of ``cpus`` (its CPU count); -> (cluster, seconds)."""
    from ray.cluster_utils import Cluster

    os.environ.update(ENV)
    t0 = time.perf_counter()
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus[0], "object_store_memory": STORE,
                                                      "include_dashboard": False})
    for k in cpus[1:]:
        c.add_node(num_cpus=k, object_store_memory=STORE)
    c.wait_for_nodes()
    return c, time.perf_counter() - t0


def measure(run, src: Path, work: Path, repeats: int) -> tuple[float, float, float]:
    """Medians of ``run(src, out)`` -> (wall, first output, steady rate) over ``repeats`` runs."""
    got = []
    for _ in range(repeats):
        out = work / "out"
        got.append(run(src, out))
        shutil.rmtree(out)
    return tuple(statistics.median(x[i] for x in got) for i in range(3))


def plan_cost(n: int) -> None:
    """Seconds to plan ``n`` files on the driver (collect, names, guard) and bytes of dataset rows per input."""
    from tinta import batch
    from tinta.distributed import RayOptions, _chunks

    work = Path(tempfile.mkdtemp(prefix="tinta-plan-bench-"))
    for i in range(n):
        d = work / "in" / f"{i // 1000:04d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{i:07d}.jpg").touch()
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    plan = batch.plan([str(work / "in")], work / "out")
    inputs = {j.src for j in plan.jobs}
    refused = [j for j in plan.jobs if batch.refusal(j, inputs)]
    t1, cpu = time.perf_counter(), time.process_time() - c0
    rows = _chunks(plan.jobs, RayOptions.chunk)
    t2 = time.perf_counter()
    size = sum(len(r["jobs"]) for r in rows)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) * 1024  # bytes
    shutil.rmtree(work)
    print(f"driver, {n} files in {n // 1000} folders under {work}; {platform.machine()} CPU, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"plan + guard: {t1 - t0:.2f} s wall, {cpu:.2f} s CPU ({1e6 * cpu / n:.0f} us CPU per input; "
          f"{len(refused)} refused); "
          f"dataset rows: {t2 - t1:.2f} s, {size / n:.0f} bytes per input in {len(rows)} rows of {RayOptions.chunk}; "
          f"driver memory (peak RSS growth) {grown / n:.0f} bytes per input")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="imagenette2-224.tar.gz")
    ap.add_argument("--n", type=int, default=200, help="pictures per run")
    ap.add_argument("--repeats", type=int, default=3, help="runs per configuration (the median is printed)")
    ap.add_argument("--model", default="default")
    ap.add_argument("--two-threads", action="store_true",
                    help="also 1 process x 2 threads (on a busy machine its threads spin-wait: far slower)")
    ap.add_argument("--plan-files", type=int, default=None, help="measure only the driver's planning of N files")
    a = ap.parse_args()
    if a.plan_files:
        return plan_cost(a.plan_files)
    if not a.data:
        ap.error("--data is required (or --plan-files N)")
    from tinta.distributed import RayOptions

    work = Path(tempfile.mkdtemp(prefix="tinta-ray-bench-"))
    print(f"tinta colorize --model {a.model}, the first {a.n} Imagenette val JPEGs (224 px), median of {a.repeats} "
          f"runs; {platform.machine()} CPU, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the start")
    print(f"{'configuration':48s} {'wall s':>7s} {'images/s':>9s} {'first s':>8s} {'steady images/s':>16s}", flush=True)
    try:
        rows, starts = run_all(a, work)
    finally:
        shutil.rmtree(work)
    report(rows, starts, RayOptions.chunk)


def run_all(a, work: Path) -> tuple[dict, dict]:
    """Every configuration, each row printed as soon as it is measured."""
    src = extract(Path(a.data), a.n, work / "in")
    rows, starts = {}, {}

    def row(label, run):
        rows[label] = wall, first, rate = measure(run, src, work, a.repeats)
        print(f"{label:48s} {wall:7.1f} {a.n / wall:9.1f} {first:8.1f} {rate:16.1f}", flush=True)

    if a.two_threads:
        row(HERE1, lambda s, o: timed(o, colorize(s, o, a.model, "--threads", "2")))
    row(HERE2, lambda s, o: timed(o, *[colorize(s, o, a.model, "--threads", "1", "--shard", f"{i}/2")
                                       for i in range(2)]))
    for label, cpus in ((RAY1, [2]), (RAY2, [1, 1])):
        c, starts[label] = cluster(cpus)
        try:
            extra = ("--ray", c.address, "--threads", "1")
            row(label, lambda s, o, extra=extra: timed(o, colorize(s, o, a.model, *extra)))
        finally:
            c.shutdown()
    return rows, starts


HERE1, HERE2 = "here: 1 process x 2 threads", "here: 2 processes x 1 thread (--shard)"
RAY1, RAY2 = "Ray: 1 node x 2 CPUs, 2 workers x 1 thread", "Ray: 2 nodes x 1 CPU each, 2 workers x 1 thread"


def report(rows: dict[str, tuple], starts: dict[str, float], chunk: int) -> None:
    for label, s in starts.items():
        print(f"cluster start, {label[5:label.index(',')]}: {s:.1f} s (before the command; not in the rows)")
    for label in starts:
        wall, _, rate = rows[label]
        per_task = 1000 * chunk * 2 * (1 / rate - 1 / rows[HERE2][2])  # 2 workers
        print(f"{label[:label.index(',')]} / {HERE2[6:]}: {rows[HERE2][0] / wall:.2f}x images/s whole command, "
              f"{rate / rows[HERE2][2]:.2f}x steady; overhead {per_task:.0f} ms per task of {chunk} pictures")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")

if __name__ == "__main__":
    main()
