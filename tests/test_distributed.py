"""DDP on CPU (gloo): 2 processes must train exactly like 1 process with the same global batch."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from tinta.colorize_cli import collect_inputs, parse_shard, shard_items
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


def _train(root, out, nproc, epochs=2, extra=()):
    # seed-cnn has no BatchNorm, so per-process batch statistics cannot differ; no flips
    # (augmentation randomness is per process); 36 train images, global batch 12.
    args = ["train", "--model", "seed-cnn", "--dataset", "cifar10", "--data-root", str(root), "--k", "4",
            "--epochs", str(epochs), "--batch-size", "12", "--val-fraction", "0.1", "--no-flip",
            "--threads", "1", "--out", str(out), "--lr", "3e-3", *extra]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    if nproc == 1:
        cmd = [sys.executable, "-m", "tinta", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={nproc}",
               "-m", "tinta", *args]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout


def test_two_processes_match_one(tiny_cifar, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    _train(tiny_cifar, one, 1)
    out = _train(tiny_cifar, two, 2)
    assert "2 process(es)" in out
    a, b = load_file(str(one / "last.safetensors")), load_file(str(two / "last.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        assert torch.allclose(a[k], b[k], atol=1e-5), k
    # the losses and validation metrics were reduced over both processes: the same numbers
    row = lambda p: [float(x) for x in (p / "metrics.csv").read_text().split("\n")[2].split(",")[:4]]  # noqa: E731
    assert row(one) == pytest.approx(row(two), rel=1e-5)


def test_distributed_resume_continues_from_saved_epoch(tiny_cifar, tmp_path):
    run = tmp_path / "run"
    _train(tiny_cifar, run, 2, epochs=1)
    out = _train(tiny_cifar, run, 2, epochs=2, extra=["--resume"])
    assert "resuming" in out and "after epoch 1" in out
    rows = (run / "metrics.csv").read_text().strip().split("\n")[1:]
    assert [r.split(",")[0] for r in rows] == ["1", "2"]


def test_shards_partition_the_inputs(tmp_path):
    for i in range(23):
        (tmp_path / f"sub{i % 3}").mkdir(exist_ok=True)
        Image.fromarray(photo(8, 8)).save(tmp_path / f"sub{i % 3}" / f"{i}.png")
    files, missing = collect_inputs([str(tmp_path)])
    assert len(files) == 23 and not missing
    for n in (1, 2, 4, 7):
        shards = [shard_items(files, i, n) for i in range(n)]
        flat = [f for s in shards for f in s]
        assert sorted(flat) == sorted(files) and len(flat) == len(set(flat))  # union exact, no overlap
        assert shards == [shard_items(files, i, n) for i in range(n)]  # deterministic
    assert parse_shard("1/4") == (1, 4)
    for bad in ("4/4", "x", "1/0"):
        with pytest.raises(TintaError):
            parse_shard(bad)


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
