import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from tinta.cli import main
from tinta.errors import TintaError
from tinta.imageio import read_picture
from tinta.inference import load_model, upsample_rows

from helpers import make_run, photo, write_every_mode


def test_strip_upsampling_equals_full_interpolation():
    small = torch.randn(1, 2, 7, 9)
    full = F.interpolate(small, size=(50, 61), mode="bilinear", align_corners=False)
    strips = torch.cat([upsample_rows(small, 50, 61, y, min(50, y + 16)) for y in range(0, 50, 16)], dim=2)
    assert torch.allclose(strips, full, atol=1e-5)


def test_output_keeps_full_resolution_lightness(tmp_path):
    c = load_model(str(make_run(tmp_path / "run")), render_size=16)
    rgb = photo(64, 96)
    out = np.asarray(c(rgb))
    assert out.shape == (64, 96, 3)
    # L of the result equals L of the input: the model only chose the chroma
    L_in, L_out = read_picture(rgb).L, read_picture(out).L
    assert np.abs(L_in - L_out).mean() < 1.0


def test_every_mode_is_read(tmp_path):
    files = write_every_mode(tmp_path)
    for name, path in files.items():
        if name == "corrupt.jpg":
            with pytest.raises(TintaError, match="not a readable image"):
                read_picture(path)
            continue
        pic = read_picture(path)
        assert pic.L.dtype == np.float32 and 0 <= pic.L.min() and pic.L.max() <= 100.01
        assert pic.L.shape == ((56, 40) if name == "rotated.jpg" else (40, 56)), name
    assert read_picture(files["rgba.png"]).alpha is not None
    assert read_picture(files["grey_alpha.png"]).alpha is not None
    assert read_picture(files["with_icc.png"]).icc_profile
    # 16-bit keeps its precision: L is not rounded to 8-bit levels
    L16 = read_picture(files["grey16.png"]).L
    assert np.abs(L16 - read_picture(files["grey.png"]).L).max() < 0.05


def test_cli_folder_of_every_mode_with_a_corrupt_file(tmp_path, capsys):
    files = write_every_mode(tmp_path / "in")
    run = make_run(tmp_path / "run")
    rc = main(["colorize", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--checkpoint", str(run),
               "--summary", str(tmp_path / "summary.json")])
    out = capsys.readouterr().out
    assert rc == 1  # the corrupt file failed
    assert "colourized 10 of 11" in out and "corrupt.jpg" in out
    for name in files:
        if name != "corrupt.jpg":
            assert (tmp_path / "out" / name).exists(), name
    assert Image.open(tmp_path / "out" / "rgba.png").mode == "RGBA"
    assert Image.open(tmp_path / "out" / "with_icc.png").info.get("icc_profile")
    assert Image.open(tmp_path / "out" / "rotated.jpg").size == (40, 56)
    assert not list((tmp_path / "out").glob(".*tmp*"))  # no half-written files


def test_cli_never_overwrites_inputs(tmp_path, capsys):
    Image.fromarray(photo()).save(tmp_path / "a.png")
    run = make_run(tmp_path / "run")
    before = (tmp_path / "a.png").read_bytes()
    rc = main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path), "--checkpoint", str(run)])
    assert rc == 1 and "overwrite an input" in capsys.readouterr().out
    assert (tmp_path / "a.png").read_bytes() == before


def test_cli_format_glob_and_missing_input(tmp_path, capsys):
    for i in range(3):
        Image.fromarray(photo(seed=i)).save(tmp_path / f"p{i}.jpg")
    run = make_run(tmp_path / "run")
    rc = main(["colorize", str(tmp_path / "p*.jpg"), "-o", str(tmp_path / "o"), "--checkpoint", str(run),
               "--format", "png"])
    assert rc == 0 and sorted(p.name for p in (tmp_path / "o").iterdir()) == ["p0.png", "p1.png", "p2.png"]
    assert main(["colorize", str(tmp_path / "nothing*.jpg"), "-o", str(tmp_path / "o2"),
                 "--checkpoint", str(run)]) == 2
    assert "no pictures to colourize" in capsys.readouterr().err


def test_saturation_scales_colourfulness(tmp_path):
    from tinta.evaluate.metrics import colourfulness

    c = load_model(str(make_run(tmp_path / "run")), render_size=None)
    cf = [colourfulness(torch.from_numpy(np.array(c(photo(), saturation=s))).permute(2, 0, 1)[None]).item()
          for s in (0.0, 1.0, 2.0)]
    assert cf[0] < 1.0 and cf[0] < cf[1] < cf[2]


def test_api_rejects_bad_arrays():
    with pytest.raises(TintaError):
        read_picture(np.zeros((4, 4, 5), dtype=np.uint8))
    with pytest.raises(TintaError):
        read_picture(np.zeros((4, 4), dtype=np.int64))


def test_onnx_export_agrees_with_pytorch(tmp_path):
    pytest.importorskip("onnxruntime")
    from tinta.export import OnnxModel, export_onnx

    c = load_model(str(make_run(tmp_path / "run", model="small-unet")))
    path = export_onnx(c, tmp_path / "m.onnx")
    onnx_model = OnnxModel(path)
    for shape in [(1, 1, 64, 64), (2, 1, 48, 80)]:  # dynamic batch, height, width
        x = torch.rand(*shape)
        with torch.no_grad():
            ab_torch = c.head.predict(c.model(x))
        ab_onnx = c.head.predict(onnx_model(x))
        assert (ab_torch - ab_onnx).abs().max() < 1e-3


def test_cli_onnx_backend(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    Image.fromarray(photo()).save(tmp_path / "a.png")
    run = make_run(tmp_path / "run")
    assert main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "o"), "--checkpoint", str(run),
                 "--backend", "onnx"]) == 0
    assert "(onnx)" in capsys.readouterr().out
