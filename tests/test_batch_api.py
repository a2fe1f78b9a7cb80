"""The library call behind `tinta colorize` (tinta.batch.colorize_files), its options, and the one
render-size rule (tinta.inference.resolve_render_size)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import tinta
from tinta.batch import ColorizeOptions, colorize_files
from tinta.errors import TintaError
from tinta.inference import load_model, resolve_render_size

from helpers import make_run, photo


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("api") / "run")


@pytest.fixture
def pics(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    Image.fromarray(photo(seed=1)).save(d / "a.jpg")
    Image.fromarray(photo(seed=2)).save(d / "sub" / "b.png")
    (d / "broken.png").write_bytes(b"not a picture")
    return d


def test_colorize_files_gives_the_summary_the_cli_writes(run, pics, tmp_path):
    summary_file = tmp_path / "s.json"
    s = colorize_files([str(pics)], tmp_path / "out", ColorizeOptions(model=str(run), summary=str(summary_file)))
    assert (s.done, s.failed, s.inputs, s.ok) == (2, 1, 3, False)
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*")) == \
        ["a.jpg", "sub/b.png"]
    assert "broken.png" in s.failures[0]["input"]
    assert json.loads(summary_file.read_text()) == s.to_json()
    assert s.to_json()["done"] == 2 and s.to_json()["shard"] == "0/1"


def test_colorize_files_is_what_the_cli_runs(run, pics, tmp_path, capsys):
    from tinta.cli import main

    assert main(["colorize", str(pics), "-o", str(tmp_path / "cli"), "--model", str(run), "--format", "png"]) == 1
    s = colorize_files([str(pics)], tmp_path / "api", ColorizeOptions(model=str(run), format="png"))
    for p in (tmp_path / "api").rglob("*.png"):
        cli = tmp_path / "cli" / p.relative_to(tmp_path / "api")
        assert np.array_equal(np.asarray(Image.open(p)), np.asarray(Image.open(cli))), p
    assert f"colourized {s.done} of {s.inputs}" in capsys.readouterr().out


def test_a_loaded_model_gets_the_render_size_of_the_options(run, pics, tmp_path):
    c = load_model(str(run))
    s = colorize_files([str(pics / "a.jpg")], tmp_path / "o16", ColorizeOptions(render_size=16, format="png"),
                       colorizer=c)
    ref = load_model(str(run), render_size=16)(pics / "a.jpg")
    assert s.ok and np.array_equal(np.asarray(Image.open(tmp_path / "o16" / "a.png")), np.asarray(ref))
    assert c.render_size == 32  # the loaded model itself is left as it was
    with pytest.raises(TintaError, match="leave model unset"):
        colorize_files([str(pics)], tmp_path / "x", ColorizeOptions(model="vivid"), colorizer=c)


@pytest.mark.parametrize("options, words", [
    (dict(saturation=9), "saturation must be between 0 and 4"),
    (dict(render_size=8), "render size must be 0 (the full picture) or between 16 and 2048"),
    (dict(threads=0), "--threads must be at least 1"),
    (dict(format="heic"), "format 'heic' is none tinta writes"),
    (dict(onnx="m.onnx"), "add --backend onnx"),
])
def test_options_refuse_what_the_cli_refuses(options, words):
    with pytest.raises(TintaError, match=words.replace("(", r"\(").replace(")", r"\)")):
        ColorizeOptions(**options)


def test_ray_needs_its_runner(pics, tmp_path):
    with pytest.raises(TintaError, match="ray_runner"):
        colorize_files([str(pics)], tmp_path / "out", ColorizeOptions(ray="local"))
    assert not (tmp_path / "out").exists()


def test_render_size_rule():
    assert resolve_render_size(None, 112) == 112  # the model's own
    assert resolve_render_size(None, None) == 0  # a model that records none: the full picture
    assert resolve_render_size(0, 112) == 0 and resolve_render_size(64, 112) == 64
    assert resolve_render_size(None, 12) == 12  # what a model records is taken as it is (bounded when rendered)
    with pytest.raises(TintaError, match="render size must be"):
        resolve_render_size(8, 112)


def test_colorize_applies_render_size_to_a_loaded_model(run):
    c = load_model(str(run))
    small = np.asarray(tinta.colorize(photo(64, 96), model=c, render_size=16))
    assert np.array_equal(small, np.asarray(load_model(str(run), render_size=16)(photo(64, 96))))
    assert c.at_render_size(None) is c and c.at_render_size(32) is c and c.at_render_size(16).model is c.model


def test_demo_colorizes_the_examples_through_the_library(run, tmp_path, capsys):
    from tinta.cli import main
    from tinta.cli.demo import EXAMPLES

    assert main(["demo", "-o", str(tmp_path / "demo"), "--model", str(run)]) == 0
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == sorted(p.name for p in EXAMPLES.glob("*.jpg"))
    assert "results:" in capsys.readouterr().out


def test_the_public_api_offers_it():
    assert tinta.colorize_files is colorize_files and tinta.ColorizeOptions is ColorizeOptions
    assert {"colorize_files", "ColorizeOptions"} <= set(tinta.__all__)


def test_the_cli_hands_ray_runs_to_the_ray_runner(run, pics, tmp_path, monkeypatch, capsys):
    """`--ray` goes through colorize_files with tinta.distributed's runner (its Ray parts stood in for by
    the local ones here; tests/test_ray.py runs a real cluster)."""
    import contextlib

    from tinta import batch, distributed
    from tinta.cli import main

    seen = []
    monkeypatch.setattr(distributed, "session", lambda o: seen.append(o) or contextlib.nullcontext())
    monkeypatch.setattr(distributed, "on_ray", lambda c, o, r: seen.append((o, r)) or batch.in_process(c, o))
    assert main(["colorize", str(pics), "-o", str(tmp_path / "out"), "--model", str(run), "--ray", "--chunk", "2",
                 "--threads", "1"]) == 1
    assert "colourized 2 of 3" in capsys.readouterr().out
    (ray_options, (job_options, again)) = seen
    assert (ray_options.address, ray_options.chunk, ray_options.threads) == ("auto", 2, 1) and again is ray_options
    assert not job_options.video_progress  # a clip is one worker's task: no per-clip bars
