"""Colour hints, palettes and reference photos as users give them, in the CLI and the API: one limit
and one rule for both (the library's), a clear one-line error, inputs byte-identical, nothing left
behind; property-based over hint lists, hint files and palettes."""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinta
from faults.conftest import colorize, one_line_error, snapshot, temp_files
from tinta.errors import TintaError
from tinta.hints import (
    MAX_HINTS,
    MAX_HINTS_FILE_BYTES,
    Hint,
    as_hints,
    as_palette,
    displayed_to_stored,
    parse_hint,
    parse_palette,
    read_hints,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny pictures: one thread is faster

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _hints_file(tmp_path, n: int):
    path = tmp_path / f"hints-{n}.json"
    path.write_text(json.dumps([{"x": 1, "y": 1, "color": "#c03020"}] * n))
    return path


def _cli_cases(tmp_path):
    """(extra arguments, words of the one-line error) for `tinta colorize`."""
    (tmp_path / "a-folder").mkdir()
    os.mkfifo(tmp_path / "pipe.jpg")
    big = tmp_path / "big.json"
    big.write_bytes(b"[" + b" " * MAX_HINTS_FILE_BYTES + b"]")  # valid JSON, one byte over the limit
    many = ["--hint", "1,1=#c03020"] * (MAX_HINTS + 1)
    return [
        (["--hints", "/dev/zero"], "larger than 8 MB"),
        (["--hints", str(big)], "larger than 8 MB"),
        (["--hints", str(tmp_path / "a-folder")], "is a folder"),
        (["--hints", str(_hints_file(tmp_path, MAX_HINTS + 1))], f"more than {MAX_HINTS}"),
        (many, f"more than {MAX_HINTS}"),
        (["--hints", str(_hints_file(tmp_path, MAX_HINTS)), "--hint", "1,1=#c03020"], f"more than {MAX_HINTS}"),
        (["--palette", ",,,"], "the palette is empty"),
        (["--palette", ""], "the palette is empty"),
        (["--palette", " , "], "the palette is empty"),
        (["--reference", str(tmp_path / "a-folder")], "is a folder, not a file"),
        (["--reference", str(tmp_path / "pipe.jpg")], "is a FIFO (named pipe), not a regular file"),
    ]


CLI_CASE_IDS = ["dev-zero", "over-8-MB", "hints-folder", "501-in-file", "501-flags", "500-plus-1", "commas",
                "empty-palette", "blank-palette", "reference-folder", "reference-fifo"]


@pytest.mark.parametrize("case", range(len(CLI_CASE_IDS)), ids=CLI_CASE_IDS)
def test_bad_hints_palettes_and_references_are_one_line_errors(model_run, pics, tmp_path, capsys, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    extra, words = _cli_cases(tmp_path)[case]
    before = snapshot(pics)
    assert colorize(model_run, str(pics), "-o", str(tmp_path / "out"), *extra) == 2
    one_line_error(capsys, words)
    assert snapshot(pics) == before and not temp_files(tmp_path)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_palette_with_spaces_is_the_same_palette(model_run, pics, tmp_path):
    """One rule for the CLI, the API and the server: commas and/or spaces between colours."""
    a, b = tmp_path / "a", tmp_path / "b"
    assert colorize(model_run, str(pics), "-o", str(a), "--palette", "#c03020,#2050a0") == 0
    assert colorize(model_run, str(pics), "-o", str(b), "--palette", "#c03020 , #2050a0,") == 0
    assert snapshot(a) == snapshot(b)


def test_api_takes_the_cli_palette_string(model_run, pics):
    """`palette='#c03020,#2050a0'` used to be split into characters: "'#' is not a colour"."""
    as_text = tinta.colorize(pics / "a.jpg", model=str(model_run), palette="#c03020,#2050a0")
    as_list = tinta.colorize(pics / "a.jpg", model=str(model_run), palette=["#c03020", (32, 80, 160)])
    assert np.array_equal(np.asarray(as_text), np.asarray(as_list))
    with pytest.raises(TintaError, match="the palette is empty"):
        tinta.colorize(pics / "a.jpg", model=str(model_run), palette=",,,")
    with pytest.raises(TypeError, match="palette must be a string like '#c03020,#2050a0' or a list of colours"):
        tinta.colorize(pics / "a.jpg", model=str(model_run), palette=12)


def test_api_refuses_a_hints_string_naming_the_form(model_run, pics):
    for wrong in ("120,80=#c03020", b"[]", {"x": 1, "y": 1, "color": "#c03020"}):
        with pytest.raises(TypeError, match=r"hints must be a list of hints such as \[\(120, 80, '#c03020'\)\]"):
            tinta.colorize(pics / "a.jpg", model=str(model_run), hints=wrong)


def test_api_caps_the_hint_count_before_parsing_any(model_run, pics):
    """1.5 M hints used to run 48 s, reach 2.9 GB and fail with a raw 'tried to allocate 28 GB'."""
    many = [(1, 1, (192, 48, 32))] * 1_500_000
    t0 = time.perf_counter()
    with pytest.raises(TintaError, match=f"too many point hints \\(more than {MAX_HINTS}\\)"):
        tinta.colorize(pics / "a.jpg", model=str(model_run), hints=many)
    with pytest.raises(TintaError, match="too many point hints"):
        as_hints(iter(many))  # an endless or huge iterable is never read past the limit
    assert time.perf_counter() - t0 < 5
    assert len(as_hints(many[:MAX_HINTS])) == MAX_HINTS


# ---- property-based: whatever comes in, a list of good hints / colours or a TintaError / TypeError

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(max_size=12), st.sampled_from(["#c03020", "c32", "#C03020", "1e3", "nan", "inf"]))
_hint_items = st.one_of(
    _scalars,
    st.tuples(_scalars, _scalars, st.one_of(_scalars, st.tuples(_scalars, _scalars, _scalars))),
    st.fixed_dictionaries({"x": _scalars, "y": _scalars, "color": _scalars}),
    st.builds(lambda x, y, c: f"{x},{y}={c}", _scalars, _scalars, _scalars),
    st.lists(_scalars, max_size=4),
)


def _good(hints: list[Hint]) -> bool:
    return all(math.isfinite(h.x) and math.isfinite(h.y) and len(h.rgb) == 3 and all(0 <= v <= 255 for v in h.rgb)
               for h in hints)


@FAST
@given(st.lists(_hint_items, max_size=6))
def test_any_hint_list_parses_or_is_refused_clearly(items):
    try:
        hints = as_hints(items)
    except (TintaError, TypeError) as e:
        assert "\n" not in str(e)
        return
    assert len(hints) == len(items) and _good(hints)


@FAST
@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.tuples(*[st.integers(0, 255)] * 3))
def test_a_hint_written_as_text_reads_back(x, y, rgb):
    h = Hint(x, y, rgb)
    back = parse_hint(str(h))
    assert back.rgb == rgb and back.x == pytest.approx(x, rel=1e-5, abs=1e-5) and back.y == pytest.approx(y, rel=1e-5,
                                                                                                          abs=1e-5)
    assert as_hints([h.to_json()]) == [h]


@FAST
@given(st.binary(max_size=200) | st.builds(lambda v: json.dumps(v).encode(), st.recursive(
    _scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from(["hints", "x", "y", "color"]), c),
    max_leaves=8)))
def test_any_hints_file_reads_or_is_refused_in_one_line(tmp_path, data):
    path = tmp_path / "h.json"
    path.write_bytes(data)
    try:
        hints = read_hints(path)
    except (TintaError, TypeError) as e:
        assert "\n" not in str(e)
        return
    assert _good(hints)


_colour = st.tuples(*[st.integers(0, 255)] * 3)
_sep = st.sampled_from([",", " ", ", ", " ,", ",,", "\t", "\n", " , , "])


@FAST
@given(st.lists(_colour, min_size=1, max_size=8), st.lists(_sep, min_size=9, max_size=9), _sep, _sep)
def test_a_palette_text_reads_back_with_any_separators(colours, seps, lead, tail):
    text = lead + "".join(f"#{r:02x}{g:02x}{b:02x}" + s for (r, g, b), s in zip(colours, seps)) + tail
    assert parse_palette(text) == as_palette(text) == as_palette([f"#{r:02x}{g:02x}{b:02x}" for r, g, b in colours])
    assert as_palette(text) == colours


@FAST
@given(st.one_of(st.text(max_size=30), st.lists(_scalars, max_size=5), st.lists(st.tuples(_scalars, _scalars,
                                                                                           _scalars), max_size=3)))
def test_any_palette_reads_or_is_refused_in_one_line(palette):
    try:
        colours = as_palette(palette)
    except (TintaError, TypeError) as e:
        assert "\n" not in str(e)
        return
    assert colours and all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in colours)


@FAST
@given(st.integers(1, 40), st.integers(1, 40), st.sampled_from([0, 90, 180, 270, -90, -180, 360]), st.data())
def test_displayed_hints_land_on_the_same_stored_pixel(w, h, rotation, data):
    """A phone video's frames are stored unrotated; the viewer shows np.rot90(stored, rotation // 90)."""
    stored = np.arange(w * h).reshape(h, w)
    shown = np.rot90(stored, rotation // 90)
    y, x = data.draw(st.integers(0, shown.shape[0] - 1)), data.draw(st.integers(0, shown.shape[1] - 1))
    (s,) = displayed_to_stored([Hint(x, y, (0, 0, 0))], w, h, rotation)
    assert stored[int(s.y), int(s.x)] == shown[y, x]
    with pytest.raises(TintaError, match=f"outside the picture \\({shown.shape[1]}x{shown.shape[0]} pixels\\)"):
        displayed_to_stored([Hint(shown.shape[1], 0, (0, 0, 0))], w, h, rotation)
