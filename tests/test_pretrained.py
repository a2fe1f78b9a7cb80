"""Shipped weights: packaging a run, loading by name, sha256 checks, and the registry itself."""

import json

import numpy as np
import pytest
import torch

from tinta import pretrained
from tinta.errors import TintaError
from tinta.files import write_json
from tinta.heads.bins import fit_grid_bins
from tinta.inference import load_model
from tinta.kmeans import kmeans_palette
from tinta.runs import save_weights

from helpers import make_run, photo


def _as(path, task: str, **files):
    """A legacy run folder (head named ``task``, its palette / bins in their own file)."""
    cfg = json.loads((path / "config.json").read_text())
    cfg["task"] = task
    cfg.pop("head")
    cfg["out_channels"] = files.pop("q")
    write_json(path / "config.json", cfg)
    for name, obj in files.items():
        obj.save(path / name)
    return path


def _runs(tmp_path):
    from tinta.models import create_model

    reg = make_run(tmp_path / "reg")
    pal = kmeans_palette(photo().reshape(-1, 3), k=6)
    pal_run = make_run(tmp_path / "pal")
    bins = fit_grid_bins(torch.randn(4000, 2) * 30)
    bins_run = make_run(tmp_path / "bins")
    for run, q in ((pal_run, 6), (bins_run, bins.q)):  # weights with the right head size
        save_weights(create_model("small-unet", q, width=8), run / "best.safetensors")
    return {"reg": reg, "pal": _as(pal_run, "palette", q=6, **{"palette.json": pal}),
            "bins": _as(bins_run, "bins", q=bins.q, **{"bins.json": bins})}


def test_package_and_load_every_task(tmp_path):
    wd = tmp_path / "weights"
    x = torch.rand(1, 1, 32, 32)
    for name, run in _runs(tmp_path).items():
        entry = pretrained.package_run(run, name, f"{name} test", 32, f"# {name}\n", {"psnr": 1.0}, weights_dir=wd)
        assert entry.bytes == (wd / entry.file).stat().st_size
        model, head, got = pretrained.load_pretrained(name, weights_dir=wd)
        assert got.head.name == head.name == {"reg": "regression", "pal": "palette", "bins": "bins"}[name]
        ref = load_model(str(run)).model
        with torch.no_grad():  # fp16 weights: close, not equal
            assert torch.allclose(model(x), ref(x), atol=5e-2)
        assert (wd / f"{name}.md").read_text() == f"# {name}\n"
    assert set(pretrained.registry(wd)) == {"reg", "pal", "bins"}


def test_damaged_or_unknown_weights_are_refused(tmp_path):
    wd = tmp_path / "weights"
    pretrained.package_run(make_run(tmp_path / "r"), "x", "", 32, "", {}, weights_dir=wd)
    with pytest.raises(TintaError, match="no shipped weights named 'y'"):
        pretrained.load_pretrained("y", weights_dir=wd)
    data = bytearray((wd / "x.safetensors").read_bytes())
    data[-1] ^= 1
    (wd / "x.safetensors").write_bytes(bytes(data))
    with pytest.raises(TintaError, match="sha256"):
        pretrained.load_pretrained("x", weights_dir=wd)


def test_a_decoding_entry_follows_its_network_and_refuses_what_it_cannot_be(tmp_path):
    """register_decoding: a name for another entry's network decoded with other head options (no weights
    copied); it follows that entry when the network is re-packaged; unknown networks and options are refused
    before anything is written."""
    wd = tmp_path / "weights"
    run = _runs(tmp_path)["bins"]
    pretrained.package_run(run, "base", "", 32, "# base\n", {}, weights_dir=wd)
    entry = pretrained.register_decoding("bold", "base", {"temperature": 0.2}, "more colour", "# bold\n",
                                         {"psnr": 1.0}, weights_dir=wd)
    base = pretrained.registry(wd)["base"]
    assert entry.file == base.file and entry.head.temperature == 0.2 and base.head.temperature != 0.2
    assert (wd / "bold.md").read_text() == "# bold\n" and not (wd / "bold.safetensors").exists()
    model, head, got = pretrained.load_pretrained("bold", weights_dir=wd)
    assert head.temperature == 0.2 and got.metrics == {"psnr": 1.0} and got.config_name == "base"
    folder = pretrained.as_run("bold", tmp_path / "laid-out", weights_dir=wd)
    assert load_model(str(folder)).head.temperature == 0.2
    before = pretrained.registry(wd)["bold"].sha256
    torch.manual_seed(1)
    from tinta.models import create_model

    save_weights(create_model("small-unet", base.head.out_channels, width=8), run / "best.safetensors")
    pretrained.package_run(run, "base", "", 32, "", {}, weights_dir=wd)  # the network re-packaged
    after = pretrained.registry(wd)["bold"]
    assert after.sha256 != before and after.sha256 == pretrained.registry(wd)["base"].sha256
    registry_before = (wd / "registry.json").read_text()
    for of, options, says in [("nope", {}, "not a shipped network"), ("bold", {}, "not a shipped network"),
                              ("base", {"temprature": 0.2}, "has no option temprature")]:
        with pytest.raises(TintaError, match=says):
            pretrained.register_decoding("x", of, options, "", "", {}, weights_dir=wd)
    assert (wd / "registry.json").read_text() == registry_before and not (wd / "x.md").exists()


def test_shipped_registry_is_intact():
    reg = pretrained.registry()
    assert {"default", "cifar-horse"} <= set(reg)
    for name, entry in reg.items():
        assert entry.bytes < 8 * 2**20, f"{name} is too big to ship"
        assert (pretrained.WEIGHTS_DIR / entry.card).exists()
        c = load_model(name)
        assert c.head.out_channels == entry.head.out_channels
        out = np.asarray(c(photo(48, 64)))
        assert out.shape == (48, 64, 3)


def test_onnx_file_describes_itself_and_agrees_with_pytorch(tmp_path, capsys):
    """A bins-head model exported to ONNX: loaded from the file alone (head, temperature and render size
    from its metadata), it gives PyTorch's a,b on real photos, and the CLI runs it without being told the
    model."""
    pytest.importorskip("onnxruntime")
    from tinta.cli import main
    from tinta.export import export_onnx, load_onnx
    from tinta.imageio import read_picture
    from tinta.pretrained import EXAMPLES_DIR

    c = load_model(str(_runs(tmp_path)["bins"]), render_size=64)
    path = export_onnx(c, tmp_path / "bins.onnx")
    onnx_c = load_onnx(path)
    assert onnx_c.head.name == "bins" and onnx_c.head.temperature == c.head.temperature
    assert onnx_c.render_size == c.render_size == 64 and onnx_c.name == f"{c.name} (onnx)"
    photos = sorted(EXAMPLES_DIR.glob("*.jpg"))
    assert len(photos) >= 4
    for p in photos:
        L = torch.from_numpy(read_picture(p).L)[None, None]  # (1, 1, H, W)
        delta = (c.predict_small(L) - onnx_c.predict_small(L)).abs().max().item()
        assert delta < 1e-2, f"{p.name}: max |delta ab| = {delta}"
    assert main(["colorize", str(photos[0]), "-o", str(tmp_path / "o"), "--backend", "onnx", "--onnx", str(path)]) == 0
    assert "colourized 1 of 1" in capsys.readouterr().out
    not_onnx = ["--backend", "onnx", "--onnx", str(photos[0])]
    assert main(["colorize", str(photos[0]), "-o", str(tmp_path / "o2"), *not_onnx]) == 2
    assert "not a readable ONNX model" in capsys.readouterr().err


def test_onnx_of_a_model_decoding_pooled_classes_has_both_outputs_and_agrees(tmp_path):
    """`default` decodes its colour classes at stride 2 from pooled features: its ONNX file has the two outputs
    (``out``, ``pooled``) and gives PyTorch's a,b."""
    pytest.importorskip("onnxruntime")
    from tinta.export import export_onnx, load_onnx
    from tinta.imageio import read_picture
    from tinta.pretrained import EXAMPLES_DIR

    c = load_model("default")
    assert c.head.pooled_channels is not None
    onnx_c = load_onnx(export_onnx(c, tmp_path / "default.onnx"))
    assert [o.name for o in onnx_c.model.session.get_outputs()] == ["out", "pooled"]
    L = torch.from_numpy(read_picture(EXAMPLES_DIR / "chelsea.jpg").L)[None, None]  # (1, 1, H, W)
    assert (c.predict_small(L) - onnx_c.predict_small(L)).abs().max().item() < 1e-2


@pytest.mark.parametrize("model", ["default", "vivid"])  # the chroma head at mix 1 and at mix 0
def test_cli_saturation_raises_colourfulness_with_shipped_models(tmp_path, model):
    """`tinta colorize --saturation S` on a real photo with shipped weights: CF grows with S."""
    from PIL import Image

    from tinta.cli import main
    from tinta.evaluate.metrics import colourfulness
    from tinta.pretrained import EXAMPLES_DIR as EXAMPLES

    cf = []
    for s in ("0.5", "1", "2"):
        out = tmp_path / s
        assert main(["colorize", str(EXAMPLES / "chelsea.jpg"), "-o", str(out), "--saturation", s, "--format", "png",
                     "--model", model]) == 0
        rgb = torch.from_numpy(np.array(Image.open(out / "chelsea.png").convert("RGB"))).permute(2, 0, 1)[None]
        cf.append(colourfulness(rgb).item())
    assert cf[0] < cf[1] < cf[2], cf
