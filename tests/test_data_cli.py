"""``tinta data info`` and the CLI frame, run in process."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tinta.cli import main

from data_helpers import make_tar_of_contents, write_cifar_python, write_image_folder


def test_help_exits_zero(capsys):
    assert main(["--help"]) == 0  # main returns argparse's exit status rather than raising SystemExit
    assert "data" in capsys.readouterr().out


def test_data_alone_prints_help(capsys):
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "info" in out and "download" in out


def test_info_cifar10(tmp_path, capsys):
    d = write_cifar_python(tmp_path)
    assert main(["data", "info", "--dataset", "cifar10", "--data-root", str(d), "--classes", "horse", "3"]) == 0
    out = capsys.readouterr().out
    assert "train: 20 images, 32x32" in out and "test: 4 images, 32x32" in out
    assert "classes: 2 of 10: cat 10, horse 10" in out


def test_info_folder_splits_and_skips(tmp_path, capsys):
    src = write_image_folder(tmp_path / "f", splits=("train", "val"), classes=("a", "b"), per_class=2, size=20)
    Image.fromarray(np.full((20, 20, 3), 99, np.uint8)).save(src / "train" / "a" / "grey.png")
    (src / "val" / "b" / "bad.png").write_bytes(b"junk")
    arc = make_tar_of_contents(src, tmp_path / "f.tar.gz")
    assert main(["data", "info", "--dataset", "folder", "--data-root", str(arc), "--size", "16"]) == 0
    out = capsys.readouterr().out
    assert "train: 5 images found, 4 kept, 16x16" in out and "val: 5 images found, 4 kept, 16x16" in out
    assert "skipped: near_grey 1, corrupt 0" in out and "skipped: near_grey 0, corrupt 1" in out


@pytest.mark.parametrize("dataset", ["cifar10", "folder", "lab-npy"])
def test_missing_root_is_one_line_exit_2(tmp_path, capsys, dataset):
    missing = tmp_path / "nowhere"
    assert main(["data", "info", "--dataset", dataset, "--data-root", str(missing)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tinta data: error: data root") and str(missing) in err
    assert "\n" not in err and "Traceback" not in err and "expected" in err


def test_bad_class_is_one_line(tmp_path, capsys):
    d = write_cifar_python(tmp_path)
    assert main(["data", "info", "--dataset", "cifar10", "--data-root", str(d), "--classes", "zebra"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown class 'zebra'" in err and "\n" not in err
