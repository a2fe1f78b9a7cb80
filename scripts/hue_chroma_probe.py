"""Where a model's colours lose the judge: its hue (direction of a,b) and its chroma (their length), each
swapped with the truth's, and its per-picture colour cast removed (docs/colour-tournament.md, round 2).

    python scripts/hue_chroma_probe.py runs/shipped-default --holdout-of runs/t-chroma --max-val 384
    python scripts/hue_chroma_probe.py runs/shipped-default --val-root ../shared/data/imagenette2-224.tar.gz \\
        --max-images 300
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
import torch.nn.functional as F
from holdout_decodings import holdout_outputs

from tinta import color
from tinta.data import load_dataset
from tinta.data.base import batch_to_lab, spread_subset
from tinta.evaluate.judge import Judge, agreement
from tinta.evaluate.metrics import colourfulness, psnr
from tinta.inference import predict_ab
from tinta.runs import load_run


def unit(ab: torch.Tensor) -> torch.Tensor:
    return ab / ab.norm(dim=1, keepdim=True).clamp(min=1e-3)


def val_outputs(run: str, root: str, count: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(the model's a,b at full size, L, original uint8) of ``count`` photos of a validation split."""
    data = spread_subset(load_dataset("folder", root, "val"), count)
    rgb8 = data.get(torch.arange(len(data)))
    lab = batch_to_lab(rgb8, data.colorspace)
    model, head, info = load_run(run)
    with torch.no_grad():
        ab = torch.cat([predict_ab(model, head, lab[i:i + 50, :1], info.native_size) for i in range(0, len(lab), 50)])
    return F.interpolate(ab, size=lab.shape[-2:], mode="bilinear", align_corners=False), lab[:, :1], rgb8


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("run")
    p.add_argument("--holdout-of", help="score on this run's training hold-out (default: the run's own)")
    p.add_argument("--max-val", type=int, default=384)
    p.add_argument("--val-root", help="score on this archive's val split instead")
    p.add_argument("--max-images", type=int, default=300)
    a = p.parse_args()
    torch.set_num_threads(2)
    if a.val_root:
        ab, L, gt = val_outputs(a.run, a.val_root, a.max_images)
    else:
        _, head, _ = load_run(a.run)
        out, L, gt = holdout_outputs(a.run, a.max_val, a.holdout_of)
        ab = F.interpolate(head.predict(out), size=L.shape[-2:], mode="bilinear", align_corners=False)
    true_ab = color.rgb_to_lab(gt.float() / 255)[:, 1:]  # (N, 2, H, W)
    judge = Judge(cache=Path(os.environ.get("TINTA_CACHE", Path.home() / ".cache/tinta")) / "judge")
    ref, cf_gt = judge.predict(gt), colourfulness(gt.float())
    rows = {"grey": torch.zeros_like(ab), "the model": ab,
            "the model, each picture's mean a,b cast removed": ab - ab.mean((2, 3), keepdim=True),
            "the model's hue at the truth's chroma (oracle)": unit(ab) * true_ab.norm(dim=1, keepdim=True),
            "the truth's hue at the model's chroma": unit(true_ab) * ab.norm(dim=1, keepdim=True),
            "the truth at half its chroma": 0.5 * true_ab}
    print(f"{a.run}: {len(gt)} photos ({a.val_root or 'training hold-out of ' + (a.holdout_of or a.run)})")
    print("| colours | PSNR dB | CF | CF gap | agree % |\n|---|---|---|---|---|")
    for name, x in rows.items():
        rgb = color.rgb_to_uint8(color.lab_to_rgb(color.join_lab(L, x)))
        cf = colourfulness(rgb.float())
        print(f"| {name} | {psnr(rgb.float(), gt.float()).mean():.2f} | {cf.mean():.1f} | "
              f"{(cf - cf_gt).abs().mean():.1f} | {100 * agreement(judge.predict(rgb), ref):.1f} |", flush=True)


if __name__ == "__main__":
    main()
