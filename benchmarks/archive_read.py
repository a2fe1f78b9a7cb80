"""First (uncached) read of a data-set archive: list and read every member with tinta's tar reader.

This is the cost the decode-once cache pays once per archive; later loads read the cache.

    python benchmarks/archive_read.py [--data-root ../shared/data/cifar10-jpeg.tar.gz] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from tinta.data.archive import iter_tar


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-root", default="../shared/data/cifar10-jpeg.tar.gz")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    times, members, size = [], 0, 0
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        members, size = 0, 0
        for _, data in iter_tar(Path(args.data_root)):
            members += 1
            size += len(data or b"")
        times.append(time.perf_counter() - t0)
    print(f"{args.data_root}: {members:,} members, {size / 1e6:.1f} MB read; {platform.machine()} CPU, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"list + read every member: median {sorted(times)[len(times) // 2]:.2f} s over {args.repeats} runs "
          f"(min {min(times):.2f}, max {max(times):.2f})")


if __name__ == "__main__":
    main()
