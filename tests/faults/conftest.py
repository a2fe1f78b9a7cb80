"""Fixtures of the fault suite: a tiny model, real picture files, and checks that nothing was lost."""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tinta.cli import main
from tinta.files import TMP_MARK

from helpers import make_run, photo

HELD = Path(__file__).with_name("held.py")  # runs tinta held at a known point until a signal comes


def wait_until_held(p: subprocess.Popen, marker: Path) -> None:
    """Wait for a ``held.py`` process to reach its held point (the deadline only bounds a broken run)."""
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert p.poll() is None, p.communicate()[1]
        assert time.monotonic() < deadline, "never reached the held point"
        time.sleep(0.02)


@pytest.fixture(scope="session")
def model_run(tmp_path_factory) -> Path:
    """A tiny untrained run folder (small-unet, width 8): fast, and real weights on disk."""
    return make_run(tmp_path_factory.mktemp("fault-model") / "run")


@pytest.fixture
def pics(tmp_path) -> Path:
    """A folder of three real pictures (JPEG, PNG, grey PNG)."""
    d = tmp_path / "pics"
    d.mkdir()
    Image.fromarray(photo(24, 32, seed=1)).save(d / "a.jpg", quality=90)
    Image.fromarray(photo(24, 32, seed=2)).save(d / "b.png")
    Image.fromarray(photo(24, 32, seed=3)).convert("L").save(d / "c.png")
    return d


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (relative path -> digest)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(f"*{TMP_MARK}*")]


def colorize(model_run: Path, *args: str) -> int:
    return main(["colorize", *args, "--checkpoint", str(model_run)])


def one_line_error(capsys, *words: str) -> str:
    """The captured stderr is one error line (after any progress bar) with no traceback; returns it."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and "it/s]" not in ln and "%|" not in ln]
    assert len(lines) == 1, err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def grey(h: int, w: int, value: int = 128) -> np.ndarray:
    return np.full((h, w), value, dtype=np.uint8)
