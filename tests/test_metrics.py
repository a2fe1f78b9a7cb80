import numpy as np
import pytest
import torch

from tinta.evaluate import metrics

# Frozen references computed once with scikit-image (structural_similarity with
# gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255;
# peak_signal_noise_ratio) on the images built by _pair().
SKIMAGE_SSIM = 0.9741882380143444
SKIMAGE_PSNR = 23.633644374797754


def _pair():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 30, a.shape), 0, 255).astype(np.uint8)
    t = lambda x: torch.from_numpy(x).permute(2, 0, 1)[None]  # noqa: E731
    return t(a), t(b)


def test_psnr_and_ssim_match_scikit_image():
    a, b = _pair()
    assert abs(metrics.psnr(a, b).item() - SKIMAGE_PSNR) < 1e-6
    assert abs(metrics.ssim(a, b).item() - SKIMAGE_SSIM) < 1e-6


def test_identical_images():
    a, _ = _pair()
    assert metrics.ssim(a, a).item() == 1.0
    assert metrics.psnr(a, a).item() > 99


def test_colourfulness():
    grey = torch.full((1, 3, 8, 8), 128, dtype=torch.uint8)
    assert metrics.colourfulness(grey).item() == 0.0
    red = torch.zeros(1, 3, 8, 8)
    red[:, 0] = 255
    # uniform red: sd = 0, mean_rg = 255, mean_yb = 127.5 -> 0.3 * sqrt(255^2 + 127.5^2)
    assert abs(metrics.colourfulness(red).item() - 0.3 * (255**2 + 127.5**2) ** 0.5) < 1e-9
    vivid = torch.randint(0, 256, (1, 3, 8, 8), generator=torch.Generator().manual_seed(0))
    assert metrics.colourfulness(vivid) > metrics.colourfulness((vivid * 0.2 + 100).round())


def test_pixel_accuracy_per_image():
    p = torch.tensor([[[0, 1], [2, 3]], [[0, 0], [0, 0]]])
    t = torch.tensor([[[0, 1], [2, 0]], [[1, 1], [1, 1]]])
    assert metrics.pixel_accuracy(p, t).tolist() == [0.75, 0.0]


def test_frechet_distance_matches_the_closed_form_and_refuses_bad_shapes():
    from tinta.evaluate.metrics import frechet_distance

    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 3, generator=g, dtype=torch.float64)
    assert frechet_distance(x, x) == pytest.approx(0, abs=1e-6)
    # N(0, I) against N(m, 4 I): |m|^2 + 3 * (1 + 4 - 2 * 2) = |m|^2 + 3
    y = 2 * torch.randn(4000, 3, generator=g, dtype=torch.float64) + torch.tensor([1.0, 2.0, 0.0], dtype=torch.float64)
    assert frechet_distance(x, y) == pytest.approx(5 + 3, rel=0.05)
    assert frechet_distance(x, y) == pytest.approx(frechet_distance(y, x), rel=1e-6)
    with pytest.raises(ValueError):
        frechet_distance(x, torch.randn(10, 4))
    with pytest.raises(ValueError):
        frechet_distance(x[:1], x[:1])
