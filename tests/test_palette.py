"""K-means palettes: exactness against brute force, determinism, I/O, and ``tinta palette``."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from tinta import color
from tinta.errors import TintaError
from tinta.kmeans import (
    _kmeans_pp,
    _lloyd,
    _Octree,
    colour_histogram,
    kmeans_palette,
    mean_sq_distance,
    nearest,
    to_space,
)
from tinta.palette import Palette

CENTRES = np.array([[30, 40, 50], [200, 60, 40], [60, 190, 80], [90, 80, 220], [230, 230, 210]], float)


def blobs(n_per: int = 4000, sigma: float = 4.0, seed: int = 0) -> np.ndarray:
    """uint8 pixels ``(5 n_per, 3)`` around CENTRES."""
    rng = np.random.default_rng(seed)
    x = np.concatenate([c + sigma * rng.standard_normal((n_per, 3)) for c in CENTRES])
    return np.clip(np.round(x), 0, 255).astype(np.uint8)


def brute_lloyd(X: np.ndarray, C: np.ndarray, max_iter: int, tol: float) -> tuple[np.ndarray, float, int]:
    """Plain Lloyd on every pixel (the reference the histogram version must equal)."""
    it = 0
    while it < max_iter:
        it += 1
        lab = ((X[:, None, :] - C[None]) ** 2).sum(-1).argmin(1)
        new = np.stack([X[lab == j].mean(0) for j in range(len(C))])
        shift, C = ((new - C) ** 2).sum(), new
        if shift <= tol:
            break
    d2 = ((X[:, None, :] - C[None]) ** 2).sum(-1).min(1)
    return C, float(d2.sum()), it


def test_histogram_counts_every_pixel():
    px = blobs(500)
    colours, counts = colour_histogram(torch.from_numpy(px))
    assert counts.sum() == len(px) and len(np.unique(colours, axis=0)) == len(colours)
    expected = {tuple(c): n for c, n in zip(*np.unique(px, axis=0, return_counts=True))}
    assert {tuple(c): n for c, n in zip(colours, counts)} == expected


def test_recovers_known_centres():
    pal = kmeans_palette(blobs(), k=5, seed=0)
    got = pal.rgb.numpy()
    dist = np.sqrt(((got[:, None] - CENTRES[None]) ** 2).sum(-1))
    assert dist.min(0).max() < 0.5  # every true centre found
    assert 3 * 16 * 0.8 < pal.inertia < 3 * 16 * 1.2  # 3 sigma^2 per pixel
    assert pal.pixels == 20000 and pal.k == 5 and pal.iterations >= 1


def test_deterministic_with_seed():
    px = blobs(1000, sigma=25.0)
    a, b = kmeans_palette(px, k=8, seed=3), kmeans_palette(px, k=8, seed=3)
    assert torch.equal(a.rgb, b.rgb) and a.inertia == b.inertia and a.iterations == b.iterations


def test_assignment_step_is_exact():
    rng = np.random.default_rng(1)
    px = blobs(3000, sigma=30.0)
    colours, counts = colour_histogram(px)
    Y = colours.astype(float)
    tree = _Octree(colours, Y, counts)
    for k in (1, 2, 7, 24):
        C = rng.uniform(0, 255, (k, 3))
        wsum, wy, sse = tree.assign(C)
        lab, d2 = nearest(Y, C)
        np.testing.assert_allclose(wsum, np.bincount(lab, counts, k))
        np.testing.assert_allclose(wy, np.stack([np.bincount(lab, counts * Y[:, j], k) for j in range(3)], 1))
        assert sse == pytest.approx(float(d2 @ counts), rel=1e-9)


def test_histogram_lloyd_equals_lloyd_on_pixels():
    px = blobs(600, sigma=20.0, seed=2)
    X = px.astype(float)
    colours, counts = colour_histogram(px)
    tree = _Octree(colours, colours.astype(float), counts)
    C0 = X[np.random.default_rng(0).choice(len(X), 6, replace=False)]
    C, sse, its = _lloyd(tree, C0, 100, 1e-6)
    C_ref, sse_ref, its_ref = brute_lloyd(X, C0, 100, 1e-6)
    assert its == its_ref
    np.testing.assert_allclose(C, C_ref, atol=1e-9)
    assert sse == pytest.approx(sse_ref, rel=1e-9)


def test_seeding_pruning_is_exact():
    px = blobs(2000, sigma=30.0)
    colours, counts = colour_histogram(px)
    tree = _Octree(colours, colours.astype(float), counts)
    pruned = _kmeans_pp(tree, 10, np.random.default_rng(5))
    brute = _kmeans_pp(tree, 10, np.random.default_rng(5), level=0)  # cells = single colours
    np.testing.assert_array_equal(pruned, brute)


def test_inertia_matches_brute_force_and_restarts_only_improve():
    px = blobs(2000, sigma=30.0)
    one = kmeans_palette(px, k=12, seed=4, n_init=1)
    assert one.inertia == pytest.approx(mean_sq_distance(px, one.rgb.numpy()), rel=1e-9)
    three = kmeans_palette(px, k=12, seed=4, n_init=3)
    assert three.inertia <= one.inertia and three.n_init == 3


def test_quantize_is_exact_argmin():
    rng = np.random.default_rng(3)
    imgs = torch.from_numpy(rng.integers(0, 256, (3, 3, 17, 23), dtype=np.uint8))
    for space in ("rgb", "lab"):
        pal = kmeans_palette(blobs(800, sigma=40.0), k=9, space=space)
        q = pal.quantize(imgs)
        assert q.shape == (3, 17, 23) and q.dtype == torch.int64
        flat = imgs.permute(0, 2, 3, 1).reshape(-1, 3).numpy()
        ref, _ = nearest(to_space(flat, space), pal.centres.numpy())
        np.testing.assert_array_equal(q.reshape(-1).numpy(), ref)


def test_to_rgb_quantize_round_trip():
    pal = kmeans_palette(blobs(), k=5)
    idx = torch.randint(0, 5, (2, 8, 9), generator=torch.Generator().manual_seed(0))
    img = pal.to_rgb(idx)
    assert img.shape == (2, 3, 8, 9) and img.dtype == torch.uint8
    assert torch.equal(pal.quantize(img), idx)
    assert torch.equal(img[0, :, 0, 0], pal.rgb[idx[0, 0, 0]].round().to(torch.uint8))


def test_lab_space():
    px = blobs()
    pal = kmeans_palette(px, k=5, space="lab")
    assert pal.space == "lab" and pal.ab().shape == (5, 2)
    assert np.sqrt(((pal.rgb.numpy()[:, None] - CENTRES[None]) ** 2).sum(-1)).min(0).max() < 1.5
    lab_of_rgb = color.rgb_to_lab((pal.rgb / 255.0).T[..., None])[..., 0].T
    torch.testing.assert_close(lab_of_rgb, pal.lab, atol=1e-6, rtol=0)
    assert pal.inertia == pytest.approx(mean_sq_distance(px, pal.lab.numpy(), "lab"), rel=1e-9)


def test_save_load_round_trip(tmp_path):
    pal = kmeans_palette(blobs(300), k=5, space="lab", seed=7)
    pal.source, pal.classes = "test", ["horse"]
    back = Palette.load(pal.save(tmp_path / "sub" / "p.json"))
    assert torch.equal(back.rgb, pal.rgb) and torch.equal(back.lab, pal.lab)
    for f in ("space", "k", "seed", "inertia", "iterations", "source", "classes", "pixels", "distinct", "n_init"):
        assert getattr(back, f) == getattr(pal, f), f
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["p.json"]  # no temp file left


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"format": "tinta-palette", "version": 1}',
                                  '{"format": "other"}', "\xff\xfe"])
def test_load_rejects_bad_files(tmp_path, text):
    p = tmp_path / "bad.json"
    p.write_bytes(text.encode("latin1"))
    with pytest.raises(TintaError, match="invalid palette"):
        Palette.load(p)
    with pytest.raises(TintaError, match="not found"):
        Palette.load(tmp_path / "missing.json")


def test_load_rejects_wrong_shapes(tmp_path):
    d = json.loads(kmeans_palette(blobs(300), k=5).save(tmp_path / "p.json").read_text())
    d["rgb"] = d["rgb"][:3]
    (tmp_path / "p.json").write_text(json.dumps(d))
    with pytest.raises(TintaError, match="invalid palette"):
        Palette.load(tmp_path / "p.json")


def test_small_inputs_and_empty_clusters():
    px = np.repeat(np.array([[0, 0, 0], [255, 255, 255], [10, 200, 30], [90, 90, 90]], np.uint8), 5, axis=0)
    pal = kmeans_palette(px, k=4)
    assert pal.inertia == pytest.approx(0.0, abs=1e-9) and pal.distinct == 4
    assert sorted(map(tuple, pal.rgb.round().int().tolist())) == sorted(map(tuple, np.unique(px, axis=0).tolist()))
    with pytest.raises(ValueError):
        kmeans_palette(px, k=5)
    with pytest.raises(ValueError):
        kmeans_palette(px.astype(np.int32), k=2)


def write_tiny_cifar_folder(root, n_train=6, n_test=3):
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        d = root / split / "horse"
        d.mkdir(parents=True)
        for i in range(n):
            base = CENTRES[i % 5]
            im = np.clip(base + 6 * rng.standard_normal((32, 32, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(im).save(d / f"{i:04d}.png")
    return root


def test_cli_palette(tmp_path, capsys):
    from tinta.cli import main

    root = write_tiny_cifar_folder(tmp_path / "cifar")
    out = tmp_path / "palette.json"
    rc = main(["palette", "--dataset", "cifar10", "--data-root", str(root), "--classes", "horse",
               "--k", "5", "--space", "rgb", "--seed", "0", "--out", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "K=5" in text and "9,216 pixels" in text and "inertia" in text
    pal = Palette.load(out)
    assert pal.k == 5 and pal.pixels == 9 * 32 * 32 and pal.classes == ["horse"]
    assert np.sqrt(((pal.rgb.numpy()[:, None] - CENTRES[None]) ** 2).sum(-1)).min(0).max() < 2.0


def test_cli_palette_missing_root(tmp_path, capsys):
    from tinta.cli import main

    rc = main(["palette", "--data-root", str(tmp_path / "nope"), "--out", str(tmp_path / "p.json")])
    assert rc == 2
    err = capsys.readouterr().err
    assert "tinta palette: error:" in err and len(err.strip().splitlines()) == 1
