"""Training throughput of the U-Net at 112 px, today's settings against the settings before, side by side.

Each configuration trains `unet` with the joint head (ab regression + ab bins, the recipe of the shipped
`default`) for two epochs on the same Imagenette images: epoch 1 with the encoder frozen, epoch 2
unfrozen (the phase long runs spend most of their time in). images/second of each epoch comes from the
run's metrics.csv; the ratio columns are against the first row.

The first row is the training code and defaults before the speed work, reproduced in this run: the
exact nearest-bin search for the soft-encoded bin targets (``soft_encode``, swapped back in for the
table lookup), Adam's per-tensor loop instead of the fused step, contiguous (not channels-last)
tensors, and the bins' loss at the model's output size (``--bins-stride 2``). Each configuration runs in
its own process, one after the other; the rounds alternate their order and each figure is the median
over rounds, so a load that comes and goes touches all of them.

    python benchmarks/train_configs.py --data-root ../shared/data/imagenette2-224.tar.gz [--images 640]
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

BEFORE = "before: exact bin search, per-tensor Adam, contiguous, fp32"
CONFIGS = {
    BEFORE: ["--no-channels-last", "--bins-stride", "2", "--amp", "off"],
    "now (default: + pooled bins, bf16 while frozen)": [],
    "now, full precision (--amp off)": ["--amp", "off"],
    "now, bins at the output size (--bins-stride 2)": ["--bins-stride", "2"],
    "now + bf16 throughout": ["--amp", "bf16"],
    "now + batch 64": ["--batch-size", "64"],
}


def run_before(argv: list[str]) -> None:
    """``tinta train`` with the code paths of before swapped back in (the first row)."""
    import torch

    import tinta.heads.bins as bins
    from tinta.cli import main

    bins.soft_encode_fast = bins.soft_encode  # the exact search: cdist to every bin, then top-k
    fused_adamw = torch.optim.AdamW
    torch.optim.AdamW = lambda *a, fused=False, **kw: fused_adamw(*a, foreach=False, **kw)  # per-tensor loop
    main(["train", *argv])


def run(name: str, extra: list[str], args, out: Path) -> list[float]:
    train = ["--model", "unet", "--head", "joint", "--dataset", "folder", "--data-root", args.data_root,
             "--size", "112", "--epochs", "2", "--freeze-epochs", "1", "--batch-size", "32",
             "--max-train", str(args.images), "--max-val", "32", "--threads", str(args.threads), "--out", str(out),
             *extra]
    cmd = ([sys.executable, __file__, "--before", *train] if name == BEFORE
           else [sys.executable, "-m", "tinta", "train", *train])
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out / "metrics.csv") as f:
        return [float(r["images_per_second"]) for r in csv.DictReader(f)]


def main() -> None:
    if sys.argv[1:2] == ["--before"]:
        return run_before(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default="../shared/data/imagenette2-224.tar.gz")
    ap.add_argument("--images", type=int, default=640)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    results: dict[str, list[list[float]]] = {name: [] for name in CONFIGS}
    for r in range(args.rounds):
        order = list(CONFIGS.items()) if r % 2 == 0 else list(reversed(CONFIGS.items()))
        for name, extra in order:
            results[name].append(run(name, extra, args, tmp / f"{r}-{len(results[name])}-{hash(name) & 0xffff}"))
    rows = {name: [statistics.median(x[i] for x in runs) for i in (0, 1)] for name, runs in results.items()}
    base = rows[BEFORE]
    print(f"training throughput, unet + joint head at 112 px on {args.images} Imagenette images, batch 32 unless "
          f"said; {platform.machine()} CPU, {os.cpu_count()} cores, {args.threads} threads, median of "
          f"{args.rounds} rounds, load average at the end {os.getloadavg()[0]:.2f}")
    print(f"{'configuration':<54}{'frozen img/s':>13}{'ratio':>8}{'unfrozen img/s':>16}{'ratio':>8}")
    for name, (frozen, unfrozen) in rows.items():
        print(f"{name:<54}{frozen:>13.1f}{frozen / base[0]:>7.2f}x{unfrozen:>16.1f}{unfrozen / base[1]:>7.2f}x")


if __name__ == "__main__":
    main()
