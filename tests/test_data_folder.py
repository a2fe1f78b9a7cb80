"""Photo folders: mixed modes, skipped near-grey and corrupt files, splits, labels, archives, cache."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from tinta.data import folder, images, load_dataset
from tinta.data.folder import folder_splits, load_folder, scan_tree
from tinta.errors import TintaError

from data_helpers import colour_image, make_tar, make_tar_of_contents, write_image_folder


def write_mixed(root, size=(40, 30)):
    """Photos in many modes: 5 usable colour images, 3 near-grey, 2 corrupt, 1 non-image."""
    rng = np.random.default_rng(0)
    w, h = size
    root.mkdir(parents=True)
    colour = colour_image(rng, h, w)
    Image.fromarray(colour).save(root / "colour.JPG", quality=95)
    Image.fromarray(np.dstack([colour, np.full((h, w), 255, np.uint8)])).save(root / "rgba.png")
    Image.fromarray(colour).convert("P", palette=Image.Palette.ADAPTIVE).save(root / "palette.png")
    Image.new("CMYK", (w, h), (0, 200, 200, 0)).save(root / "cmyk.jpg", quality=95)
    rot = Image.fromarray(colour_image(rng, w, h))  # stored sideways, EXIF turns it to w x h
    exif = rot.getexif()
    exif[0x0112] = 6
    (root / "sub").mkdir()
    rot.save(root / "sub" / "rotated.jpeg", exif=exif.tobytes())
    Image.fromarray(colour[..., 1]).save(root / "grey_L.png")
    Image.fromarray(colour[..., 0].astype(np.uint16) * 257).save(root / "grey16.png")
    near = np.repeat(colour[..., :1], 3, axis=2).astype(np.int16)
    near[..., 2] += rng.integers(-2, 1, (h, w))
    Image.fromarray(near.clip(0, 255).astype(np.uint8)).save(root / "sub" / "near_grey.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    png = (root / "rgba.png").read_bytes()
    (root / "sub" / "truncated.png").write_bytes(png[: len(png) // 3])
    (root / "notes.txt").write_text("not an image")
    return root


def both_splits(root, **kw):
    return [load_folder(root, s, **kw) for s in ("train", "val")]


def test_mixed_modes_counts(tmp_path):
    root = write_mixed(tmp_path / "photos")
    sets = both_splits(root)
    assert sum(len(s) for s in sets) == 5
    assert sum(s.skipped["near_grey"] for s in sets) == 3
    assert sum(s.skipped["corrupt"] for s in sets) == 2
    for s in sets:
        assert s.size == (30, 40) and s.images.dtype == torch.uint8 and s.colorspace == "rgb"
    # the label is the first folder under the root: "sub" for sub/rotated.jpeg, -1 at the top
    labels = torch.cat([s.labels for s in sets]).tolist()
    assert sorted(labels) == [-1, -1, -1, -1, 0] and sets[0].classes == ["sub"]


def test_hash_split_is_deterministic_and_disjoint(tmp_path):
    root = tmp_path / "many"
    root.mkdir()
    rng = np.random.default_rng(1)
    for i in range(60):
        Image.fromarray(colour_image(rng, 8, 8)).save(root / f"{i:03d}.png")
    tree = scan_tree(folder.list_images(root))
    assert tree.splits == [] and folder_splits(root) == ["train", "val"]
    val = [n for n, s in zip(tree.names, tree.split_of) if s == "val"]
    assert 1 <= len(val) <= 15 and val == [n for n in tree.names if folder._hash_split(n) == "val"]
    tr, va = both_splits(root)
    assert len(tr) + len(va) == 60 and len(va) == len(val)
    assert torch.equal(load_folder(root, "test").images, va.images)  # test falls back to val
    with pytest.raises(TintaError, match="no split 'holdout'"):
        load_folder(root, "holdout")


def test_mixed_sizes_need_size(tmp_path):
    root = tmp_path / "sizes"
    root.mkdir()
    rng = np.random.default_rng(2)
    for i, (h, w) in enumerate([(20, 30), (30, 20), (25, 25)] * 4):
        Image.fromarray(colour_image(rng, h, w)).save(root / f"{i:02d}.png")
    with pytest.raises(TintaError, match="--size"):
        both_splits(root)
    tr, va = both_splits(root, size=16)
    assert tr.size == (16, 16) and len(tr) + len(va) == 12


@pytest.mark.parametrize("packed", ["dir", "tar", "tar-with-top-folder"])
def test_split_folders_and_classes(tmp_path, packed):
    src = write_image_folder(tmp_path / "imagenette", splits=("train", "val"), classes=("n01", "n02", "n03"),
                             per_class=2, size=24, fmt="jpg")
    Image.fromarray(np.full((24, 24, 3), 60, np.uint8)).save(src / "val" / "n02" / "grey.jpg")
    Image.fromarray(colour_image(np.random.default_rng(5), 24, 24)).save(src / "stray.png")  # outside splits
    root = {
        "dir": src,
        "tar": make_tar_of_contents(src, tmp_path / "a.tar.gz"),
        "tar-with-top-folder": make_tar(src, tmp_path / "b.tgz"),
    }[packed]
    assert folder_splits(root) == ["train", "val"]
    tr = load_folder(root, "train")
    assert tr.classes == ["n01", "n02", "n03"] and tr.labels.tolist() == [0, 0, 1, 1, 2, 2]
    va = load_folder(root, "val", classes=["n02", "2"])
    assert va.labels.tolist() == [1, 1, 2, 2] and va.skipped == {"near_grey": 1, "corrupt": 0}
    ref = np.asarray(Image.open(src / "train" / "n01" / "0000.jpg").convert("RGB"))
    assert np.array_equal(tr.images[0].permute(1, 2, 0).numpy(), ref)
    assert len(load_folder(root, "test")) == 6  # no test/ folder: falls back to val


def test_cache(tmp_path, monkeypatch):
    root = write_mixed(tmp_path / "p")
    first = both_splits(root, size=12)
    monkeypatch.setattr(images, "decode_item", lambda job: pytest.fail("decoded again"))
    monkeypatch.setattr(folder, "list_images", lambda root: pytest.fail("listed again"))
    second = both_splits(root, size=12)
    for a, b in zip(first, second):
        assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
        assert a.skipped == b.skipped and a.classes == b.classes


def test_errors(tmp_path):
    (tmp_path / "txt").mkdir()
    (tmp_path / "txt" / "a.txt").write_text("x")
    with pytest.raises(TintaError, match="no images found"):
        load_folder(tmp_path / "txt", "train")
    with pytest.raises(TintaError, match="does not exist.*folder of photos"):
        load_dataset("folder", tmp_path / "missing", "train")
    grey = tmp_path / "grey"
    write_image_folder(grey, splits=("train",), classes=("a",), per_class=2, size=8)
    for p in (grey / "train" / "a").iterdir():
        Image.open(p).convert("L").save(p)
    with pytest.raises(TintaError, match="could be used"):
        load_folder(grey, "train")
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"\x1f\x8b" + b"\0" * 100)
    with pytest.raises(TintaError, match="cannot read archive"):
        load_folder(bad, "train")
