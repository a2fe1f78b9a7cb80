"""Register `vivid` as the shipped `default` network decoded at a stronger chroma mix (``bash scripts/vivid.sh
ship``): no weights of its own; a model card with its validation reports (``eval-val-*.json`` that `tinta
compare` wrote into the run folder that carries the mix).

    python scripts/register_vivid.py --mix 2 --reports runs/vivid-mix
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from package_weights import metrics_section  # noqa: E402

from tinta.pretrained import register_decoding, registry  # noqa: E402

REPORTS = ("eval-val-photos-mix", "eval-val-imagenette2-224", "eval-val-photos-more")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mix", type=float, required=True, help="the chroma head's mix, chosen on the hold-out")
    ap.add_argument("--reports", type=Path, required=True, help="the run folder holding the eval-val reports")
    a = ap.parse_args()
    reports = [json.loads((a.reports / f"{r}.json").read_text()) for r in REPORTS]
    if any(r["head"].get("mix") != a.mix for r in reports):
        raise SystemExit(f"{a.reports}: its reports were not scored at mix {a.mix:g}")
    base = registry()["default"]
    description = (f"the `default` network decoded at chroma mix {a.mix:g} (the colour's length: 0 the joint head's "
                   "own, 1 the chroma channel's, as `default`): more colour, less sure of it")
    lines = [f"# `vivid`: {description}", "",
             f"- network: `default`'s ({base.file}, the same weights; its card: default.md), head `chroma` decoded "
             f"at mix {a.mix:g} instead of 1",
             "- the mix: of 0, 0.5, 1, 1.5, 2 and 3, the one with the lowest CF gap on the 512 training hold-out "
             "photos whose judge agreement there is at least mix 1's, with PSNR 0.5 dB over grey's "
             "(`bash scripts/vivid.sh choose`)",
             "- command: `bash scripts/vivid.sh choose compare ship`", ""]
    for r in reports:
        lines += metrics_section(r)
    main_row = reports[0]["results"][reports[0]["main_decoding"]]
    metrics = {k: round(v, 4) for k, v in main_row.items()} | {"split": "val", "images": reports[0]["images"]}
    entry = register_decoding("vivid", "default", {"mix": a.mix}, description, "\n".join(lines) + "\n", metrics)
    print(f"vivid: {entry.file} at mix {entry.head.mix:g}")


if __name__ == "__main__":
    main()
