"""What the colour classes cost in one training step: the U-Net (Lite0 encoder, 112 px, batch 32) with the
regression head (2 outputs), the joint head with its logits at H/2 (``--bins-stride 2``) and at H/4 from pooled
features (``--bins-stride 4``, the default); synthetic inputs, forward + loss + backward + fused AdamW, side by
side in one process, ratios against the joint head at H/2.

    python benchmarks/head_step.py [--threads 2] [--steps 4]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import torch

from tinta.heads import JointHead, RegressionHead
from tinta.heads.bins import fit_grid_bins
from tinta.inference import set_native_output
from tinta.models import create_model


def images_per_second(head, pool: bool, steps: int, batch: int = 32, size: int = 112) -> float:
    torch.manual_seed(0)
    model = create_model("unet", head.out_channels).to(memory_format=torch.channels_last)
    set_native_output(model, head)
    model.pool_from = head.pooled_from if pool else None
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    x = torch.rand(batch, 1, size, size).to(memory_format=torch.channels_last)
    ab = torch.randn(batch, 2, size, size) * 20

    def step():
        loss = head.loss(model(x).float(), ab)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    bins = fit_grid_bins(torch.randn(20000, 2, generator=torch.Generator().manual_seed(0)) * 25)
    rows = {"regression head (2 outputs)": images_per_second(RegressionHead(), False, args.steps),
            f"joint head ({2 + bins.q} outputs), logits at H/2": images_per_second(JointHead(bins), False, args.steps),
            "joint head, logits at H/4 from pooled features": images_per_second(JointHead(bins), True, args.steps)}
    base = list(rows.values())[1]
    print(f"one training step, unet at 112 px, batch 32, synthetic data; {platform.machine()} CPU, "
          f"{os.cpu_count()} cores, {args.threads} threads, {args.steps} steps each")
    for name, v in rows.items():
        print(f"{name:<50}{v:>8.1f} img/s {v / base:>6.2f}x")


if __name__ == "__main__":
    main()
