import numpy as np
import pytest
import torch

from tinta import color

# Frozen reference values, computed once with scikit-image 0.x:
#   rgb2lab(rgb[None] / 255.0)[0] and lab2rgb(lab[None])[0]
RGB8 = [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255],
        [128, 128, 128], [10, 20, 30], [200, 150, 50], [3, 3, 3], [90, 200, 180]]
SKIMAGE_LAB = [[0.0, 0.0, 0.0], [100.0, -0.002455, 0.004653], [53.240588, 80.092308, 67.202751],
               [87.735099, -86.18303, 83.179703], [32.295673, 79.185591, -107.8573],
               [53.585013, -0.001473, 0.002791], [5.94847, -0.669311, -8.136412],
               [65.219821, 9.33043, 57.032251], [0.82252, -5.2e-05, 9.9e-05], [74.045299, -36.33296, 0.487274]]
LAB_IN = [[50, 0, 0], [70, 20, -30], [30, -40, 25], [90, 5, 80], [10, 60, -60], [0, 0, 0], [100, 0, 0]]
SKIMAGE_RGB = [[0.466328, 0.466324, 0.466344], [0.707362, 0.631852, 0.884687], [0.0, 0.329436, 0.112113],
               [1.0, 0.860397, 0.227005], [0.189949, 0.0, 0.443757], [0.0, 0.0, 0.0], [1.0, 0.999995, 1.0]]


def as_image(rows, dtype):
    return torch.tensor(rows, dtype=dtype).T.reshape(3, 1, -1)  # (3, 1, N)


def test_rgb_to_lab_matches_skimage():
    ref = as_image(SKIMAGE_LAB, torch.float64)
    lab64 = color.rgb_to_lab(as_image(RGB8, torch.float64) / 255)
    lab_u8 = color.rgb_to_lab(as_image(RGB8, torch.uint8))  # the float32 path from uint8
    assert (lab64 - ref).abs().max() < 1e-3
    assert (lab_u8.double() - ref).abs().max() < 1e-3


def test_lab_to_rgb_matches_skimage():
    rgb = color.lab_to_rgb(as_image(LAB_IN, torch.float64))
    assert (rgb - as_image(SKIMAGE_RGB, torch.float64)).abs().max() < 1e-3


def test_round_trip_all_8bit_levels():
    g = torch.Generator().manual_seed(0)
    rgb = torch.randint(0, 256, (4, 3, 64, 64), generator=g, dtype=torch.uint8)
    rgb[0, :, 0, :] = torch.arange(256).view(1, -1)[:, :64]  # include greys and extremes
    back = color.lab_to_rgb(color.rgb_to_lab(rgb)) * 255
    assert (back - rgb.float()).abs().max() < 0.5


def test_batched_and_unbatched_agree():
    x = torch.rand(2, 3, 5, 7)
    assert torch.allclose(color.rgb_to_lab(x)[1], color.rgb_to_lab(x[1]), atol=1e-5)


def test_grey_has_the_images_lightness_and_no_chroma():
    x = torch.rand(3, 3, 8, 8, dtype=torch.float64)
    grey = color.rgb_to_grey(x)
    assert grey.shape == (3, 1, 8, 8)
    lab_grey = color.rgb_to_lab(grey.expand(-1, 3, -1, -1))
    assert torch.allclose(lab_grey[:, :1], color.rgb_to_lab(x)[:, :1], atol=1e-6)
    assert lab_grey[:, 1:].abs().max() < 0.01  # skimage's white point leaves ~0.005
    assert torch.allclose(color.grey_to_lightness(grey), color.rgb_to_lab(x)[:, :1], atol=1e-6)


def test_differentiable_with_finite_gradients_at_black():
    x = torch.zeros(1, 3, 2, 2, requires_grad=True)
    color.rgb_to_lab(x).sum().backward()
    assert torch.isfinite(x.grad).all()
    lab = torch.tensor([[[[0.0]], [[0.0]], [[0.0]]]], requires_grad=True)
    color.lab_to_rgb(lab).sum().backward()
    assert torch.isfinite(lab.grad).all()


def test_opencv8_round_trip_and_convention():
    lab8 = torch.tensor([255, 128, 128], dtype=torch.uint8).view(3, 1, 1)
    lab = color.opencv8_to_lab(lab8)
    assert torch.allclose(lab.flatten(), torch.tensor([100.0, 0.0, 0.0]))
    assert torch.equal(color.lab_to_opencv8(lab), lab8)


def test_normalisation_round_trip():
    ab = torch.randn(2, 2, 4, 4) * 50
    assert torch.allclose(color.denormalize_ab(color.normalize_ab(ab)), ab)
    assert color.normalize_l(torch.tensor(100.0)) == 1.0


@pytest.mark.parametrize("bad", [torch.zeros(4, 4), torch.zeros(2, 4, 4, 4), torch.zeros(1, 2, 3)])
def test_bad_shapes_raise(bad):
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        color.rgb_to_lab(bad)


def test_bad_dtype_raises():
    with pytest.raises(TypeError):
        color.rgb_to_lab(torch.zeros(3, 2, 2, dtype=torch.int32))
    with pytest.raises(TypeError):
        color.rgb_to_lab([[0, 0, 0]])


# kornia-style checks (as kornia's own tests do for kornia.color).

# kornia.color.rgb_to_lab (kornia 0.9.0) in float64; tinta's equals it bit for bit.
KORNIA_RGB = [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.2, 0.4, 0.6], [0.9, 0.1, 0.3], [0.03, 0.5, 0.01]]
KORNIA_LAB = [[0.0, 0.0, 0.0], [100.0, -0.0024549378620508655, 0.004653421154054982],
              [42.008000589382185, -0.15404119847206577, -32.842897418997154],
              [49.485585928223145, 73.21561202607896, 27.091188827590518],
              [46.126524019563, -50.845793553246615, 49.30673683862842]]


def test_rgb_to_lab_matches_kornia():
    lab = color.rgb_to_lab(as_image(KORNIA_RGB, torch.float64))
    torch.testing.assert_close(lab, as_image(KORNIA_LAB, torch.float64), rtol=0, atol=1e-12)
    back = color.lab_to_rgb(as_image(KORNIA_LAB, torch.float64))
    torch.testing.assert_close(back, as_image(KORNIA_RGB, torch.float64), rtol=0, atol=1e-9)


def _in_gamut_rgb(seed: int) -> torch.Tensor:
    """Small float64 RGB away from black, white and the companding / cube-root kinks, so that
    nothing is clipped and every finite difference stays on one branch."""
    g = torch.Generator().manual_seed(seed)
    return 0.15 + 0.7 * torch.rand(2, 3, 3, 4, generator=g, dtype=torch.float64)


def test_gradcheck_rgb_to_lab():
    rgb = _in_gamut_rgb(0).requires_grad_()
    assert torch.autograd.gradcheck(color.rgb_to_lab, (rgb,), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("clip", [True, False])
def test_gradcheck_lab_to_rgb(clip):
    lab = color.rgb_to_lab(_in_gamut_rgb(1)).requires_grad_()
    assert torch.autograd.gradcheck(lambda x: color.lab_to_rgb(x, clip=clip), (lab,), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_float_dtype_is_kept(dtype):
    rgb = torch.rand(2, 3, 4, 5, dtype=dtype)
    lab = color.rgb_to_lab(rgb)
    assert lab.dtype == dtype and lab.shape == rgb.shape
    back = color.lab_to_rgb(lab)
    assert back.dtype == dtype and back.shape == rgb.shape
    assert color.lab_to_rgb(lab, clip=False).dtype == dtype
    assert color.rgb_to_grey(rgb).dtype == dtype
    assert color.grey_to_lightness(rgb[:, :1]).dtype == dtype


def test_uint8_in_gives_float32():
    rgb = torch.randint(0, 256, (3, 4, 5), dtype=torch.uint8)
    assert color.rgb_to_lab(rgb).dtype == torch.float32
    assert color.grey_to_lightness(rgb[:1]).dtype == torch.float32


@pytest.mark.parametrize("fn", [color.rgb_to_lab, color.lab_to_rgb])
@pytest.mark.parametrize("shape", [(4, 4), (1, 4, 4), (2, 4, 4), (4, 4, 4), (2, 1, 4, 4)])
def test_wrong_channel_count_raises(fn, shape):
    with pytest.raises(ValueError, match=r"\(\.\.\., 3, H, W\)"):
        fn(torch.zeros(shape))


@pytest.mark.parametrize("fn", [color.rgb_to_lab, color.lab_to_rgb])
@pytest.mark.parametrize("bad", [[[[0.0]], [[0.0]], [[0.0]]], np.zeros((3, 1, 1)), None, 0.5])
def test_not_a_tensor_raises(fn, bad):
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        fn(bad)


def test_integer_lab_raises():
    with pytest.raises(TypeError, match="floating point"):
        color.lab_to_rgb(torch.zeros(3, 2, 2, dtype=torch.int64))
    with pytest.raises(TypeError, match="uint8 or floating point"):
        color.rgb_to_lab(torch.zeros(3, 2, 2, dtype=torch.int16))


def test_lab_to_rgb8_paints_what_lab_to_rgb_rounds_to():
    g = torch.Generator().manual_seed(0)
    lab = torch.stack([torch.rand(64, 64, generator=g) * 100, torch.randn(64, 64, generator=g) * 40,
                       torch.randn(64, 64, generator=g) * 40])[None]  # (1, 3, 64, 64), out-of-gamut included
    fast, exact = color.lab_to_rgb8(lab), color.rgb_to_uint8(color.lab_to_rgb(lab))
    assert fast.dtype == torch.uint8 and fast.shape == exact.shape
    diff = (fast.int() - exact.int()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() < 0.01
