"""The recipe tournament's table (docs/colour-tournament.md) from the three `tinta compare` reports that
`bash scripts/tournament.sh compare` writes: one row per recipe, per validation set PSNR (and its gain over
grey), per-image CF gap, judge agreement, Imagenette judge top-1, FD (and its ratio to grey's). Several
``--prefix`` give the rows of several comparisons on the same sets (reports/PREFIX-imagenette/ ...), each
run once (the first report that has it).

    python scripts/tournament_table.py [--reports reports] [--prefix tournament r2-rows] [--names t-control=control]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SETS = (("imagenette", "Imagenette val"), ("photos-mix", "photos-mix val"), ("photos-more", "photos-more val"))


def cells(m: dict, grey: dict, with_top1: bool) -> list[str]:
    out = [f"{m['psnr']:.2f} ({m['psnr'] - grey['psnr']:+.2f})", f"{m['cf_abs_diff']:.1f}",
           f"{100 * m['agree']:.1f}"]
    if with_top1:
        out.append(f"{100 * m['judge_top1']:.1f}")
    out.append(f"{m['fd']:.2f} ({m['fd'] / grey['fd']:.2f}x)" if "fd" in m else "-")
    return out


def merged(reports: list[dict]) -> dict:
    """The rows of several comparisons on one set as one report (a run named twice: its first row)."""
    rows, seen = [], set()
    for rep in reports:
        for r in rep["rows"]:
            if r["name"] not in seen:
                rows.append(r)
                seen.add(r["name"])
    return {**reports[0], "rows": rows}


def table(report: dict, title: str, names: dict[str, str]) -> list[str]:
    rows = report["rows"]
    grey, gt = rows[0]["grey"], rows[0]["gt"]
    top1 = "judge_top1" in rows[0]["metrics"]
    head = ["recipe", "PSNR dB (vs grey)", "CF gap", "agree %"] + (["top-1 %"] if top1 else []) + ["FD (x grey)",
                                                                                                   "ms/img 224"]
    lines = [f"**{title}** ({rows[0]['images']} images; ground-truth CF {gt['colourfulness']:.1f})", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append("| " + " | ".join([names.get(r["name"], r["name"]), *cells(r["metrics"], grey, top1),
                                        f"{r['ms_per_image_224']:.1f}"]) + " |")
    g = [f"{grey['psnr']:.2f}", f"{grey['cf_abs_diff']:.1f}", f"{100 * grey['agree']:.1f}"]
    g += [f"{100 * grey['judge_top1']:.1f}"] if top1 else []
    lines.append("| grey | " + " | ".join([*g, f"{grey['fd']:.2f} (1.00x)", ""]) + " |")
    t = ["", "0.0", "100"] + ([f"{100 * gt['judge_top1']:.1f}"] if top1 else [])
    lines.append("| ground truth | " + " | ".join([*t, "0.00", ""]) + " |")
    return lines


def compact(found: list[tuple[dict, str]], names: dict[str, str]) -> list[str]:
    """One row per recipe, per set: PSNR gain over grey / CF gap / agreement % / FD as a multiple of grey's."""
    reports = [rep for rep, _ in found]
    head = ["recipe"] + [f"{title}: dB vs grey / CF gap / agree % / FD x grey" for _, title in found]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, row in enumerate(reports[0]["rows"]):
        cells = []
        for rep in reports:
            m, g = rep["rows"][i]["metrics"], rep["rows"][0]["grey"]
            cells.append(f"{m['psnr'] - g['psnr']:+.2f} / {m['cf_abs_diff']:.1f} / {100 * m['agree']:.1f} / "
                         f"{m['fd'] / g['fd']:.2f}")
        lines.append("| " + " | ".join([names.get(row["name"], row["name"]), *cells]) + " |")
    greys = [f"0 / {r['rows'][0]['grey']['cf_abs_diff']:.1f} / {100 * r['rows'][0]['grey']['agree']:.1f} / 1.00"
             for r in reports]
    return lines + ["| grey | " + " | ".join(greys) + " |"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reports", default="reports")
    ap.add_argument("--names", nargs="*", default=[], help="RUN=LABEL: a row's label instead of its run name")
    ap.add_argument("--compact", action="store_true", help="one table, the three sets side by side")
    ap.add_argument("--prefix", nargs="+", default=["tournament"], help="the comparisons' folder prefixes")
    args = ap.parse_args()
    names = dict(n.split("=", 1) for n in args.names)
    found = []
    for key, title in SETS:
        paths = [Path(args.reports) / f"{prefix}-{key}" / "report.json" for prefix in args.prefix]
        if reports := [json.loads(p.read_text()) for p in paths if p.exists()]:
            found.append((merged(reports), title))
    if args.compact:
        print("\n".join(compact(found, names)))
        return
    out = []
    for rep, title in found:
        out += table(rep, title, names) + [""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
