"""A long run's curve: every kept epoch's weights scored on the run's training hold-out, beside the
run's own ``metrics.csv`` (training loss, hold-out loss and PSNR, speed).

Epoch weights are ``RUN/epochs/epoch-N.safetensors`` (``tinta train --keep-epochs``). The hold-out is the
one `tinta train` held out (never a validation set that is reported); ``--start`` scores the weights the
run started from on the same photos, as epoch 0.

    python scripts/epoch_curve.py runs/long-chroma --start kept/t-chroma-nogan [--max-val 512]

``--as-runs DIR`` lays each kept epoch out as a run folder ``DIR/epoch-N`` (the run's config.json, the epoch's
weights as best.safetensors) instead, so ``tinta compare`` scores every epoch on the validation sets.
"""

from __future__ import annotations

import argparse
import csv
import re
import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from holdout_decodings import holdout, judge_and_grey, outputs, score  # noqa: E402

from tinta.runs import load_run, load_weights  # noqa: E402


def epoch_weights(run: Path) -> list[tuple[int, Path]]:
    found = [(int(m.group(1)), f) for f in (run / "epochs").glob("epoch-*.safetensors")
             if (m := re.fullmatch(r"epoch-(\d+)\.safetensors", f.name))]
    if not found:
        raise SystemExit(f"{run}/epochs holds no epoch-N.safetensors (train with --keep-epochs)")
    return sorted(found)


def logged(run: Path) -> dict[int, dict[str, str]]:
    path = run / "metrics.csv"
    if not path.is_file():
        return {}
    with path.open() as f:
        return {int(r["epoch"]): r for r in csv.DictReader(f)}


def as_runs(run: Path, out: Path) -> None:
    for epoch, weights in epoch_weights(run):
        dest = out / f"epoch-{epoch}"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(run / "config.json", dest / "config.json")
        shutil.copyfile(weights, dest / "best.safetensors")
        print(dest)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run", type=Path)
    p.add_argument("--start", type=Path, help="the run folder (or kept weights) the run started from: epoch 0")
    p.add_argument("--max-val", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--as-runs", type=Path, help="lay the kept epochs out as run folders here, and stop")
    a = p.parse_args()
    if a.as_runs:
        return as_runs(a.run, a.as_runs)
    torch.set_num_threads(a.threads)
    model, head, _ = load_run(a.run)
    rows = [(0, a.start / "best.safetensors")] if a.start else []
    rows += epoch_weights(a.run)
    log = logged(a.run)
    labs, L, gt = holdout(str(a.run), a.max_val)
    judge, ref, g = judge_and_grey(L, gt)
    print(f"{a.run}: {len(gt)} photos of its training hold-out; the losses are metrics.csv's (the whole hold-out)")
    print("| epoch | train loss | hold-out loss | PSNR dB | CF | CF gap | agree % | images/s |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| grey | | | {g['psnr']:.2f} | 0 | | {g['agree']:.1f} | |")
    for epoch, weights in rows:
        load_weights(model, weights)
        s, m = score(head, outputs(model, head, labs), L, gt, judge, ref), log.get(epoch, {})
        cols = [f"{float(m[k]):.4f}" if k in m else "" for k in ("train_loss", "val_loss")]
        print(f"| {epoch} | {' | '.join(cols)} | {s['psnr']:.2f} | {s['cf']:.1f} | {s['cf_gap']:.1f} | "
              f"{s['agree']:.1f} | {m.get('images_per_second', '')} |", flush=True)


if __name__ == "__main__":
    main()
