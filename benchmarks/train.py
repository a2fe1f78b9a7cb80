"""Training throughput, 1 process vs N processes (DDP, gloo on CPU), side by side in one run.

Each configuration trains the same model for one epoch on the same images with the same
global batch; images/second comes from the run's metrics.csv. On a CPU the processes share
the cores, so the comparison is 1 process x T threads against N processes x T/N threads.

    python benchmarks/train.py --data-root ../shared/data/cifar10-jpeg.tar.gz [--nproc 2]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path


def run(nproc: int, threads: int, args, out: Path) -> float:
    cmd = [sys.executable, "-m", "tinta", "train", "--model", args.model, "--dataset", "cifar10",
           "--data-root", args.data_root, "--classes", "horse", "--epochs", "1", "--batch-size", "32",
           "--max-train", str(args.images), "--max-val", "64", "--threads", str(threads), "--out", str(out),
           "--nproc", str(nproc)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out / "metrics.csv") as f:
        return float(next(csv.DictReader(f))["images_per_second"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default="../shared/data/cifar10-jpeg.tar.gz")
    ap.add_argument("--model", default="small-unet")
    ap.add_argument("--images", type=int, default=2048)
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="total CPU threads")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    one = run(1, args.threads, args, tmp / "one")
    many = run(args.nproc, max(1, args.threads // args.nproc), args, tmp / "many")
    print(f"training throughput, {args.model} on {args.images} CIFAR-10 horse images, global batch 32; "
          f"{platform.machine()} CPU, {os.cpu_count()} cores")
    print(f"{'configuration':<34}{'images/s':>10}")
    print(f"{f'1 process x {args.threads} threads':<34}{one:>10.1f}")
    print(f"{f'{args.nproc} processes x {max(1, args.threads // args.nproc)} threads (DDP)':<34}{many:>10.1f}")
    print(f"ratio {args.nproc} processes / 1 process: {many / one:.2f}x")


if __name__ == "__main__":
    main()
