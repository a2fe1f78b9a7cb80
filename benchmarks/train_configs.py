"""Training throughput of the U-Net at 112 px under different settings, side by side in one run.

Each configuration trains `unet` (ImageNet EfficientNet-Lite0 encoder) for two epochs on the
same Imagenette images: epoch 1 with the encoder frozen, epoch 2 unfrozen (the phase the long
runs spend most of their time in). images/second of each epoch comes from the run's
metrics.csv; the ratio column is against the first (current default) configuration.

    python benchmarks/train_configs.py --data-root ../shared/data/imagenette2-224.tar.gz [--images 640]
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

CONFIGS = {
    "batch 32 (default)": [],
    "batch 32, channels-last": ["--channels-last"],
    "batch 64": ["--batch-size", "64"],
    "batch 32, bf16 autocast": ["--amp", "bf16"],
}


def run(extra: list[str], args, out: Path) -> list[float]:
    cmd = [sys.executable, "-m", "tinta", "train", "--model", "unet", "--dataset", "folder", "--data-root",
           args.data_root, "--size", "112", "--epochs", "2", "--freeze-epochs", "1", "--batch-size", "32",
           "--max-train", str(args.images), "--max-val", "32", "--threads", str(args.threads), "--out", str(out),
           *extra]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(out / "metrics.csv") as f:
        return [float(r["images_per_second"]) for r in csv.DictReader(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default="../shared/data/imagenette2-224.tar.gz")
    ap.add_argument("--images", type=int, default=640)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    rows = {name: run(extra, args, tmp / str(i)) for i, (name, extra) in enumerate(CONFIGS.items())}
    base = rows["batch 32 (default)"]
    print(f"training throughput, unet at 112 px on {args.images} Imagenette images; {platform.machine()} CPU, "
          f"{os.cpu_count()} cores, {args.threads} threads, load average at the end {os.getloadavg()[0]:.2f}")
    print(f"{'configuration':<28}{'frozen img/s':>14}{'ratio':>8}{'unfrozen img/s':>16}{'ratio':>8}")
    for name, (frozen, unfrozen) in rows.items():
        print(f"{name:<28}{frozen:>14.1f}{frozen / base[0]:>7.2f}x{unfrozen:>16.1f}{unfrozen / base[1]:>7.2f}x")


if __name__ == "__main__":
    main()
