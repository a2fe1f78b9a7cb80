"""Keep a run's best weights in the repository between sessions, small: fp16 safetensors beside its
config.json (and an older run's head.json), in a folder that `tinta train --init-from` and
`tinta compare` read like a run.

    python scripts/keep_run.py runs/t-control kept/t-control
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tinta.runs import load_run, save_weights


def main(run: str, out: str) -> None:
    model, _, info = load_run(run)
    dest = Path(out)
    dest.mkdir(parents=True, exist_ok=True)
    save_weights(model, dest / "best.safetensors", half=True, metadata={"run": Path(run).name,
                                                                        "architecture": info.architecture})
    for name in ("config.json", "head.json", "metrics.csv"):
        if (Path(run) / name).is_file():
            shutil.copyfile(Path(run) / name, dest / name)
    print(f"kept {run} -> {dest} ({(dest / 'best.safetensors').stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(*sys.argv[1:3])
