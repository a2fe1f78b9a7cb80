"""A batch stopped by SIGTERM or SIGKILL, then run again: inputs untouched, no temporary files,
every output whole, and the rerun finishes the rest (``--skip-existing``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from faults.conftest import HELD, snapshot, temp_files, wait_until_held

from helpers import photo

REPO = Path(__file__).resolve().parents[2]
PICTURES = 8


def _start(model_run: Path, src: Path, out: Path, *extra: str, held: Path | None = None) -> subprocess.Popen:
    """``tinta colorize``; with ``held`` (a marker file), held half-way through the fourth picture."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    args = ["colorize", str(src), "-o", str(out), "--checkpoint", str(model_run), *extra]
    cmd = ([sys.executable, str(HELD), str(held), "picture", *args] if held else [sys.executable, "-m", "tinta", *args])
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def many(tmp_path) -> Path:
    d = tmp_path / "many"
    d.mkdir()
    for i in range(PICTURES):
        Image.fromarray(photo(96, 128, seed=i)).save(d / f"{i:03d}.png")
    return d


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_stop_mid_batch_then_rerun(model_run, many, tmp_path, sig):
    out = tmp_path / "out"
    before = snapshot(many)
    p = _start(model_run, many, out, held=tmp_path / "held")
    wait_until_held(p, tmp_path / "held")  # three pictures written, the fourth half-written
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    if sig == signal.SIGTERM:
        assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
        assert not temp_files(out)  # SIGTERM is handled like Ctrl-C: the temporary file is removed
    else:
        assert p.returncode == -signal.SIGKILL
        assert len(temp_files(out)) == 1  # the half-written picture, under its temporary name only
    done = sorted(out.glob("*.png"))
    assert len(done) == 3
    for f in done:  # every file under its real name is a whole picture
        Image.open(f).load()
    p = _start(model_run, many, out, "--skip-existing")
    stdout, err = p.communicate(timeout=120)
    assert p.returncode == 0, err
    assert f"skipped {len(done)} already there" in stdout
    assert len(list(out.glob("*.png"))) == PICTURES and not temp_files(out)  # a killed run's temp file was swept
    assert snapshot(many) == before
