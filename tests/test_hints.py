"""Colour hints: parsing, where a hint lands (resized and EXIF-rotated inputs), bad hints, simulated
training hints, global hints, the hint-taking model's zero start, the CLI and the edit session."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn as nn
from PIL import Image

from tinta import color, hints
from tinta.cli import main
from tinta.errors import TintaError
from tinta.heads import RegressionHead
from tinta.hints import Hint, as_hint, hint_planes, parse_color, parse_hint
from tinta.inference import Colorizer

from helpers import make_run, photo


class HintEcho(nn.Module):
    """A hint-taking 'model' whose a,b output is its hint planes' a,b: hinted squares take the hint's
    colour, the rest stays grey. Where the colour shows up is where the hint landed."""

    takes_hints = True

    def forward(self, x, g=None):  # x: (B, 4, h, w) -> (B, 2, h, w) normalised a,b
        return x[:, 1:3]


def echo(render_size=None) -> Colorizer:
    return Colorizer(HintEcho(), RegressionHead("huber"), render_size, "echo")


def ab_at(im: Image.Image, x: int, y: int) -> np.ndarray:
    rgb = torch.from_numpy(np.asarray(im.convert("RGB"))[y, x].copy()).float().view(3, 1, 1) / 255
    return color.rgb_to_lab(rgb)[1:, 0, 0].numpy()


RED = (200, 30, 30)
RED_AB = color.rgb_to_lab(torch.tensor(RED).float().view(3, 1, 1) / 255)[1:, 0, 0].numpy()


@pytest.mark.parametrize("text, want", [("120,80=#c03020", Hint(120, 80, (192, 48, 32))),
                                        ("0.5,7=c32", Hint(0.5, 7, (204, 51, 34))),
                                        (" 3 , 4 =#FFFFFF", Hint(3, 4, (255, 255, 255)))])
def test_parse_hint(text, want):
    assert parse_hint(text) == want
    assert parse_hint(str(want)) == want  # str() is the --hint form


@pytest.mark.parametrize("item", [(1, 2, (3, 4, 5)), [1, 2, "#030405"], {"x": 1, "y": 2, "color": "#030405"},
                                  "1,2=#030405", Hint(1, 2, (3, 4, 5))])
def test_every_hint_form_gives_the_same_hint(item):
    assert as_hint(item) == Hint(1, 2, (3, 4, 5))


@pytest.mark.parametrize("bad", ["120,80", "120=#fff", "a,80=#fff", "1,2=#ff", "1,2=red", "nan,2=#fff",
                                 "1,inf=#fff", (1, 2), (1, 2, (256, 0, 0)), (1, 2, (1.5, 0, 0)), {"x": 1}])
def test_bad_hints_are_named_in_the_error(bad):
    with pytest.raises(TintaError, match="hint"):
        as_hint(bad)


def test_parse_color():
    assert parse_color("#c03020") == (192, 48, 32) == parse_color((192, 48, 32))
    with pytest.raises(TintaError):
        parse_color("#12345")
    for bad in ((float("inf"), 0, 0), (float("nan"), 0, 0), (1e400, 0, 0), (0.5, 0, 0)):  # one line, no traceback
        with pytest.raises(TintaError, match="is not a colour"):
            parse_color(bad)


def test_hint_planes_scale_coordinates_to_the_render_size():
    planes = hint_planes([Hint(99, 10, RED)], size=(50, 100), render=(25, 50))  # half size
    ys, xs = planes[0, 2].nonzero(as_tuple=True)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (4, 6, 48, 49)  # 3x3 around (49, 5), clipped at the edge
    ab = color.denormalize_ab(planes[0, :2, 5, 49])
    assert np.allclose(ab.numpy(), RED_AB, atol=1e-4)
    assert planes[0, :2][:, planes[0, 2] == 0].abs().max() == 0


@pytest.mark.parametrize("render_size", [None, 20, 64])
def test_a_hint_shows_its_colour_at_its_place(render_size):
    c = echo(render_size)
    out = c(photo(48, 80), hints=[(60, 12, RED)])
    assert np.abs(ab_at(out, 60, 12) - RED_AB).max() < 6  # the hint's colour at the hint
    assert np.abs(ab_at(out, 10, 40)).max() < 2  # grey far from it


def test_hint_coordinates_follow_exif_rotation(tmp_path):
    arr = photo(40, 64)  # stored 64 wide, 40 high; shown rotated: 40 wide, 64 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    Image.fromarray(arr).save(tmp_path / "rot.jpg", exif=exif)
    c = echo()
    out = c(tmp_path / "rot.jpg", hints=[(30, 55, RED)])  # a point of the displayed picture
    assert out.size == (40, 64)
    assert np.abs(ab_at(out, 30, 55) - RED_AB).max() < 6
    with pytest.raises(TintaError, match="outside the picture"):
        c(tmp_path / "rot.jpg", hints=[(50, 10, RED)])  # inside the stored picture, outside the shown one


def test_hints_need_a_hint_taking_model():
    plain = Colorizer(nn.Conv2d(1, 2, 1), RegressionHead("huber"), None, "plain")
    with pytest.raises(TintaError, match="takes no point hints"):
        plain(photo(), hints=[(1, 1, RED)])
    plain(photo(), palette=["#c03020"])  # global hints work with any model


def test_simulated_training_hints():
    gen = torch.Generator().manual_seed(0)
    ab = torch.randn(6, 2, 32, 32) * 20
    counts = torch.tensor([0, 1, 5, 0, 30, 100])
    planes = hints.sample_hint_planes(ab, counts, gen)
    assert planes.shape == (6, 3, 32, 32)
    assert planes[0].abs().sum() == 0 and planes[3].abs().sum() == 0
    assert all(planes[i, 2].sum() > 0 for i in (1, 2, 4, 5))
    assert planes[1, 2].sum() <= max(hints.TRAIN_PATCHES) ** 2
    n = hints.train_hint_counts(4000, gen)
    assert 0.25 < (n == 0).float().mean() < 0.35 and n.max() < hints.MAX_TRAIN_HINTS


def test_global_hints():
    ab = torch.randn(2, 2, 16, 16) * 30
    g = hints.ab_histogram(ab)
    assert g.shape == (2, hints.GLOBAL_DIM)
    assert torch.allclose(g[:, :-1].sum(1), torch.ones(2)) and (g[:, -1] == 1).all()
    pal = hints.palette_ab(["#c03020", "#2050a0"])
    assert pal.shape == (1, 2, 1, 2)
    moved = hints.transfer_ab_stats(ab, pal)
    assert torch.allclose(moved.mean((2, 3)), pal.flatten(2).mean(2).expand(2, -1), atol=1e-3)


def test_guided_unet_starts_as_the_unet_it_grows_from():
    from tinta.models import create_model

    torch.manual_seed(0)
    unet = create_model("unet", 2, imagenet=False, width=8).eval()
    guided = create_model("guided-unet", 2, imagenet=False, width=8).eval()
    guided.load_state_dict(unet.state_dict(), strict=False)
    x = torch.rand(1, 1, 32, 32)
    planes = torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        want = unet(x)
        assert torch.equal(guided(torch.cat([x, 0 * planes], 1)), want)
        assert torch.allclose(guided(torch.cat([x, planes], 1), hints.ab_histogram(torch.rand(1, 2, 8, 8))), want)


def test_session_renders_what_a_full_call_renders():
    c = echo(16)
    pic = photo(40, 56)
    s = c.session(pic)
    for hs in ([], [(5, 5, RED)], [(5, 5, RED), (50, 30, (20, 40, 200))]):
        assert np.array_equal(np.asarray(s.render(hints=hs)), np.asarray(c(pic, hints=hs)))
    with pytest.raises(TintaError, match="outside"):
        s.render(hints=[(56, 0, RED)])


@pytest.fixture(scope="module")
def guided_run(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("runs") / "guided", model="guided-unet")


def test_cli_hints(tmp_path, guided_run, capsys):
    Image.fromarray(photo(40, 56)).save(tmp_path / "a.png")
    (tmp_path / "hints.json").write_text(json.dumps([{"x": 3, "y": 4, "color": "#c03020"}]))
    rc = main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--model", str(guided_run),
               "--hint", "10,20=#2050a0", "--hints", str(tmp_path / "hints.json"),
               "--summary", str(tmp_path / "s.json")])
    assert rc == 0 and (tmp_path / "out" / "a.png").is_file()
    summary = json.loads((tmp_path / "s.json").read_text())
    assert [h["color"] for h in summary["hints"]] == ["#c03020", "#2050a0"]
    # the summary gives the same hints back
    rc = main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out2"), "--model", str(guided_run),
               "--hints", str(tmp_path / "s.json"), "--summary", str(tmp_path / "s2.json")])
    assert rc == 0 and json.loads((tmp_path / "s2.json").read_text())["hints"] == summary["hints"]


def test_cli_hint_outside_a_picture_fails_that_picture(tmp_path, guided_run, capsys):
    Image.fromarray(photo(40, 56)).save(tmp_path / "a.png")
    rc = main(["colorize", str(tmp_path / "a.png"), "-o", str(tmp_path / "out"), "--model", str(guided_run),
               "--hint", "100,20=#2050a0"])
    assert rc == 1 and "hint 100,20=#2050a0 is outside the picture" in capsys.readouterr().out
    assert not (tmp_path / "out" / "a.png").exists()


def test_the_shipped_guided_model_follows_its_hints():
    """Real weights: a hinted colour shows up at the hint, different colours at different places."""
    from tinta.inference import cached_model
    from tinta.pretrained import EXAMPLES_DIR

    c = cached_model("guided")
    src = EXAMPLES_DIR / "chelsea.jpg"
    auto = c(src)
    colours = {(120, 150): (200, 40, 30), (330, 120): (40, 90, 210), (60, 260): (40, 170, 60)}
    out = c(src, hints=[(x, y, rgb) for (x, y), rgb in colours.items()])
    for (x, y), rgb in colours.items():
        want = color.rgb_to_lab(torch.tensor(rgb).float().view(3, 1, 1) / 255)[1:, 0, 0].numpy()
        got, before = ab_at(out, x, y), ab_at(auto, x, y)
        assert np.linalg.norm(got - want) < 0.5 * np.linalg.norm(before - want), (x, y, got, before, want)


def test_propagation_moves_colour_near_the_hint_and_along_lightness_only():
    ab = torch.zeros(1, 2, 40, 40)
    L = torch.full((1, 1, 40, 40), 30.0)
    L[..., 20:] = 90.0  # a bright right half: another object
    hint = Hint(5, 20, RED)
    out = hints.propagate_hints(ab, L, [hint], (40, 40))
    assert np.allclose(out[0, :, 20, 5].numpy(), RED_AB, rtol=0.02)  # the hint's colour at the hint (prior: 1%)
    assert out[0, :, 20, 12].norm() > 0.5 * np.linalg.norm(RED_AB)  # near it, same lightness: most of it
    assert out[0, :, 20, 25:].abs().max() < 1.0  # across the lightness edge: hardly any
    assert torch.equal(hints.propagate_hints(ab, L, [], (40, 40)), ab)


def test_onnx_export_of_a_hint_taking_model_takes_the_hints(tmp_path, guided_run):
    from tinta.export import export_onnx, load_onnx
    from tinta.inference import load_model

    c = load_model(str(guided_run))
    torch.manual_seed(1)
    with torch.no_grad():  # the untrained run ignores hints (zero start): give its hint layer weights
        c.model.hint_stem.weight.normal_()
    o = load_onnx(export_onnx(c, tmp_path / "g.onnx"))
    assert o.takes_hints
    pic, hs = photo(40, 56), [(10, 10, RED), (40, 30, (20, 40, 200))]
    with_onnx, with_torch = np.asarray(o(pic, hints=hs)), np.asarray(c(pic, hints=hs))
    assert np.abs(with_onnx.astype(int) - with_torch).max() <= 2
    assert not np.array_equal(np.asarray(o(pic)), with_onnx)  # the hints changed the model's answer
