"""Training, resume, evaluation and comparison end to end on a tiny CIFAR-style ImageFolder."""

import csv
import json

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from tinta.cli import main
from tinta.errors import TintaError
from tinta.train.config import TrainConfig

from helpers import photo, tiny_image_folder


@pytest.fixture
def tiny_cifar(tmp_path):
    return tiny_image_folder(tmp_path / "cifar")


def _train(args, root, out, epochs=1, extra=()):
    return main(["train", *args, "--dataset", "cifar10", "--data-root", str(root), "--epochs", str(epochs),
                 "--batch-size", "8", "--out", str(out), "--val-fraction", "0.2", *extra])


def test_palette_model_trains_evaluates_and_resumes(tiny_cifar, tmp_path, capsys):
    run = tmp_path / "runs" / "seed"
    assert _train(["--model", "seed-cnn", "--classes", "horse", "--k", "4"], tiny_cifar, run) == 0
    for f in ("config.json", "best.safetensors", "checkpoint/last.safetensors", "metrics.csv",
              "checkpoint/state.json", "checkpoint/optimizer.pt"):
        assert (run / f).exists(), f
    assert not (run / "head.json").exists()  # the head is stored once, in config.json
    config = json.loads((run / "config.json").read_text())
    assert config["head"]["name"] == "palette" and config["out_channels"] == 4 and config["data"]["train"] == 16
    # a second run into the same folder without --resume is refused, not overwritten
    assert _train(["--model", "seed-cnn", "--classes", "horse", "--k", "4"], tiny_cifar, run) == 2
    assert "--resume" in capsys.readouterr().err
    # resume continues from epoch 1 to 2
    assert _train(["--model", "seed-cnn", "--classes", "horse", "--k", "4"], tiny_cifar, run, 2, ["--resume"]) == 0
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2"] and "val_accuracy" in rows[0]
    assert json.loads((run / "checkpoint" / "state.json").read_text())["epoch"] == 2
    assert [p.name for p in run.glob(".checkpoint-*")] == [".checkpoint-0002"]  # older checkpoints removed

    assert main(["evaluate", "--run", str(run), "--split", "test", "--no-judge"]) == 0
    report = json.loads((run / "eval-test.json").read_text())
    assert report["images"] == 6
    res = report["results"]
    assert {"palette", "chroma", "grey", "quantized-gt", "gt"} <= set(res)
    assert res["palette"]["accuracy"] == res["chroma"]["accuracy"] > 0
    assert res["grey"]["colourfulness"] == 0
    assert res["quantized-gt"]["psnr"] > res["grey"]["psnr"]  # the ceiling is above the floor
    assert Image.open(run / "grid-test.png").size[0] > 4 * 96


def test_same_seed_same_weights(tiny_cifar, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["--model", "small-unet", "--head", "regression", "--width", "8", "--classes", "horse"]
    assert _train(args, tiny_cifar, a) == 0 and _train(args, tiny_cifar, b) == 0
    assert (a / "best.safetensors").read_bytes() == (b / "best.safetensors").read_bytes()


def test_resume_equals_uninterrupted(tiny_cifar, tmp_path):
    """1 epoch, then --resume to 2, gives the same weights as 2 epochs in one go
    (constant schedule: a cosine schedule depends on the planned number of epochs)."""
    args = ["--model", "small-unet", "--head", "regression", "--width", "8", "--schedule", "constant"]
    full, parts = tmp_path / "full", tmp_path / "parts"
    assert _train(args, tiny_cifar, full, 2) == 0
    assert _train(args, tiny_cifar, parts, 1, ["--keep-epochs"]) == 0
    last = lambda run: (run / "checkpoint" / "last.safetensors").read_bytes()  # noqa: E731
    first = load_file(parts / "checkpoint" / "last.safetensors")
    assert last(parts) != last(full)
    assert _train(args, tiny_cifar, parts, 2, ["--resume"]) == 0  # keeps its epochs without being told again
    assert last(parts) == last(full)
    # --keep-epochs: each epoch's weights, exactly, in fp16, beside the one checkpoint
    kept = {p.name: load_file(p) for p in (parts / "epochs").iterdir()}
    assert sorted(kept) == ["epoch-1.safetensors", "epoch-2.safetensors"] and not (full / "epochs").exists()
    half = lambda w: {k: v.half() if v.is_floating_point() else v for k, v in w.items()}  # noqa: E731
    for name, weights in (("epoch-1.safetensors", first), ("epoch-2.safetensors", load_file(full / "checkpoint" /
                                                                                          "last.safetensors"))):
        assert kept[name].keys() == weights.keys()
        assert all(torch.equal(kept[name][k], v) for k, v in half(weights).items()), name
    with pytest.raises(TintaError, match="--keep-epochs keeps a supervised run"):
        TrainConfig(keep_epochs=True, adversarial=0.02)


def test_compare_report(tiny_cifar, tmp_path, capsys):
    a, b = tmp_path / "runs" / "reg", tmp_path / "runs" / "bins"
    assert _train(["--model", "small-unet", "--head", "regression", "--width", "8"], tiny_cifar, a) == 0
    assert _train(["--model", "small-unet", "--head", "bins", "--width", "8"], tiny_cifar, b) == 0
    out = tmp_path / "report"
    assert main(["compare", str(a), str(b), "--baseline", str(a), "--out", str(out), "--split", "test",
                 "--no-judge"]) == 0
    md = (out / "report.md").read_text()
    assert "| reg |" in md and "| bins |" in md and "grey (floor)" in md
    for f in ("report.html", "grid.png", "psnr_vs_colourfulness.png", "report.json"):
        assert (out / f).exists()
    assert "Best PSNR" in capsys.readouterr().out

    # a temperature sweep: one row per T for the bins run, each decoded at its own T (that lower T
    # is more vivid is a property of trained models: tested on the shipped ones, test_pretrained.py)
    out2 = tmp_path / "sweep"
    assert main(["compare", str(b), "--baseline", str(a), "--out", str(out2), "--split", "test", "--no-judge",
                 "--temperatures", "1", "0.38", "0.1"]) == 0
    summary = json.loads((out2 / "report.json").read_text())
    names = [r["name"] for r in summary["rows"]]
    assert names == ["reg", "bins T=1", "bins T=0.38", "bins T=0.1"]
    cf = [r["metrics"]["colourfulness"] for r in summary["rows"][1:]]
    assert len(set(cf)) == 3
    assert json.loads((b / "eval-test.json").read_text())["decodings"] == ["T=1", "T=0.38", "T=0.1"]

    # a saved evaluation is reused while the run's head and weights are unchanged, and redone when either changes
    compare_a = ["compare", str(a), "--baseline", str(a), "--out", str(tmp_path / "again"), "--split", "test",
                 "--no-judge"]
    capsys.readouterr()
    assert main(compare_a) == 0 and "evaluating" not in capsys.readouterr().out
    config = json.loads((a / "config.json").read_text())
    config["head"]["loss"] = "l1"  # not how it trained: only to see the evaluation redone
    (a / "config.json").write_text(json.dumps(config))
    assert main(compare_a) == 0 and "evaluating" in capsys.readouterr().out
    assert main(compare_a) == 0 and "evaluating" not in capsys.readouterr().out
    weights = load_file(a / "best.safetensors")
    save_file({k: v + 0.01 if v.is_floating_point() else v for k, v in weights.items()}, a / "best.safetensors")
    assert main(compare_a) == 0 and "evaluating" in capsys.readouterr().out


def test_bad_data_root_is_one_line_error(tmp_path, capsys):
    assert main(["train", "--model", "seed-cnn", "--data-root", str(tmp_path / "nope"),
                 "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]
    assert main(["evaluate", "--run", str(tmp_path)]) == 2


def test_bins_on_a_lab_model_train_at_half_resolution(tiny_cifar, tmp_path, monkeypatch):
    """LAB models decode the bins head at H/2 (then a,b upsampled) and, by default (--bins-stride 4), train its
    logits from 2x2-pooled features at H/4; validation scores the H/2 logits users get."""
    from tinta.heads import BinsHead
    from tinta.models.base import PooledOutput

    seen = []
    real = BinsHead.loss

    def loss(self, out, target):
        pooled = isinstance(out, PooledOutput)
        seen.append(("train" if pooled else "eval", tuple((out.pooled if pooled else out).shape[-2:])))
        return real(self, out, target)

    monkeypatch.setattr(BinsHead, "loss", loss)
    run = tmp_path / "runs" / "vcnn-bins"
    args = ["--model", "vanilla-cnn", "--head", "bins", "--width", "8", "--classes", "horse"]
    assert _train(args, tiny_cifar, run) == 0
    assert set(seen) == {("train", (8, 8)), ("eval", (16, 16))}  # 32x32 inputs
    with open(run / "metrics.csv") as f:
        row = next(csv.DictReader(f))
    assert np.isfinite(float(row["val_loss"])) and float(row["val_psnr"]) > 10
    from tinta.inference import load_model

    c = load_model(str(run))
    assert not c.model.upsample_output and c(photo(32, 32)).size == (32, 32)


def test_two_data_sources_train_together(tmp_path, capsys):
    """`--data-root A --data-root B`: both sources' images train, each holds out its own validation share."""
    for name, n in (("a", 20), ("b", 10)):
        for split in ("train", "val"):
            d = tmp_path / name / split / f"{name}cls"
            d.mkdir(parents=True)
            for i in range(n if split == "train" else 2):
                Image.fromarray(photo(16, 16, seed=i + (100 if name == "b" else 0))).save(d / f"{i:03d}.png")
    run = tmp_path / "run"
    assert main(["train", "--model", "small-unet", "--head", "regression", "--width", "4", "--dataset", "folder",
                 "--data-root", str(tmp_path / "a"), "--data-root", str(tmp_path / "b"), "--epochs", "1",
                 "--val-fraction", "0.2", "--batch-size", "8", "--out", str(run)]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["data"]["train"] == 16 + 8 and config["data"]["val"] == 4 + 2
    assert config["train"]["data_root"] == [str(tmp_path / "a"), str(tmp_path / "b")]
    assert main(["evaluate", "--run", str(run), "--split", "val"]) == 2
    assert "2 data sources" in capsys.readouterr().err
    assert main(["evaluate", "--run", str(run), "--split", "val", "--data-root", str(tmp_path / "b"),
                 "--no-judge"]) == 0
    assert json.loads((run / "eval-val-b.json").read_text())["images"] == 2  # named after the source


def test_joint_head_grows_from_a_regression_run(tiny_cifar, tmp_path, capsys):
    """--head joint --init-from a regression run: the a,b outputs start where the run left them."""
    import torch

    from tinta.heads import JointHead, head_from_dict
    from tinta.inference import load_model

    reg, joint = tmp_path / "reg", tmp_path / "joint"
    args = ["--model", "vanilla-cnn", "--width", "8", "--classes", "horse"]
    assert _train([*args, "--head", "regression"], tiny_cifar, reg) == 0
    assert _train([*args, "--head", "joint", "--init-from", str(reg), "--lr", "1e-9"], tiny_cifar, joint) == 0
    assert "initialised" in capsys.readouterr().out
    c, r = load_model(str(joint)), load_model(str(reg))
    assert isinstance(c.head, JointHead) and isinstance(head_from_dict(c.head.to_dict()), JointHead)
    # lr ~ 0: the a,b outputs are the run's (only BatchNorm statistics moved)
    assert torch.allclose(c.model.head.weight[:2], r.model.head.weight, atol=1e-6)
    assert c.model.head.weight.shape[0] == 2 + c.head.cls.bins.q
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        r.model.upsample_output = False
        assert (c.model(x)[:, :2] - r.model(x)).abs().max() < 0.05
    out = np.asarray(c(photo(32, 32)))
    assert out.shape == (32, 32, 3)


def test_max_train_keeps_every_source_and_init_from_shrinks_a_head(tiny_cifar, tmp_path, capsys):
    """--max-train takes images evenly spaced over the joined sources (not the first source's first N);
    --init-from a joint run into a regression head keeps the run's a,b outputs."""
    import torch

    from tinta.inference import load_model
    from tinta.train.config import TrainConfig
    from tinta.train.loop import load_train_val

    cfg = TrainConfig(model="small-unet", dataset="cifar10", data_root=(str(tiny_cifar), str(tiny_cifar)),
                      classes=("horse",), max_train=8, val_fraction=0.2)
    train, _ = load_train_val(cfg)
    assert len(train) == 8 and {c.split(":")[0] for c in (train.classes[i] for i in train.labels)} == {"0", "1"}
    joint, reg = tmp_path / "joint", tmp_path / "reg"
    args = ["--model", "vanilla-cnn", "--width", "8", "--classes", "horse"]
    assert _train([*args, "--head", "joint"], tiny_cifar, joint) == 0
    assert _train([*args, "--head", "regression", "--init-from", str(joint), "--lr", "1e-9"], tiny_cifar, reg) == 0
    j, r = load_model(str(joint)), load_model(str(reg))
    assert torch.allclose(r.model.head.weight, j.model.head.weight[:2], atol=1e-6)


def test_source_weight_sets_each_sources_share(tiny_cifar):
    """--source-weight takes a source's training images that many times; one weight per source, positive."""
    from tinta.errors import TintaError
    from tinta.train.config import TrainConfig
    from tinta.train.loop import load_train_val

    base = {"model": "small-unet", "dataset": "cifar10", "data_root": (str(tiny_cifar), str(tiny_cifar)),
            "classes": ("horse",), "val_fraction": 0.2}
    even, _ = load_train_val(TrainConfig(**base))
    train, _ = load_train_val(TrainConfig(**base, source_weight=(2.0, 0.5)))
    source = torch.tensor([int(train.classes[i].split(":")[0]) for i in train.labels])
    per_source = len(even) // 2
    assert (source == 0).sum() == 2 * per_source and (source == 1).sum() == round(0.5 * per_source)
    for bad, says in [((1.0,), "one weight per --data-root"), ((1.0, 0.0), "positive"),
                      ((1.0, float("nan")), "positive")]:
        with pytest.raises(TintaError, match=says):
            TrainConfig(**base, source_weight=bad)


def test_amp_auto_is_bf16_only_while_a_pretrained_encoder_is_frozen(tmp_path):
    """--amp auto: bf16 in the frozen phase (the A/B found the same colours, 1.5x the speed), full precision
    after; an explicit --amp holds throughout; a run from before auto resumes as it started."""
    from tinta.heads.regression import RegressionHead
    from tinta.runs import RunInfo
    from tinta.train.loop import as_it_was, precision

    cpu = torch.device("cpu")
    auto = TrainConfig(model="unet", data_root=("x",))
    assert auto.amp == "auto"
    assert precision(auto, cpu, encoder_frozen=True) == "bf16"
    assert precision(auto, cpu, encoder_frozen=False) == "off"
    for fixed in ("off", "bf16"):
        cfg = TrainConfig(model="unet", data_root=("x",), amp=fixed)
        assert precision(cfg, cpu, True) == precision(cfg, cpu, False) == fixed
    old = {k: v for k, v in auto.to_dict().items() if k != "amp"} | {"amp": "off"}  # written before auto
    RunInfo.create(old, RegressionHead()).write(tmp_path)
    resumed = TrainConfig(model="unet", data_root=("x",), out=str(tmp_path), resume=True)
    assert as_it_was(resumed, tmp_path).amp == "off"
    assert as_it_was(TrainConfig(model="unet", data_root=("x",), out=str(tmp_path), resume=True, amp="bf16"),
                     tmp_path).amp == "bf16"  # asked for explicitly
