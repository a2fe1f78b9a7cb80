"""Choose a run's decoding on its training hold-out (never on a validation set that is reported).

For each value of one head option (e.g. the chroma head's ``mix``, the joint head's ``blend``), the run's
hold-out (the same 3% of each training source that `tinta train` held out, at most --max-val images) is
colourized and scored: PSNR, colourfulness (CF), mean per-image CF gap, and the judge's agreement with its
class on the original. ``--set KEY=VALUE`` then writes that value into the run's head (config.json; and the
head.json of a run written before the head moved there).

    python scripts/holdout_decodings.py runs/t-chroma --vary mix=0,0.25,0.5,0.75,1 [--max-val 512]
    python scripts/holdout_decodings.py runs/shipped-default --vary blend=1 --holdout-of runs/t-chroma
    python scripts/holdout_decodings.py runs/t-chroma --set mix=0.75
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

import torch

from tinta import color
from tinta.errors import TintaError
from tinta.evaluate.judge import Judge, agreement
from tinta.evaluate.metrics import colourfulness, psnr
from tinta.files import write_json
from tinta.inference import set_native_output, upsample_ab
from tinta.runs import RunInfo, load_run
from tinta.train.batches import Batches, model_inputs
from tinta.train.config import TrainConfig
from tinta.train.loop import load_train_val


def holdout(run: str, max_val: int) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
    """(Lab batches, L, original uint8 sRGB) of the training hold-out of ``run`` (at most ``max_val`` images)."""
    info = RunInfo.read(run)
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    cfg = TrainConfig(**{**{k: v for k, v in info.train.items() if k in fields}, "max_val": max_val,
                         "data_root": tuple(info.roots), "classes": tuple(info.train.get("classes") or ())})
    _, val = load_train_val(cfg)
    batches, labs, gts = Batches(val, torch.device("cpu")), [], []
    for idx in torch.arange(len(val)).split(64):
        rgb8, lab = batches.fetch(idx)
        labs.append(lab)
        gts.append(rgb8)
    return labs, torch.cat([lab[:, :1] for lab in labs]), torch.cat(gts)


@torch.no_grad()
def outputs(model, head, labs: list[torch.Tensor]) -> torch.Tensor:
    """The model's raw outputs on the hold-out's Lab batches (as the head decodes them: native size)."""
    set_native_output(model, head)
    return torch.cat([model(*model_inputs(model, lab)) for lab in labs])


def holdout_outputs(run: str, max_val: int, holdout_of: str | None = None) -> tuple[torch.Tensor, ...]:
    """(model outputs, L, original uint8 sRGB) of the training hold-out of ``holdout_of`` (default: the run's)."""
    model, head, _ = load_run(run)
    labs, L, gt = holdout(holdout_of or run, max_val)
    return outputs(model, head, labs), L, gt


def score(head, out, L, gt, judge: Judge, ref: torch.Tensor) -> dict[str, float]:
    rgb = color.rgb_to_uint8(upsample_ab(head.predict(out, head.main), L))
    cf, cf_gt = colourfulness(rgb.float()), colourfulness(gt.float())
    return {"psnr": float(psnr(rgb.float(), gt.float()).mean()), "cf": float(cf.mean()),
            "cf_gap": float((cf - cf_gt).abs().mean()), "agree": 100 * agreement(judge.predict(rgb), ref)}


def judge_and_grey(L: torch.Tensor, gt: torch.Tensor) -> tuple[Judge, torch.Tensor, dict[str, float]]:
    """The judge, its classes on the originals, and grey's PSNR and agreement on the same photos."""
    judge = Judge(cache=Path(os.environ.get("TINTA_CACHE", Path.home() / ".cache/tinta")) / "judge")
    ref = judge.predict(gt)
    grey = color.rgb_to_uint8(color.lab_to_rgb(color.join_lab(L, torch.zeros(len(L), 2, *L.shape[-2:]))))
    return judge, ref, {"psnr": float(psnr(grey.float(), gt.float()).mean()),
                        "agree": 100 * agreement(judge.predict(grey), ref)}


def vary(run: str, key: str, values: list[float], max_val: int, holdout_of: str | None = None,
         json_out: str | None = None) -> None:
    _, head, _ = load_run(run)
    out, L, gt = holdout_outputs(run, max_val, holdout_of)
    judge, ref, g = judge_and_grey(L, gt)
    print(f"{run}: training hold-out of {holdout_of or run}, {len(gt)} images; "
          f"grey PSNR {g['psnr']:.2f} dB, agreement {g['agree']:.1f}%")
    print(f"| {key} | PSNR dB | CF | CF gap | agree % |\n|---|---|---|---|---|")
    rows = []
    for v in values:
        s = score(head.with_options({key: v}), out, L, gt, judge, ref)
        rows.append({key: v, **s})
        print(f"| {v:g} | {s['psnr']:.2f} | {s['cf']:.1f} | {s['cf_gap']:.1f} | {s['agree']:.1f} |", flush=True)
    if json_out:
        write_json(json_out, {"run": run, "holdout_of": holdout_of or run, "images": len(gt), "grey": g, "rows": rows})


def set_option(run: str, key: str, value: float) -> None:
    info = RunInfo.read(run)
    try:
        head = info.head.with_options({key: value})
    except TintaError as e:
        raise SystemExit(str(e)) from None
    dataclasses.replace(info, head=head).write(run)
    if (Path(run) / "head.json").is_file():
        write_json(Path(run) / "head.json", head.to_dict())
    print(f"{run}: {key} = {value:g}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--vary", help="KEY=V1,V2,... : a head option and the values to score")
    p.add_argument("--set", help="KEY=VALUE : write this value into the run's head")
    p.add_argument("--max-val", type=int, default=512)
    p.add_argument("--holdout-of", help="another run whose training hold-out to use (to compare runs on one set)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", help="also write --vary's scores (and grey's) to this JSON file")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.vary:
        key, values = a.vary.split("=")
        vary(a.run, key, [float(v) for v in values.split(",")], a.max_val, a.holdout_of, a.json)
    if a.set:
        key, value = a.set.split("=")
        set_option(a.run, key, float(value))


if __name__ == "__main__":
    main()
