"""Multi-process training on PyTorch's own engine (torch.distributed + DDP).

Under ``torchrun`` (which sets RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR) the process
group is initialised with gloo on CPU and nccl on CUDA. Batches come from a
``DistributedSampler`` reseeded every epoch; each rank takes ``batch_size / world_size``
images of every global batch. When the number of images is a multiple of the world size,
the union of the ranks' k-th batches is exactly the k-th batch a single process would
see; otherwise the sampler pads the epoch with repeats of its first shuffled images
(fewer than world_size), so those appear twice and the epoch's last batch differs.
Only rank 0 writes files.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch.utils.data import DistributedSampler

from tinta.errors import TintaError


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def setup(device_name: str) -> Dist:
    """Join the process group when launched by torchrun; a no-op for a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    cuda = device_name in ("auto", "cuda") and torch.cuda.is_available()
    if cuda:
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    return Dist(rank, world, local)


def teardown(d: Dist) -> None:
    if d.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(d: Dist) -> None:
    if d.enabled:
        dist.barrier()


def all_reduce_sum(d: Dist, values: dict[str, float], device: torch.device) -> dict[str, float]:
    """Sum each value over all ranks (metrics are accumulated as sums, then divided)."""
    if not d.enabled or not values:
        return values
    keys = sorted(values)
    t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return dict(zip(keys, t.tolist()))


def epoch_batches(
    n: int, batch_size: int, d: Dist, seed: int, epoch: int, shuffle: bool = True
) -> Iterator[torch.Tensor]:
    """This rank's part of every global batch of an epoch (DistributedSampler, reseeded per epoch)."""
    if batch_size % d.world_size:
        raise TintaError(f"--batch-size {batch_size} must be divisible by the number of processes ({d.world_size})")
    sampler = DistributedSampler(range(n), num_replicas=d.world_size, rank=d.rank, shuffle=shuffle, seed=seed)
    sampler.set_epoch(epoch)
    idx = torch.tensor(list(sampler), dtype=torch.long)
    local = batch_size // d.world_size
    for start in range(0, len(idx), local):
        yield idx[start : start + local]


def shard_indices(n: int, d: Dist) -> torch.Tensor:
    """A disjoint share of ``range(n)`` for evaluation (no padding, no duplicates)."""
    return torch.arange(d.rank, n, d.world_size)


def launch(nproc: int, argv: list[str]) -> int:
    """``tinta train --nproc N ...``: run the same command under torchrun on this machine."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
           "-m", "tinta", *argv]
    print("launching:", " ".join(cmd))
    return subprocess.call(cmd)
