"""`tinta train` with bad options and interruptions: a kill at any step of a checkpoint commit
resumes to the same weights as an uninterrupted run; damaged checkpoints are refused clearly."""

from __future__ import annotations

import contextlib
import os
import pickle

import pytest
from PIL import Image

from faults.conftest import one_line_error, temp_files
from tinta.cli import main
from tinta.runs import read_state
from tinta.train import checkpoint

from helpers import make_run, photo, small_tmpfs

STEPS = ("weights", "optimizer", "state", "link", "commit")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny") / "cifar"
    for split, n in (("train", 20), ("test", 4)):
        d = root / split / "horse"
        d.mkdir(parents=True)
        for i in range(n):
            Image.fromarray(photo(16, 16, seed=i + 50 * (split == "test"))).save(d / f"{i:03d}.png")
    return root


def train(data, out, *extra, epochs=2):
    return main(["train", "--model", "small-unet", "--head", "regression", "--width", "4", "--dataset", "folder",
                 "--data-root", str(data), "--epochs", str(epochs), "--batch-size", "8", "--val-fraction", "0.2",
                 "--schedule", "constant", "--threads", "1", "--out", str(out), *extra])


class Killed(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing on the way out catches it."""


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("full") / "run"
    assert train(data, out) == 0
    return (out / "checkpoint" / "last.safetensors").read_bytes()


@pytest.mark.parametrize("step", STEPS)
def test_kill_at_each_step_of_the_commit_then_resume(data, tmp_path, monkeypatch, uninterrupted, step):
    """Killed while committing epoch 2's checkpoint: --resume redoes epoch 2 (or finds it committed) and ends
    with the weights of an uninterrupted run."""
    out = tmp_path / "run"

    def reached(name):
        if name == step and checkpoint_epoch[0] == 2:
            raise Killed

    checkpoint_epoch = [0]
    real_commit = checkpoint.commit

    def commit(run_dir, model, opt, state):
        checkpoint_epoch[0] = state["epoch"]
        return real_commit(run_dir, model, opt, state)

    monkeypatch.setattr(checkpoint, "_reached", reached)
    monkeypatch.setattr(checkpoint, "commit", commit)
    with pytest.raises(Killed):
        train(data, out)
    monkeypatch.setattr(checkpoint, "_reached", lambda name: None)
    state = read_state(out)
    assert state["epoch"] == (2 if step == "commit" else 1)  # the commit is the rename, nothing before it
    assert train(data, out, "--resume") == 0
    assert (out / "checkpoint" / "last.safetensors").read_bytes() == uninterrupted
    assert len(list(out.glob(".checkpoint-*"))) == 1


@pytest.mark.parametrize("extra, words", [
    (["--batch-size", "0"], "--batch-size must be at least 1"),
    (["--lr", "nan"], "--lr must be a positive number"),
    (["--epochs", "0"], "--epochs must be at least 1"),
    (["--render-size", "1"], "unrecognized arguments"),
    (["--size", "-3"], "--size must be between 8 and 4096"),
    (["--nproc", "0"], "--nproc must be at least 1"),
])
def test_bad_training_options(data, tmp_path, capsys, extra, words):
    assert train(data, tmp_path / "run", *extra) == 2
    one_line_error(capsys, words)
    assert not (tmp_path / "run").exists()  # nothing written for a refused command


def test_out_is_a_file(data, tmp_path, capsys):
    (tmp_path / "afile").write_text("keep me")
    assert train(data, tmp_path / "afile") == 2
    one_line_error(capsys, "is a file")
    assert (tmp_path / "afile").read_text() == "keep me"


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/tinta-pwned-by-pickle",))


@pytest.mark.parametrize("damage", ["truncated", "missing", "foreign", "malicious"])
def test_resume_refuses_damaged_optimizer_state(data, tmp_path, capsys, damage):
    out = tmp_path / "run"
    assert train(data, out, epochs=1) == 0
    opt = out / "checkpoint" / "optimizer.pt"
    if damage == "truncated":
        opt.write_bytes(opt.read_bytes()[:100])
    elif damage == "missing":
        opt.unlink()
    elif damage == "foreign":
        import torch

        torch.save({"state": {}, "param_groups": [{"params": [0], "lr": 1.0}]}, opt)
    else:
        opt.write_bytes(pickle.dumps(Boom()))
    capsys.readouterr()
    assert train(data, out, "--resume") == 2
    line = one_line_error(capsys, "optimizer.pt")
    assert "weights_only=False" not in line
    import os

    assert not os.path.exists("/tmp/tinta-pwned-by-pickle")


def test_init_from_a_run_where_nothing_fits_is_refused(data, tmp_path, capsys):
    """`--init-from` a run of another width used to train from scratch, saying 'initialised 1 of 62 tensors'
    (it copied a 2-number output bias and BatchNorm's step counters)."""
    other = make_run(tmp_path / "wide", model="small-unet")  # width 8; this run trains width 4
    assert train(data, tmp_path / "run", "--init-from", str(other), epochs=1) == 2
    one_line_error(capsys, "none of its weights fits this model")
    assert not (tmp_path / "run" / "checkpoint").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (needs root), unmounted afterwards."""
    with small_tmpfs(tmp_path, "4m") as disk:
        yield disk


def _fill(disk, leave: int) -> None:
    """Fill the disk, then free ``leave`` bytes."""
    with contextlib.suppress(OSError), open(disk / "filler", "wb") as f:
        while True:
            f.write(b"\0" * 4096)
            f.flush()
    os.truncate(disk / "filler", max(0, (disk / "filler").stat().st_size - leave))


@pytest.mark.parametrize("leave, fails", [(0, "config.json"), (12 << 10, ".safetensors")])
def test_full_disk_while_saving_a_checkpoint_is_one_line_and_loses_nothing(data, small_disk, capsys, leave, fails):
    """A full disk used to end training with a SafetensorError traceback (room for the config and metrics, not the
    weights), or with 'No space left on device' and no path (no room at all)."""
    out = small_disk / "run"
    assert train(data, out, epochs=1) == 0
    committed = (out / "checkpoint" / "last.safetensors").read_bytes()
    _fill(small_disk, leave)
    capsys.readouterr()
    assert train(data, out, "--resume", epochs=2) == 2
    line = one_line_error(capsys, "no space left on the disk", str(out), fails)
    assert "SafetensorError" not in line
    (small_disk / "filler").unlink()
    assert read_state(out)["epoch"] == 1 and (out / "checkpoint" / "last.safetensors").read_bytes() == committed
    assert not temp_files(out) and [p.name for p in out.glob(".checkpoint-*")] == [".checkpoint-0001"]
    assert train(data, out, "--resume", epochs=2) == 0 and read_state(out)["epoch"] == 2


class _FakeJudge:
    """Stands in for EfficientNet-Lite2 (the cost is what is tested, not the classes)."""

    def predict(self, rgb8):
        return self.embed(rgb8)[0]

    def embed(self, rgb8):
        import torch

        return torch.zeros(len(rgb8), dtype=torch.long), torch.rand(len(rgb8), 8)


def test_evaluate_says_what_the_judge_costs(data, tmp_path, capsys, monkeypatch):
    """The judge (on by default) turned 40 s of CIFAR evaluation into 300 s without a word."""
    from tinta.evaluate import evaluate

    monkeypatch.setattr(evaluate, "_judge", _FakeJudge)
    assert train(data, tmp_path / "run", epochs=1) == 0
    capsys.readouterr()
    assert main(["evaluate", "--run", str(tmp_path / "run"), "--split", "test"]) == 0
    out = capsys.readouterr()
    assert "the semantic judge classifies 12 pictures (4 images x 3 rows, upscaled to 260 px): about 1 s" in out.err
    assert "--no-judge skips it" in out.err and "the semantic judge took" in out.out
    assert evaluate.judge_cost(1000, 3).endswith("about 5 min on a 2-core CPU; --no-judge skips it")
    assert main(["evaluate", "--run", str(tmp_path / "run"), "--split", "test", "--no-judge"]) == 0
    out = capsys.readouterr()
    assert "judge" not in out.err + out.out
