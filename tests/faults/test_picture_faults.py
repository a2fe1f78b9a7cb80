"""Pictures users really have, handed to the reader and to `tinta.colorize`: float, NaN, empty,
thin, grey-profiled, every mode; and files that only pretend to be what tinta loads."""

from __future__ import annotations

import io
import pickle
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from faults.conftest import colorize, one_line_error, snapshot, temp_files
from tinta.errors import TintaError
from tinta.imageio import read_picture
from tinta.inference import Colorizer, load_model, render_shape

from helpers import photo


@pytest.fixture(scope="module")
def c(tmp_path_factory) -> Colorizer:
    from helpers import make_run

    return load_model(str(make_run(tmp_path_factory.mktemp("m") / "run")), render_size=16)


def _L(x) -> float:
    return float(read_picture(x).L.mean())


def test_float_pictures_follow_the_documented_rule(tmp_path):
    g = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    assert abs(_L(g) - _L(g * 255)) < 0.5  # [0, 1] and 0..255 float data are the same picture
    assert abs(_L(g) - _L((g * 255).round().astype(np.uint8))) < 0.5
    Image.fromarray(g * 255, mode="F").save(tmp_path / "f.tif")  # a float TIFF in 0..255
    assert abs(_L(tmp_path / "f.tif") - _L(g)) < 0.5 and _L(tmp_path / "f.tif") < 90  # not all white
    assert abs(_L(Image.fromarray(g * 255).convert("F")) - _L(g)) < 0.5


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_pixels_are_refused(bad):
    g = np.full((4, 4, 3), 0.5, np.float32)
    g[1, 1, 0] = bad
    with pytest.raises(TintaError, match="NaN or infinite"):
        read_picture(g)


@pytest.mark.parametrize("shape", [(0, 0), (0, 5), (5, 0, 3)])
def test_zero_size_arrays(shape, c):
    with pytest.raises(TintaError, match="empty"):
        c(np.zeros(shape, np.uint8))
    import tinta

    with pytest.raises(TintaError, match="empty"):
        tinta.colorize(np.zeros(shape, np.uint8), model=c)


@pytest.mark.parametrize("s", [float("nan"), -1.0, 1e9, "lots"])
def test_api_saturation_is_validated(c, s):
    import tinta

    with pytest.raises(TintaError, match="saturation"):
        tinta.colorize(photo(8, 8), model=c, saturation=s)


def test_render_shape_is_bounded_for_thin_and_huge_pictures():
    for h, w in [(1, 5000), (5000, 1), (1, 1000), (3, 100_000), (6000, 4000), (224, 224)]:
        rh, rw = render_shape(h, w, 112)
        assert rh * rw <= 4_000_000 and max(rh, rw) <= 2048, (h, w, rh, rw)
    assert render_shape(224, 224, 112) == (112, 112) and render_shape(30, 40, 30) == (30, 40)


def test_a_thin_picture_costs_what_a_small_one_costs(tmp_path, model_run, capsys):
    Image.fromarray(np.full((1, 5000), 90, np.uint8)).save(tmp_path / "thin.png")  # 85 bytes, once 9 minutes
    t0 = time.perf_counter()
    assert colorize(model_run, str(tmp_path / "thin.png"), "-o", str(tmp_path / "out")) == 0
    assert time.perf_counter() - t0 < 30  # generous: a bound, not a benchmark (it takes well under a second)
    assert Image.open(tmp_path / "out" / "thin.png").size == (5000, 1)


def test_grey_icc_profile_is_not_copied_into_rgb_output(tmp_path, c):
    grey_profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()  # any non-RGB profile
    grey_profile = grey_profile[:16] + b"GRAY" + grey_profile[20:]
    Image.fromarray(photo(16, 16)).convert("L").save(tmp_path / "g.png", icc_profile=grey_profile)
    assert read_picture(tmp_path / "g.png").icc_profile is None
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.fromarray(photo(16, 16)).save(tmp_path / "rgb.png", icc_profile=srgb)
    assert c(tmp_path / "rgb.png").info.get("icc_profile") == srgb  # an RGB profile is kept


class Boom:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/tinta-pwned-by-pickle",))


def test_malicious_pickles_are_never_executed(tmp_path, model_run, capsys):
    """A pickle offered as a picture, an ONNX model, a run folder's files, a palette and bins."""
    import shutil

    from tinta.cli import main

    evil = pickle.dumps(Boom())
    (tmp_path / "x.png").write_bytes(evil)
    (tmp_path / "m.onnx").write_bytes(evil)
    run = tmp_path / "run"
    shutil.copytree(model_run, run)
    (run / "best.safetensors").write_bytes(evil)
    pal = tmp_path / "pal.json"
    pal.write_bytes(evil)
    ok = tmp_path / "ok.png"
    Image.fromarray(photo(8, 8)).save(ok)
    out = str(tmp_path / "out")
    assert colorize(model_run, str(tmp_path / "x.png"), "-o", out) == 1  # one bad file: reported, batch goes on
    assert main(["colorize", str(ok), "-o", out, "--backend", "onnx", "--onnx", str(tmp_path / "m.onnx")]) == 2
    assert main(["colorize", str(ok), "-o", out, "--checkpoint", str(run)]) == 2
    (run / "config.json").write_bytes(evil)
    assert main(["colorize", str(ok), "-o", out, "--checkpoint", str(run)]) == 2
    assert main(["train", "--model", "small-unet", "--head", "palette", "--palette", str(pal), "--dataset", "folder",
                 "--data-root", str(tmp_path), "--out", str(tmp_path / "r2")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    import os

    assert not os.path.exists("/tmp/tinta-pwned-by-pickle")


MODES = ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I", "I;16", "F", "YCbCr", "HSV"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(MODES), h=st.integers(1, 40), w=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_any_mode_and_size_colourizes_with_its_lightness_kept(c, mode, h, w, seed):
    rgb = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    im = im.convert("L").convert(mode) if mode in ("I", "I;16", "F") else im.convert(mode)
    out = c(im)
    assert out.size == (w, h) and out.mode in ("RGB", "RGBA")
    assert (out.mode == "RGBA") == (mode in ("LA", "RGBA"))
    L_in, L_out = read_picture(im).L, read_picture(np.asarray(out.convert("RGB"))).L
    # the model chose only the chroma (random chroma clipped to the gamut moves L a little at black and white)
    assert np.abs(L_in - L_out).mean() < 5


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(dtype=st.sampled_from(["uint8", "uint16", "float32", "float64", "bool"]),
       shape=st.sampled_from([(5, 7), (5, 7, 1), (5, 7, 3), (5, 7, 4), (1, 1), (3, 1, 3)]),
       scale=st.sampled_from([1.0, 255.0]))
def test_any_numpy_array_reads_or_is_refused_clearly(c, dtype, shape, scale):
    rng = np.random.default_rng(0)
    if dtype == "bool":
        arr = rng.random(shape) > 0.5
    elif dtype.startswith("float"):
        arr = (rng.random(shape) * scale).astype(dtype)
    else:
        arr = rng.integers(0, np.iinfo(dtype).max, shape, dtype=dtype)
    pic = read_picture(arr)
    assert pic.L.shape == shape[:2] and np.isfinite(pic.L).all() and 0 <= pic.L.min() and pic.L.max() <= 100.01
    assert np.asarray(c(arr)).shape[:2] == shape[:2]


def test_decompression_bomb_is_a_clear_error(tmp_path):
    buf = io.BytesIO()
    Image.new("1", (20_000, 9_500)).save(buf, format="PNG")  # 190 MP, over twice Pillow's limit: a few KB
    (tmp_path / "bomb.png").write_bytes(buf.getvalue())
    with pytest.raises(TintaError, match="too many pixels|not a readable image"):
        read_picture(tmp_path / "bomb.png")


def test_export_onto_a_folder_is_refused_without_leftovers(tmp_path, model_run, capsys):
    from tinta.cli import main

    (tmp_path / "dir.onnx").mkdir()
    assert main(["export", "onnx", "--model", str(model_run), "--out", str(tmp_path / "dir.onnx")]) == 2
    one_line_error(capsys, "is a folder")
    assert list(tmp_path.iterdir()) == [tmp_path / "dir.onnx"] and not list((tmp_path / "dir.onnx").iterdir())


def test_export_never_replaces_a_file_that_is_not_a_tinta_onnx(tmp_path, model_run, capsys):
    """`tinta export onnx --out keep.jpg` used to replace the photo (exit 0)."""
    from tinta.cli import main

    export = ["export", "onnx", "--model", str(model_run), "--out"]
    Image.fromarray(photo(seed=4)).save(tmp_path / "keep.jpg")
    (tmp_path / "notes.onnx").write_text("my notes, not a model")
    before = snapshot(tmp_path)
    for name in ("keep.jpg", "notes.onnx"):
        assert main([*export, str(tmp_path / name)]) == 2
        one_line_error(capsys, "exists and is not an ONNX file exported by tinta")
    assert main([*export, "/dev/null"]) == 2
    one_line_error(capsys, "is a device, not a regular file")
    assert snapshot(tmp_path) == before and not temp_files(tmp_path)
    assert main([*export, str(tmp_path / "m.onnx")]) == 0 and main([*export, str(tmp_path / "m.onnx")]) == 0
    assert snapshot(tmp_path).keys() == before.keys() | {"m.onnx"}  # its own export is replaced
