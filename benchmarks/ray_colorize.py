"""``tinta colorize`` here against ``tinta colorize --ray`` on the same machine, side by side in one run.

Each configuration colourizes the first N and then 2N pictures of Imagenette val (224 px JPEGs) with a
shipped model, as a fresh ``tinta colorize`` process (wall clock: start, model load, every picture
read, colourized and written). The Ray clusters are started before the command and their start is
timed on its own line. From the two sizes: the cost of one more picture (marginal: the slope) and the
fixed cost of a run (the intercept); the overhead per Ray task is the difference of the slopes times
the pictures per task.

    python benchmarks/ray_colorize.py --data ../shared/data/imagenette2-224.tar.gz [--n 200] [--model default]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
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


def timed(*procs: subprocess.Popen) -> float:
    t0 = time.perf_counter()
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"tinta colorize failed:\n{err[-2000:]}")
    return time.perf_counter() - t0


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


def measure(run, sizes: dict[int, Path], work: Path, name: str) -> dict[int, float]:
    """Wall seconds of ``run(src, out)`` for each size (outputs removed between runs)."""
    walls = {}
    for n, src in sizes.items():
        out = work / f"out-{name}-{n}"
        walls[n] = run(src, out)
        shutil.rmtree(out)
    return walls


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="imagenette2-224.tar.gz")
    ap.add_argument("--n", type=int, default=200, help="pictures of the smaller run (the larger: twice as many)")
    ap.add_argument("--model", default="default")
    a = ap.parse_args()
    from tinta.distributed import RayOptions

    work = Path(tempfile.mkdtemp(prefix="tinta-ray-bench-"))
    big = extract(Path(a.data), 2 * a.n, work / f"in-{2 * a.n}")
    small = work / f"in-{a.n}"
    small.mkdir()
    for f in sorted(big.iterdir())[:a.n]:
        shutil.copyfile(f, small / f.name)
    sizes = {a.n: small, 2 * a.n: big}
    rows, starts = {}, {}
    rows["here: 1 process x 2 threads"] = measure(
        lambda s, o: timed(colorize(s, o, a.model, "--threads", "2")), sizes, work, "local1")
    rows["here: 2 processes x 1 thread (--shard)"] = measure(
        lambda s, o: timed(*[colorize(s, o, a.model, "--threads", "1", "--shard", f"{i}/2") for i in range(2)]),
        sizes, work, "local2")
    for label, cpus in (("Ray: 1 node x 2 CPUs, 2 workers x 1 thread", [2]),
                        ("Ray: 2 nodes x 1 CPU, 2 workers x 1 thread", [1, 1])):
        c, starts[label] = cluster(cpus)
        try:
            ray_args = ("--ray", c.address, "--threads", "1")
            rows[label] = measure(lambda s, o, extra=ray_args: timed(colorize(s, o, a.model, *extra)),
                                  sizes, work, f"ray{len(cpus)}")
        finally:
            c.shutdown()
    shutil.rmtree(work)
    report(rows, starts, a, RayOptions.chunk)


def report(rows: dict[str, dict[int, float]], starts: dict[str, float], a, chunk: int) -> None:
    n1, n2 = a.n, 2 * a.n
    load = os.getloadavg()[0]
    print(f"tinta colorize --model {a.model}, Imagenette val 224 px JPEGs ({n1} and {n2} pictures); "
          f"{platform.machine()} CPU, {os.cpu_count()} cores, load average {load:.1f} at the end")
    print(f"{'configuration':46s} {'wall s (' + str(n1) + ')':>12s} {'wall s (' + str(n2) + ')':>12s} "
          f"{'images/s':>9s} {'ms/image':>9s} {'fixed s':>8s}")
    slope = {}
    for label, w in rows.items():
        slope[label] = (w[n2] - w[n1]) / (n2 - n1)
        fixed = w[n1] - n1 * slope[label]
        print(f"{label:46s} {w[n1]:12.1f} {w[n2]:12.1f} {n2 / w[n2]:9.1f} {1000 * slope[label]:9.1f} {fixed:8.1f}")
    for label, s in starts.items():
        print(f"cluster start, {label[5:]}: {s:.1f} s (not in the rows)")
    here = "here: 2 processes x 1 thread (--shard)"
    for label in starts:
        print(f"{label[:-22]}: {rows[here][n2] / rows[label][n2]:.2f}x the images/s of {here[:-10]} ({n2} pictures); "
              f"overhead per task of {chunk} pictures {1000 * chunk * (slope[label] - slope[here]):.0f} ms")


if __name__ == "__main__":
    main()
