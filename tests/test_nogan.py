"""NoGAN: critic pretraining, adversarial phase with snapshots, the pick on the hold-out, resume."""

import json

import pytest
import torch

from tinta.cli import main
from tinta.train.nogan import PSNR_SLACK, PatchCritic, batches_of, pick

from helpers import tiny_image_folder


def _train(root, out, *extra):
    return main(["train", "--model", "vanilla-cnn", "--width", "8", "--dataset", "cifar10", "--data-root",
                 str(root), "--classes", "horse", "--epochs", "1", "--batch-size", "4", "--val-fraction", "0.2",
                 "--out", str(out), *extra])


@pytest.fixture(scope="module")
def start(tmp_path_factory):
    root = tiny_image_folder(tmp_path_factory.mktemp("cifar"))
    run = tmp_path_factory.mktemp("runs") / "reg"
    assert _train(root, run, "--head", "joint") == 0
    return root, run


def test_critic_shape_and_gradient():
    critic = PatchCritic(width=8)
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    out = critic(x)
    assert out.shape == (2, 1, 4, 4)
    out.sum().backward()
    assert x.grad.abs().sum() > 0


def test_pick_prefers_the_smallest_cf_gap_within_the_psnr_slack():
    rows = [{"snapshot": "a", "val_psnr": 25.0, "val_cf_gap": 20.0},
            {"snapshot": "b", "val_psnr": 25.0 - PSNR_SLACK - 0.01, "val_cf_gap": 5.0},  # lost too much PSNR
            {"snapshot": "c", "val_psnr": 24.8, "val_cf_gap": 12.0}]
    assert pick(rows)["snapshot"] == "c"
    assert pick(rows[:2])["snapshot"] == "a"


def test_batches_of_counts_images_across_epochs():
    from tinta.train.config import TrainConfig
    from tinta.train.distributed import Dist

    cfg = TrainConfig(batch_size=4)
    b = batches_of(10, cfg, Dist(), 1, 23)
    assert 23 <= sum(len(x) for x in b) < 27 and all(len(x) <= 4 for x in b)


def test_nogan_snapshots_pick_and_resume(start, tmp_path, capsys):
    root, run = start
    gan = tmp_path / "gan"
    args = ("--head", "joint", "--init-from", str(run), "--adversarial", "0.1", "--critic-images", "8",
            "--snapshot-every", "8", "--max-train", "16", "--lr", "1e-4")
    assert _train(root, gan, *args) == 0
    snaps = sorted(p.name for p in gan.glob("snap-*"))
    assert snaps[0] == "snap-000000" and len(snaps) >= 3  # the start, then one every 8 images
    info = json.loads((gan / "snapshots.json").read_text())
    assert info["picked"] in snaps and {"val_psnr", "val_cf_gap"} <= set(info["rows"][-1])
    assert (gan / "best.safetensors").read_bytes() == (gan / info["picked"] / "best.safetensors").read_bytes()
    # every snapshot loads like a run, and --resume after the end changes nothing
    from tinta.inference import load_model
    assert load_model(str(gan / snaps[-1])).head.name == "joint"
    assert _train(root, gan, *args, "--resume") == 0
    assert json.loads((gan / "snapshots.json").read_text())["rows"] == info["rows"]


def test_nogan_needs_a_start_and_a_differentiable_head(start, tmp_path, capsys):
    root, run = start
    assert _train(root, tmp_path / "a", "--head", "joint", "--adversarial", "0.1") == 2
    assert "--init-from" in capsys.readouterr().err
    pal = tmp_path / "pal"
    assert main(["train", "--model", "seed-cnn", "--k", "4", "--dataset", "cifar10", "--data-root", str(root),
                 "--classes", "horse", "--epochs", "1", "--batch-size", "4", "--val-fraction", "0.2",
                 "--out", str(pal)]) == 0
    assert main(["train", "--model", "seed-cnn", "--k", "4", "--dataset", "cifar10", "--data-root", str(root),
                 "--classes", "horse", "--batch-size", "4", "--val-fraction", "0.2", "--out", str(tmp_path / "b"),
                 "--init-from", str(pal), "--adversarial", "0.1", "--critic-images", "4"]) == 2
    assert "not differentiable" in capsys.readouterr().err
