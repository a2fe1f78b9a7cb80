"""Reference photos (`--reference`, ``reference=``) of every kind users have: every picture mode reads,
anything else is one clear line; the reference and the inputs stay byte-identical. Property-based over
the bytes of a reference file."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from faults.conftest import colorize, one_line_error, snapshot, temp_files
from tinta.errors import TintaError
from tinta.inference import load_model

from helpers import photo, write_every_mode

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny pictures: one thread is faster

MODES = ["grey.png", "grey_alpha.png", "colour.jpg", "rgba.png", "grey16.png", "cmyk.jpg", "palette.png",
         "palette.gif", "rotated.jpg", "with_icc.png"]


@pytest.fixture(scope="module")
def refs(tmp_path_factory):
    d = tmp_path_factory.mktemp("refs")
    files = write_every_mode(d)
    Image.fromarray(photo(1, 1)).save(d / "one-pixel.png")
    (d / "empty.jpg").write_bytes(b"")
    (d / "notes.png").write_text("not a picture")
    buf = io.BytesIO()
    Image.new("1", (20_000, 9_500)).save(buf, format="PNG")  # 190 MP in a few KB
    (d / "bomb.png").write_bytes(buf.getvalue())
    return {**files, **{p.name: p for p in d.iterdir()}}


@pytest.fixture(scope="module")
def colorizer(model_run):
    return load_model(str(model_run))


def test_a_reference_in_any_mode_steers_the_colours(colorizer, refs):
    before = snapshot(refs["grey.png"].parent)
    automatic = np.asarray(colorizer(photo(16, 16)))
    for name in [*MODES, "one-pixel.png"]:
        out = np.asarray(colorizer(photo(16, 16), reference=refs[name]))
        assert out.shape == (16, 16, 3) and not np.array_equal(out, automatic), name
    assert snapshot(refs["grey.png"].parent) == before


def test_reference_through_the_cli(model_run, pics, refs, tmp_path):
    before = snapshot(refs["rgba.png"].parent), snapshot(pics)
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out"), "--reference", str(refs["rgba.png"])) == 0
    assert len(list((tmp_path / "out").iterdir())) == 3
    assert (snapshot(refs["rgba.png"].parent), snapshot(pics)) == before


@pytest.mark.parametrize("name, words", [
    ("corrupt.jpg", "not a readable image"),
    ("empty.jpg", "not a readable image"),
    ("notes.png", "not a readable image"),
    ("bomb.png", "too many pixels"),
])
def test_a_reference_that_is_no_picture_is_one_line(model_run, pics, refs, tmp_path, capsys, name, words):
    before = snapshot(pics)
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out"), "--reference", str(refs[name])) == 2
    line = one_line_error(capsys, words)
    assert line.count(name) == 1
    assert snapshot(pics) == before and not temp_files(tmp_path)


def test_an_input_may_be_its_own_reference(model_run, pics, tmp_path):
    before = snapshot(pics)
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out"), "--reference", str(pics / "a.jpg")) == 0
    assert snapshot(pics) == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_reference_bytes_read_or_are_refused_in_one_line(colorizer, refs, tmp_path, data):
    """Whole files, cut short at any byte, or with bytes changed: a picture or one TintaError line."""
    whole = refs[data.draw(st.sampled_from(MODES))].read_bytes()
    cut = data.draw(st.integers(0, len(whole)))
    raw = bytearray(whole[:cut])
    for _ in range(data.draw(st.integers(0, 3))):
        if raw:
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path / "ref.bin"
    path.write_bytes(bytes(raw))
    try:
        out = colorizer(photo(16, 16), reference=path)
    except TintaError as e:
        assert "\n" not in str(e) and str(path) in str(e)
        return
    assert np.asarray(out).shape == (16, 16, 3)
