"""``tinta train --bins-stride 4``: the colour classes trained from 2x2-pooled decoder features. The output
layer is 1x1, so the pooled logits are exactly the full output's logits pooled; the weights are the same
ones inference runs at full size."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tinta.cli import main
from tinta.errors import TintaError
from tinta.heads import ChromaHead, JointHead, RegressionHead
from tinta.heads.bins import fit_grid_bins
from tinta.inference import set_native_output
from tinta.models import create_model
from tinta.models.base import PooledOutput
from tinta.runs import load_run
from tinta.train.config import TrainConfig
from tinta.train.loop import pools

from helpers import tiny_image_folder


def _bins():
    return fit_grid_bins(torch.randn(4000, 2, generator=torch.Generator().manual_seed(0)) * 20)


@pytest.mark.parametrize("name", ["unet", "unet-context", "vanilla-cnn"])
def test_pooled_channels_are_the_full_outputs_pooled(name):
    torch.manual_seed(0)
    head = ChromaHead(_bins())
    model = create_model(name, head.out_channels, imagenet=False, width=8) if name != "vanilla-cnn" else \
        create_model(name, head.out_channels, width=8)
    set_native_output(model, head)
    x = torch.rand(2, 1, 32, 48)
    model.eval()  # the same batch statistics for both forwards
    full = model(x)  # (2, 3 + Q, 16, 24)
    assert pools(TrainConfig(), model, head)
    model.pool_from = head.pooled_from
    model.train()
    for m in model.modules():  # keep BatchNorm on its running statistics, as in eval
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    out = model(x)
    assert isinstance(out, PooledOutput)
    assert out.main.shape == (2, 2, 16, 24) and out.pooled.shape == (2, head.out_channels - 2, 8, 12)
    assert torch.allclose(out.main, full[:, :2], atol=1e-5)
    assert torch.allclose(out.pooled, F.avg_pool2d(full[:, 2:], 2), atol=1e-5)
    model.eval()
    assert torch.equal(model(x), full)  # inference: the whole output, as before


def test_the_losses_of_a_pooled_output_train_every_part():
    bins = _bins()
    target = torch.randn(2, 2, 16, 16, generator=torch.Generator().manual_seed(1)) * 25
    for head in (JointHead(bins), ChromaHead(bins)):
        main_ = torch.zeros(2, 2, 8, 8, requires_grad=True)
        pooled = torch.zeros(2, head.out_channels - 2, 4, 4, requires_grad=True)
        loss = head.loss(PooledOutput(main_, pooled), target)
        loss.backward()
        assert torch.isfinite(loss) and main_.grad.abs().sum() > 0 and pooled.grad.abs().sum() > 0
        if isinstance(head, ChromaHead):
            assert pooled.grad[:, -1].abs().sum() > 0  # the chroma channel, pooled with the logits


def test_bins_stride_4_is_the_default_where_it_applies(tmp_path):
    root = tiny_image_folder(tmp_path / "cifar")
    common = ["train", "--dataset", "folder", "--data-root", str(root), "--size", "32", "--epochs", "1",
              "--batch-size", "8", "--val-fraction", "0.2", "--width", "8", "--model", "unet"]
    assert main([*common, "--head", "joint", "--out", str(tmp_path / "run")]) == 0
    model, head, info = load_run(tmp_path / "run")
    assert info.train["bins_stride"] == 4 and model.pool_from is None  # inference: the whole output
    assert main([*common, "--head", "regression", "--out", str(tmp_path / "reg")]) == 0  # nothing to pool

    def applies(model_name="unet", head=None, **cfg):
        model = create_model(model_name, (head or JointHead(_bins())).out_channels, width=8,
                             **({"imagenet": False} if model_name == "unet" else {}))
        set_native_output(model, head or JointHead(_bins()))
        return pools(TrainConfig(**cfg), model, head or JointHead(_bins()))

    assert applies() and not applies(bins_stride=2) and not applies(adversarial=0.02)
    assert not applies(head=RegressionHead()) and not applies("small-unet")
    with pytest.raises(TintaError, match="bins-stride must be 2 or 4"):
        TrainConfig(bins_stride=3)


def test_pooled_targets_line_up_with_pooled_features_at_odd_sizes():
    out = PooledOutput(torch.zeros(1, 2, 45, 45), torch.zeros(1, 5, 22, 22))  # avg_pool2d drops row/column 45
    target = torch.arange(90 * 90, dtype=torch.float).view(1, 1, 90, 90).expand(1, 2, -1, -1)
    small = out.pool_target(target)
    assert small.shape == (1, 2, 22, 22)
    assert torch.allclose(small, F.avg_pool2d(F.interpolate(target, size=(45, 45), mode="area"), 2))


def test_a_resumed_run_keeps_the_bins_stride_it_started_with(tmp_path, capsys):
    from dataclasses import replace

    from tinta.runs import RunInfo
    from tinta.train.loop import as_it_was

    old = TrainConfig(model="unet", head="joint", data_root=("x",))
    train = {k: v for k, v in old.to_dict().items() if k != "bins_stride"}  # written before the option existed
    RunInfo.create(train, JointHead(_bins())).write(tmp_path)
    assert as_it_was(replace(old, resume=True, out=str(tmp_path)), tmp_path).bins_stride == 2
    assert "--bins-stride 2, as it started" in capsys.readouterr().out
    assert as_it_was(replace(old, out=str(tmp_path)), tmp_path).bins_stride == 4  # a new run: today's default


def _by_hand(head, out):
    """class_stride 2 written out: bins decoded on the 2x2-averaged logits, then both the colour and its weight
    upsampled x2 (cell centres aligned) and cropped; a,b regression and chroma stay at the output's size."""
    h, w = out.shape[-2:]
    q = head.cls.bins.q
    logits = F.avg_pool2d(out[:, 2:2 + q], 2, ceil_mode=True)
    up = lambda t: F.interpolate(t, scale_factor=2, mode="bilinear", align_corners=False)[..., :h, :w]  # noqa: E731
    ab_reg = out[:, :2] * 110  # denormalize_ab
    ab = ab_reg + up(head.confidence(logits)) * (up(head.cls.predict(logits)) - ab_reg)
    if isinstance(head, ChromaHead):
        length, chroma = ab.norm(dim=1, keepdim=True), 110 * out[:, -1:].clamp(min=0)
        ab = ab * ((length + head.mix * (chroma - length)) / length.clamp(min=2.0))
    return ab


@pytest.mark.parametrize("cls", [JointHead, ChromaHead])
def test_class_stride_2_decodes_the_classes_pooled_and_keeps_the_rest(cls):
    g = torch.Generator().manual_seed(2)
    full, pooled = cls(_bins()), cls(_bins(), class_stride=2)
    assert full.class_stride == 1 and "class_stride" not in full.to_dict()  # older heads' dicts unchanged
    assert type(pooled).from_dict(pooled.to_dict()).class_stride == 2
    assert pooled.with_temperatures((0.5,)).class_stride == 2
    for h, w in ((15, 22), (16, 21), (1, 1)):  # odd sizes: the last row / column is a cell of its own
        out = torch.randn(2, full.out_channels, h, w, generator=g)
        out[:, :2] *= 0.3
        assert torch.allclose(pooled.predict(out), _by_hand(pooled, out), atol=1e-4)
    smooth = out[:, :, :1, :1].expand(-1, -1, 16, 22).contiguous()  # the same logits everywhere: nothing to lose
    assert torch.allclose(full.predict(smooth), pooled.predict(smooth), atol=1e-4)
    # the regression a,b (and the chroma) keep their full resolution: a change in one pixel stays there
    out = torch.randn(1, full.out_channels, 8, 8, generator=g)
    out[:, -1] = out[:, -1].abs() + 0.1  # the chroma head: a chroma above 0 everywhere, so a,b are not zeroed
    bumped = out.clone()
    bumped[:, :2, 3, 3] += 0.2
    moved = (pooled.predict(bumped) - pooled.predict(out)).abs().sum(1)[0]
    assert moved[3, 3] > 0 and moved.sum() == moved[3, 3]


def test_class_stride_must_be_1_or_2():
    for bad in (4, 1.5, 0):
        with pytest.raises(TintaError, match="class_stride must be one of"):
            JointHead(_bins(), class_stride=bad)
    with pytest.raises(TintaError, match="class_stride must be one of"):
        ChromaHead.from_dict({**ChromaHead(_bins()).to_dict(), "class_stride": 2.7})  # not rounded to 2
