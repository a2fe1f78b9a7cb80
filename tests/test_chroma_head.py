"""The chroma head: the joint head's hue at a regressed chroma; grown from a joint run."""

import torch

from tinta.heads import ChromaHead, JointHead, head_from_dict
from tinta.heads.bins import fit_grid_bins


def _bins():
    g = torch.Generator().manual_seed(0)
    return fit_grid_bins(torch.randn(4000, 2, generator=g) * 20)


def test_decoding_keeps_the_joint_hue_at_the_predicted_chroma():
    head = ChromaHead(_bins())
    out = torch.randn(2, head.out_channels, 4, 4, generator=torch.Generator().manual_seed(1))
    out[:, :2] = torch.tensor([0.3, -0.2])[None, :, None, None]  # a joint colour well away from grey
    out[:, -1] = 0.25  # chroma 27.5
    joint = JointHead(head.cls.bins).predict(out[:, :-1])
    ab = head.predict(out)
    assert torch.allclose(ab.norm(dim=1), torch.full((2, 4, 4), 27.5), atol=1e-3)
    cos = (ab * joint).sum(1) / (ab.norm(dim=1) * joint.norm(dim=1))
    assert torch.allclose(cos, torch.ones_like(cos), atol=1e-5)  # the same hue
    head.mix = 0.0
    assert torch.allclose(head.predict(out), joint, atol=1e-5)  # mix 0: the joint head's colours
    assert torch.allclose(ChromaHead(head.cls.bins).predict(out, saturation=0.0), torch.zeros_like(ab))


def test_the_chroma_loss_falls_towards_the_true_length_and_has_gradients():
    head = ChromaHead(_bins())
    target = torch.randn(2, 2, 8, 8, generator=torch.Generator().manual_seed(2)) * 30
    out = torch.zeros(2, head.out_channels, 8, 8, requires_grad=True)
    right = out.detach().clone()
    right[:, -1:] = target.norm(dim=1, keepdim=True) / 110
    assert head.loss(right, target) < head.loss(out.detach(), target)
    head.loss(out, target).backward()
    assert out.grad[:, -1].abs().sum() > 0


def test_round_trip_and_growing_from_a_joint_description():
    head = ChromaHead(_bins(), chroma_weight=0.5, mix=0.7)
    back = head_from_dict(head.to_dict())
    assert isinstance(back, ChromaHead) and back.mix == 0.7 and back.chroma_weight == 0.5
    assert back.out_channels == JointHead(head.cls.bins).out_channels + 1
    joint = JointHead(head.cls.bins).to_dict()
    grown = head_from_dict({**joint, "name": "chroma"})
    assert isinstance(grown, ChromaHead) and torch.equal(grown.cls.bins.centres, head.cls.bins.centres)
    assert "joint" in ChromaHead.grows_from


def test_with_options_changes_a_decoding_option_and_refuses_the_rest():
    """Head.with_options: the one rule for a shipped decoding (registry ``head_options``) and the hold-out script."""
    import pytest

    from tinta.errors import TintaError

    head = ChromaHead(_bins(), mix=0.7, chroma_target="projection")
    vivid = head.with_options({"mix": 0.0, "temperature": 0.3})
    assert vivid.mix == 0.0 and vivid.cls.temperature == 0.3 and vivid.chroma_target == "projection"
    assert head.mix == 0.7 and torch.equal(vivid.cls.bins.centres, head.cls.bins.centres)  # a new head
    for options, says in [({"mixx": 0}, "has no option mixx"), ({"bins": []}, "bins belong to its network"),
                          ({"chroma_target": "hue"}, "chroma_target must be one of")]:
        with pytest.raises(TintaError, match=says):
            head.with_options(options)


def test_a_chroma_run_grows_from_a_joint_run(tmp_path, capsys):
    from tinta.cli import main
    from tinta.inference import load_model

    from helpers import tiny_image_folder

    data = tiny_image_folder(tmp_path / "data")
    args = ["--model", "vanilla-cnn", "--width", "8", "--dataset", "cifar10", "--data-root", str(data), "--classes",
            "horse", "--epochs", "1", "--batch-size", "8", "--val-fraction", "0.2"]
    joint, chroma = tmp_path / "joint", tmp_path / "chroma"
    assert main(["train", *args, "--head", "joint", "--out", str(joint)]) == 0
    assert main(["train", *args, "--head", "chroma", "--init-from", str(joint), "--lr", "1e-9",
                 "--chroma-weight", "0.5", "--out", str(chroma)]) == 0
    j, c = load_model(str(joint)), load_model(str(chroma))
    assert isinstance(c.head, ChromaHead) and c.head.chroma_weight == 0.5
    assert torch.equal(c.head.cls.bins.centres, j.head.cls.bins.centres)  # the joint run's bins, not refitted
    q = j.model.head.weight.shape[0]
    assert torch.allclose(c.model.head.weight[:q], j.model.head.weight, atol=1e-6)


def test_the_colour_distribution_is_the_bin_logits_of_every_head_that_has_them():
    from tinta.heads import BinsHead, RegressionHead

    bins = _bins()
    for head in (ChromaHead(bins), JointHead(bins), BinsHead(bins)):
        out = torch.arange(head.out_channels, dtype=torch.float)[None, :, None, None].expand(1, -1, 2, 2)
        logits, centres = head.colour_distribution(out)
        first = 0 if isinstance(head, BinsHead) else 2  # after the a,b channels; the chroma channel left out
        assert torch.equal(logits[0, :, 0, 0], torch.arange(first, first + bins.q, dtype=torch.float))
        assert torch.equal(centres, bins.centres)
    assert RegressionHead().colour_distribution(torch.zeros(1, 2, 2, 2)) is None


def test_hue_gate_keeps_the_joint_length_where_the_bins_disagree_on_the_hue():
    """R = |sum p ab| / sum p |ab|: 1 for all mass on one bin, near 0 for two opposite bins; hue_gate 0 leaves
    the decoding as it was, a large gate keeps the joint head's length where the hues disagree."""
    bins = _bins()
    head = ChromaHead(bins, hue_gate=4.0)
    q, centres = bins.q, bins.centres
    one = centres.norm(dim=1).argmax()  # the most saturated bin, and the bin most opposite it
    opposite = ((centres @ centres[one]) / (centres.norm(dim=1) * centres[one].norm() + 1e-6)).argmin()
    out = torch.zeros(1, head.out_channels, 1, 2)
    out[:, :2] = torch.tensor([0.3, -0.2])[None, :, None, None]
    out[0, 2 + one, :, :] = 30.0  # both pixels: certain of one bin
    out[0, 2 + opposite, 0, 1] = 30.0  # the second pixel: split between opposite hues
    out[:, -1] = 0.5  # chroma 55
    r = head.hue_agreement(out[:, 2:-1], (1, 2))
    assert r.shape == (1, 1, 1, 2) and r[0, 0, 0, 0] > 0.99 and r[0, 0, 0, 1] < 0.4
    joint_len = JointHead(bins).predict(out[:, :-1]).norm(dim=1)[0, 0]
    lengths = head.predict(out).norm(dim=1)[0, 0]
    assert abs(lengths[0] - 55) < 2  # sure of the hue: the predicted chroma
    assert abs(lengths[1] - joint_len[1]) < abs(55 - joint_len[1]) * 0.05  # unsure: the joint length
    assert torch.equal(ChromaHead(bins).predict(out), ChromaHead(bins, hue_gate=0.0).predict(out))
    assert head_from_dict(head.to_dict()).hue_gate == 4.0 and "hue_gate" not in ChromaHead(bins).to_dict()
    assert q == out.shape[1] - 3


def test_projection_target_is_the_truth_along_the_predicted_hue():
    """chroma_target "projection": the truth's length where the predicted hue is right, 0 where it is opposite,
    |ab| cos(angle) between; "length" ignores the prediction."""
    import pytest

    from tinta.errors import TintaError

    truth = torch.tensor([30.0, 40.0])[None, :, None, None].expand(1, 2, 1, 3).clone()  # |ab| = 50
    pred = torch.tensor([[0.3, 0.4], [-0.3, -0.4], [0.4, -0.3]]).T[None, :, None, :]  # right, opposite, 90 deg
    last = torch.zeros(1, 1, 1, 3)
    proj = ChromaHead(_bins(), chroma_target="projection").chroma_of(truth, pred, last)
    assert torch.allclose(proj[0, 0, 0], torch.tensor([50.0, 0.0, 0.0]), atol=1e-4)
    assert torch.allclose(ChromaHead(_bins()).chroma_of(truth, pred, last), torch.full((1, 1, 1, 3), 50.0))
    with pytest.raises(TintaError, match="chroma_target"):
        ChromaHead(_bins(), chroma_target="hue")
    assert head_from_dict(ChromaHead(_bins(), chroma_target="projection").to_dict()).chroma_target == "projection"


def test_a_run_from_a_chroma_run_takes_its_own_options_even_ones_the_stored_head_omits(tmp_path):
    """--init-from a chroma run: an option this run sets away from its default wins though the stored head
    never wrote it (to_dict writes chroma_target only when it is not "length"); one left at its default
    where the stored head holds it is this run's too."""
    from tinta.files import write_json
    from tinta.runs import CONFIG_FILE
    from tinta.train.config import TrainConfig
    from tinta.train.fit_heads import _init_head

    for stored, asked, want in [("length", "projection", "projection"), ("projection", "length", "length"),
                                ("projection", "projection", "projection")]:
        run = tmp_path / stored
        run.mkdir(exist_ok=True)
        write_json(run / CONFIG_FILE, {"head": ChromaHead(_bins(), chroma_target=stored, mix=0.5).to_dict()})
        cfg = TrainConfig(model="small-unet", head="chroma", init_from=str(run), chroma_target=asked)
        head = _init_head(cfg)
        assert isinstance(head, ChromaHead) and head.chroma_target == want and head.mix == 0.5


def test_decoding_the_classes_from_pooled_features_gives_the_same_colours():
    """At class stride 2, inference has the model compute the bin logits from 2x2-pooled features (a quarter of
    the output layer's work): the same colours as pooling the full-size logits, at even and odd sizes; the
    colour distribution stays on the output's grid; training mode is untouched."""
    from tinta.inference import set_decoding_output, set_native_output
    from tinta.models import create_model
    from tinta.models.base import PooledOutput

    torch.manual_seed(0)
    head = ChromaHead(_bins(), class_stride=2)
    model = create_model("vanilla-cnn", head.out_channels, width=8).eval()
    with torch.no_grad():
        model.head.weight.mul_(20)  # logits far from flat, so the bins move the colour
        for h, w in ((32, 48), (30, 52)):
            x = torch.rand(2, 1, h, w)
            set_native_output(model, head)
            full = model(x)
            set_decoding_output(model, head)
            pooled = model(x)
            assert isinstance(pooled, PooledOutput) and pooled.shape[-2:] == full.shape[-2:]
            assert pooled.pooled.shape[-2:] == tuple((n + 1) // 2 for n in full.shape[-2:])
            assert torch.allclose(head.predict(pooled), head.predict(full), atol=1e-3)
            (lf, _), (lp, _) = head.colour_distribution(full), head.colour_distribution(pooled)
            assert lf.shape == lp.shape and torch.allclose(lf.softmax(1), lp.softmax(1), atol=1e-4)
            model.eval_pooled = None
        y = torch.rand(2, 8, 15, 13) * 0.2  # decoder features on an odd grid: the last row and column pooled alone
        set_native_output(model, head)
        full = model.project(y, y)
        set_decoding_output(model, head)
        pooled = model.project(y, y)
        assert pooled.pooled.shape[-2:] == (8, 7)
        assert torch.allclose(head.predict(pooled), head.predict(full), atol=1e-3)
    assert ChromaHead(_bins()).pooled_channels is None  # class stride 1: every channel at full size
    model.train()
    set_decoding_output(model, head)
    assert not isinstance(model(torch.rand(2, 1, 32, 32)), PooledOutput)
