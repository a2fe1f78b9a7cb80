"""The retrieved colour prior: index lookups, the file round trip, the CLI and how a guided run uses it."""

import pytest
import torch

from tinta.cli import main
from tinta.errors import TintaError
from tinta.hints import GLOBAL_DIM
from tinta.prior import PRIOR_FILE, ColourIndex, PriorOptions

from helpers import make_run, tiny_image_folder


def _index(n=5, d=4, k=1):
    keys = torch.nn.functional.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(0)), dim=1)
    hists = torch.softmax(torch.randn(n, GLOBAL_DIM - 1, generator=torch.Generator().manual_seed(1)), 1)
    return ColourIndex(keys.half(), hists.half(), k)


def test_the_nearest_photo_gives_its_own_histogram():
    idx = _index()
    g = idx(3.0 * idx.keys[2:4].float())  # a scaled key: cosine similarity finds the same photo
    assert g.shape == (2, GLOBAL_DIM) and torch.all(g[:, -1] == 1)
    assert torch.allclose(g[:, :-1], idx.hists[2:4].float() / idx.hists[2:4].float().sum(1, keepdim=True), atol=1e-6)


def test_k_nearest_are_averaged_and_sum_to_one():
    g = _index(k=3)(torch.randn(4, 4))
    assert torch.allclose(g[:, :-1].sum(1), torch.ones(4), atol=1e-5)


def test_bad_indexes_and_options_are_refused(tmp_path):
    with pytest.raises(TintaError, match="k must be"):
        ColourIndex(torch.zeros(2, 4), torch.zeros(2, GLOBAL_DIM - 1), k=3)
    with pytest.raises(TintaError, match="not a colour index"):
        ColourIndex(torch.zeros(2, 4), torch.zeros(2, 7))
    with pytest.raises(TintaError, match="--data-root"):
        PriorOptions()
    with pytest.raises(TintaError, match="--k"):
        PriorOptions(data_root=("x",), count=4, k=5)
    (tmp_path / "bad.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(TintaError, match="not a tinta colour index"):
        ColourIndex.load(tmp_path / "bad.safetensors")


def test_save_load_round_trip(tmp_path):
    idx = _index(k=2)
    idx.save(tmp_path / "p.safetensors")
    back = ColourIndex.load(tmp_path / "p.safetensors")
    assert back.k == 2 and torch.equal(back.keys, idx.keys) and torch.equal(back.hists, idx.hists)


def test_a_guided_run_uses_its_prior_only_when_no_colour_is_given(tmp_path, capsys):
    from tinta.runs import load_run

    data, run = tiny_image_folder(tmp_path / "data"), make_run(tmp_path / "guided", model="guided-unet")
    assert main(["prior", str(run), "--data-root", str(data), "--dataset", "cifar10", "--size", "32",
                 "--count", "12", "--k", "2"]) == 0
    assert "colour index" in capsys.readouterr().out and (run / PRIOR_FILE).is_file()
    model, _, _ = load_run(run)
    assert isinstance(model.prior, ColourIndex) and len(model.prior.keys) == 12
    torch.nn.init.normal_(model.global_fc.weight)  # an untrained model ignores global hints (zero-initialised)
    x = torch.cat([torch.rand(1, 1, 32, 32), torch.zeros(1, 3, 32, 32)], 1)
    with torch.no_grad():
        with_prior = model(x)
        g = model.prior(model.encode(x)[-1].mean((2, 3)))
        given = model(x, g)
        model.prior = None
        without = model(x)
        assert torch.allclose(with_prior, given) and not torch.allclose(with_prior, without)
        other = torch.zeros(1, GLOBAL_DIM)
        other[0, 0] = other[0, -1] = 1
        plain = model(x, other)
        model.prior = ColourIndex.load(run / PRIOR_FILE)
        assert torch.allclose(model(x, other), plain)  # a given colour hint wins


def test_prior_needs_a_hint_taking_run(tmp_path, capsys):
    data, run = tiny_image_folder(tmp_path / "data"), make_run(tmp_path / "plain")
    assert main(["prior", str(run), "--data-root", str(data), "--dataset", "cifar10", "--k", "2"]) == 2
    assert "hint-taking" in capsys.readouterr().err


def test_skip_nearest_leaves_the_picture_itself_out():
    idx = _index(k=1)
    g = idx(idx.keys[:1].float(), skip_nearest=True)
    own = idx.hists[:1].float() / idx.hists[:1].float().sum()
    assert not torch.allclose(g[:, :-1], own, atol=1e-4)


def test_a_guided_run_trains_with_a_prior_and_keeps_it(tmp_path, capsys):
    from tinta.runs import load_run

    data, start = tiny_image_folder(tmp_path / "data"), make_run(tmp_path / "start", model="guided-unet")
    assert main(["prior", str(start), "--data-root", str(data), "--dataset", "cifar10", "--count", "12",
                 "--k", "2"]) == 0
    out = tmp_path / "run"
    assert main(["train", "--model", "guided-unet", "--width", "8", "--head", "regression", "--dataset", "cifar10",
                 "--data-root", str(data), "--classes", "horse", "--epochs", "1", "--batch-size", "8",
                 "--val-fraction", "0.2", "--init-from", str(start), "--prior", str(start / PRIOR_FILE),
                 "--out", str(out)]) == 0
    assert (out / PRIOR_FILE).read_bytes() == (start / PRIOR_FILE).read_bytes()
    assert isinstance(load_run(out)[0].prior, ColourIndex)
    plain = make_run(tmp_path / "plain")
    assert main(["train", "--model", "small-unet", "--width", "8", "--dataset", "cifar10", "--data-root", str(data),
                 "--classes", "horse", "--epochs", "1", "--out", str(tmp_path / "p2"), "--prior",
                 str(start / PRIOR_FILE)]) == 2
    assert "hint-taking" in capsys.readouterr().err and plain.exists()
