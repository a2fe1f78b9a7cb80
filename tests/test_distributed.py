"""DDP on CPU (gloo): 2 processes must train exactly like 1 process with the same global batch."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from tinta.batch import parse_shard, plan, shard_of
from tinta.errors import TintaError

from helpers import photo

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def tiny_cifar(tmp_path):
    root = tmp_path / "cifar"
    for split, n in (("train", 40), ("test", 4)):
        d = root / split / "horse"
        d.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(photo(32, 32, seed=i + (100 if split == "test" else 0))).save(d / f"{i:04d}.png")
    return root


def _train(root, out, nproc, epochs=2, extra=(), launcher="torchrun"):
    # seed-cnn has no BatchNorm, so per-process batch statistics cannot differ; no flips
    # (augmentation randomness is per process); 36 train images, global batch 12; a constant
    # schedule, so 1 epoch + --resume to 2 equals 2 epochs in one go.
    args = ["train", "--model", "seed-cnn", "--dataset", "cifar10", "--data-root", str(root), "--k", "4",
            "--epochs", str(epochs), "--batch-size", "12", "--val-fraction", "0.1", "--no-flip",
            "--threads", "1", "--out", str(out), "--lr", "3e-3", "--schedule", "constant", *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    if nproc == 1:
        cmd = [sys.executable, "-m", "tinta", *args]
    elif launcher == "nproc":  # tinta relaunches itself under torchrun
        cmd = [sys.executable, "-m", "tinta", *args, "--nproc", str(nproc)]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "tinta", *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout


def _rows(run):
    with open(run / "metrics.csv") as f:
        return list(csv.DictReader(f))


def test_two_processes_match_one_and_resume(tiny_cifar, tmp_path):
    """2 DDP processes (started by `--nproc 2`, then resumed under torchrun) reach the weights and
    the metrics of 1 process training 2 epochs in one go."""
    one, two = tmp_path / "one", tmp_path / "two"
    _train(tiny_cifar, one, 1, epochs=2)
    out = _train(tiny_cifar, two, 2, epochs=1, launcher="nproc")
    assert "launching:" in out and "2 process(es)" in out
    out = _train(tiny_cifar, two, 2, epochs=2, extra=["--resume"])
    assert "resuming" in out and "after epoch 1" in out
    last = lambda run: load_file(str(run / "checkpoint" / "last.safetensors"))  # noqa: E731
    a, b = last(one), last(two)
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=5e-5), (k, (a[k] - b[k]).abs().max().item())
    # the losses and validation metrics were reduced over both processes: the same numbers
    keys = ("epoch", "train_loss", "val_loss", "val_psnr", "val_accuracy")
    flat = lambda run: [float(r[k]) for r in _rows(run) for k in keys]  # noqa: E731
    assert len(_rows(two)) == 2 and flat(one) == pytest.approx(flat(two), rel=1e-4)


def test_shards_partition_the_inputs(tmp_path):
    for i in range(23):
        (tmp_path / f"sub{i % 3}").mkdir(exist_ok=True)
        Image.fromarray(photo(8, 8)).save(tmp_path / f"sub{i % 3}" / f"{i}.png")
    p = plan([str(tmp_path)], tmp_path / "out")
    files = [j.src for j in p.jobs]
    assert len(files) == 23 and not p.problems
    for n in (1, 2, 4, 7):
        shards = [[j.src for j in shard_of(p.jobs, i, n)] for i in range(n)]
        flat = [f for s in shards for f in s]
        assert sorted(flat) == sorted(files) and len(flat) == len(set(flat))  # union exact, no overlap
        assert shards == [[j.src for j in shard_of(p.jobs, i, n)] for i in range(n)]  # deterministic
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1/0"):
        with pytest.raises(TintaError):
            parse_shard(bad)
    assert parse_shard(None, {"RANK": "1", "WORLD_SIZE": "2"}) == (1, 2)
    for env in ({"RANK": "x", "WORLD_SIZE": "2"}, {"RANK": "2", "WORLD_SIZE": "2"}):
        with pytest.raises(TintaError, match="RANK"):
            parse_shard(None, env)


def test_sharded_colorize_writes_a_merged_summary(tmp_path, capsys):
    import json

    from tinta.cli import main

    from helpers import make_run

    for i in range(5):
        Image.fromarray(photo(16, 16, seed=i)).save(tmp_path / f"{i}.png")
    (tmp_path / "bad.png").write_bytes(b"not a png")
    run = make_run(tmp_path / "run")
    out = tmp_path / "out"
    rcs = [main(["colorize", *[str(p) for p in sorted(tmp_path.glob("*.png"))], "-o", str(out),
                 "--checkpoint", str(run), "--shard", f"{i}/3"]) for i in range(3)]
    assert sorted(rcs) == [0, 0, 1]  # exactly one shard holds the bad file
    merged = json.loads((out / "tinta-summary.json").read_text())
    assert merged["done"] == 5 and merged["failed"] == 1 and merged["shards"] == 3
    assert "all 3 shards finished" in capsys.readouterr().out
