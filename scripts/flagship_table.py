"""The side-by-side table of the default-model comparison (README.md "Results", docs/reports/models.md):
both validation sets in one table.

    python scripts/flagship_table.py reports/flagship-imagenette reports/flagship-photos

Reads each folder's report.json (written by `tinta compare`); one row per model, then grey output
and the ground truth; for each set PSNR, colourfulness (CF), mean per-image |CF - CF_gt|, the
judge's agreement with its own top-1 on the original, and its top-1 where ImageNet labels exist.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def cells(m: dict, labels: bool) -> list[str]:
    out = [f"{m['psnr']:.2f}", f"{m['colourfulness']:.1f}", f"{m['cf_abs_diff']:.1f}", f"{100 * m['agree']:.1f}"]
    return out + ([f"{100 * m['judge_top1']:.1f}"] if labels else [])


def main(folders: list[str]) -> None:
    reports = [json.loads((Path(f) / "report.json").read_text()) for f in folders]
    labels = ["judge_top1" in r["rows"][0]["metrics"] for r in reports]
    head = ["model"]
    for folder, r, lab in zip(folders, reports, labels):
        head += [f"{Path(folder).name} ({r['rows'][0]['images']}): PSNR", "CF", "CF gap", "agree %"] + (
            ["top-1 %"] if lab else [])
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    names = [row["name"] for row in reports[0]["rows"]]
    for name in names:
        row = [name]
        for r, lab in zip(reports, labels):
            m = next((x for x in r["rows"] if x["name"] == name), None)
            row += cells(m["metrics"], lab) if m else ["-"] * (4 + lab)
        print("| " + " | ".join(row) + " |")
    grey, gt = ["grey (floor)"], ["ground truth"]
    for r, lab in zip(reports, labels):
        g, t = r["rows"][0]["grey"], r["rows"][0]["gt"]
        grey += [f"{g['psnr']:.2f}", "0.0", f"{g['cf_abs_diff']:.1f}", f"{100 * g['agree']:.1f}"] + (
            [f"{100 * g['judge_top1']:.1f}"] if lab else [])
        gt += ["", f"{t['colourfulness']:.1f}", "0.0", "100.0"] + ([f"{100 * t['judge_top1']:.1f}"] if lab else [])
    print("| " + " | ".join(grey) + " |")
    print("| " + " | ".join(gt) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
