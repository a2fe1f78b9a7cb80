"""Print the Seed 1 table of docs/reports/seeds.md from evaluated palette runs.

    tinta evaluate --run runs/seed1-seed-cnn --split test
    tinta evaluate --run runs/seed1-small-unet --split test
    python scripts/seed1_table.py runs/seed1-seed-cnn runs/seed1-small-unet
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path


def main(runs: list[str]) -> None:
    print("| model | pixel accuracy | PSNR palette decoding (dB) | PSNR chroma decoding (dB) | "
          "colourfulness (chroma) | epochs | s/epoch (median) | parameters |")
    print("|---|---|---|---|---|---|---|---|")
    for run in runs:
        r = json.loads((Path(run) / "eval-test.json").read_text())
        res = r["results"]
        with open(Path(run) / "metrics.csv") as f:
            rows = list(csv.DictReader(f))
        secs = statistics.median(float(x["epoch_seconds"]) for x in rows)
        print(f"| {r['model']} | {100 * res['palette']['accuracy']:.1f}% | {res['palette']['psnr']:.2f} | "
              f"{res['chroma']['psnr']:.2f} | {res['chroma']['colourfulness']:.1f} | {len(rows)} | {secs:.1f} | "
              f"{r['parameters'] / 1e6:.2f}M |")
    res = json.loads((Path(runs[0]) / "eval-test.json").read_text())["results"]
    q = res["quantized-gt"]
    print(f"| ground truth quantized to the palette (ceiling) | 100% | {q['psnr']:.2f} | - | "
          f"{q['colourfulness']:.1f} | | | |")
    print(f"| grey output (floor) | - | {res['grey']['psnr']:.2f} | {res['grey']['psnr']:.2f} | 0.0 | | | |")
    print(f"\nGround-truth colourfulness {res['gt']['colourfulness']:.1f}; "
          f"{json.loads((Path(runs[0]) / 'eval-test.json').read_text())['images']} test images.")


if __name__ == "__main__":
    main(sys.argv[1:])
