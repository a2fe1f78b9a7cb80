"""Decoding photos of every common mode to RGB uint8, EXIF orientation, resize + crop, grey test."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from tinta.data import images as imgs
from tinta.data.images import decode_image, decode_item, decode_many, is_image_name, is_near_grey, resize_center_crop


def encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def png16_rgb(a: np.ndarray) -> bytes:
    """A 48-bit RGB PNG (Pillow cannot write one), written by hand."""
    h, w, _ = a.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + a[y].astype(">u2").tobytes() for y in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def test_extensions():
    for n in ("a.jpg", "B.JPEG", "c.Png", "d.tif", "e.TIFF", "f.webp", "g.bmp"):
        assert is_image_name(n)
    for n in ("a.txt", "jpg", "a.gif", "a.jpg.part"):
        assert not is_image_name(n)


def test_rgb_png_exact():
    a = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    out = decode_image(encode(Image.fromarray(a), "PNG"))
    assert out.dtype == np.uint8 and np.array_equal(out, a)


def test_grey_modes():
    g = np.array([[0, 17, 128, 255]], np.uint8)
    for mode_img in (Image.fromarray(g), Image.fromarray(g).convert("P")):
        out = decode_image(encode(mode_img, "PNG"))
        assert out.shape == (1, 4, 3) and np.array_equal(out[..., 0], g) and np.array_equal(out[..., 2], g)
    one = Image.fromarray(np.array([[0, 255]], np.uint8)).convert("1")
    assert decode_image(encode(one, "PNG"))[0, :, 0].tolist() == [0, 255]


def test_16bit_grey_is_scaled_not_clipped():
    v = np.array([[0, 257 * 100, 65535, 1000]], np.uint16)
    img = Image.fromarray(v)
    assert img.mode.startswith("I;16")
    out = decode_image(encode(img, "PNG"))
    assert out[0, :, 1].tolist() == [0, 100, 255, 4]  # Pillow's own convert("L") would give 255 for all but 0


def test_16bit_rgb_png():
    a8 = np.random.default_rng(1).integers(0, 256, (3, 4, 3)).astype(np.uint16)
    a16 = a8 * 257 + np.random.default_rng(2).integers(0, 200, a8.shape).astype(np.uint16)
    out = decode_image(png16_rgb(a16))
    assert np.abs(out.astype(int) - np.round(a16 / 257)).max() <= 1


def test_float_tiff():
    f = np.array([[0.0, 0.5, 1.0]], np.float32)
    out = decode_image(encode(Image.fromarray(f, "F"), "TIFF"))
    assert out[0, :, 0].tolist() == [0, 128, 255]


def test_alpha_composited_on_white():
    a = np.zeros((1, 3, 4), np.uint8)
    a[0, 0] = (255, 0, 0, 255)  # opaque red
    a[0, 1] = (0, 0, 255, 0)  # fully transparent -> white
    a[0, 2] = (0, 0, 0, 128)  # half black
    out = decode_image(encode(Image.fromarray(a, "RGBA"), "PNG"))
    assert out[0, 0].tolist() == [255, 0, 0] and out[0, 1].tolist() == [255, 255, 255]
    assert all(abs(c - 127) <= 1 for c in out[0, 2])
    la = Image.fromarray(np.array([[[50, 255], [50, 0]]], np.uint8), "LA")
    assert decode_image(encode(la, "PNG"))[0, :, 0].tolist() == [50, 255]


def test_palette_with_transparency():
    p = Image.new("P", (2, 1))
    p.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    p.putpixel((0, 0), 0)
    p.putpixel((1, 0), 1)
    out = decode_image(encode(p, "PNG"))
    assert out[0].tolist() == [[255, 0, 0], [0, 255, 0]]
    out = decode_image(encode(p, "PNG", transparency=1))
    assert out[0].tolist() == [[255, 0, 0], [255, 255, 255]]


def test_cmyk_jpeg():
    img = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # red
    out = decode_image(encode(img, "JPEG", quality=95))
    r, g, b = out.reshape(-1, 3).mean(0)
    assert r > 230 and g < 25 and b < 25


@pytest.mark.parametrize("orientation,top_colour", [(6, "red"), (8, "blue"), (3, None)])
def test_exif_orientation(orientation, top_colour):
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :20] = (255, 0, 0)  # left half red
    a[:, 20:] = (0, 0, 255)  # right half blue
    img = Image.fromarray(a)
    exif = img.getexif()
    exif[0x0112] = orientation
    out = decode_image(encode(img, "JPEG", quality=95, exif=exif.tobytes()))
    if orientation == 3:  # 180 degrees: red now on the right
        assert out.shape == (20, 40, 3) and out[10, 35, 0] > 200 and out[10, 5, 2] > 200
        return
    assert out.shape == (40, 20, 3)  # portrait after rotation
    top, bottom = out[5, 10], out[35, 10]
    red, blue = (top, bottom) if top_colour == "red" else (bottom, top)
    assert red[0] > 200 and red[2] < 60 and blue[2] > 200 and blue[0] < 60


def test_resize_short_side_and_center_crop():
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :10] = (255, 0, 0)
    a[:, 10:30] = (0, 255, 0)
    a[:, 30:] = (0, 0, 255)
    out = decode_image(encode(Image.fromarray(a), "PNG"), size=10)
    assert out.shape == (10, 10, 3)
    err = np.abs(out.astype(int) - [0, 255, 0])
    assert err[:, 1:-1].max() <= 2 and err.max() <= 20  # the green centre is kept (Lanczos bleeds at the edge)
    big = decode_image(encode(Image.fromarray(a), "PNG"), size=30)  # upscaling works too
    assert big.shape == (30, 30, 3)
    same = Image.fromarray(a[:, :20])
    assert resize_center_crop(same, 20) is same


def test_is_near_grey():
    g = np.full((4, 4, 3), 100, np.uint8)
    assert is_near_grey(g)
    g[1, 2] = (100, 102, 101)
    assert is_near_grey(g) and not is_near_grey(g, tol=1)
    g[3, 3] = (100, 103, 100)
    assert not is_near_grey(g)
    assert not is_near_grey(g.transpose(2, 0, 1), channel_axis=0)
    assert is_near_grey(np.full((3, 2, 2), 7, np.uint8), channel_axis=0)


def test_decode_item_never_raises():
    assert decode_item((b"not an image", None, True)) == ("corrupt", None)
    png = encode(Image.fromarray(np.full((8, 8, 3), 9, np.uint8)), "PNG")
    assert decode_item((png[: len(png) // 2], None, True))[0] == "corrupt"  # truncated
    assert decode_item((png, None, True)) == ("near_grey", None)
    status, hwc = decode_item((png, 4, False))
    assert status == "ok" and hwc.shape == (4, 4, 3)


def test_decode_many_pool_matches_serial(monkeypatch):
    rng = np.random.default_rng(3)
    datas = [encode(Image.fromarray(rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)), "PNG") for _ in range(10)]
    datas.insert(4, b"garbage")
    serial = list(decode_many(datas, None, True, workers=1))
    monkeypatch.setattr(imgs, "PARALLEL_MIN_ITEMS", 0)
    pooled = list(decode_many(iter(datas), None, True, workers=2, count=len(datas)))
    assert [s for s, _ in pooled] == [s for s, _ in serial] and serial[4] == ("corrupt", None)
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(serial, pooled) if a is not None)


def test_decoding_workers_do_not_inherit_the_clis_signal_handlers(monkeypatch):
    """The pool's workers are forked from a process whose SIGTERM raises KeyboardInterrupt (tinta.cli); closing
    the pool sends them SIGTERM, which must end them (a KeyboardInterrupt there printed a traceback and could
    leave the pool's queue lock held: `tinta compare` hung); Ctrl-C is the parent's to handle."""
    import signal

    from tinta.cli import _sigterm

    previous = signal.signal(signal.SIGTERM, _sigterm), signal.getsignal(signal.SIGINT)
    try:
        imgs._pool_worker()  # what each worker runs first
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    monkeypatch.setattr(imgs, "PARALLEL_MIN_ITEMS", 0)
    datas = [encode(Image.fromarray(np.full((6, 6, 3), 40 * i, np.uint8)), "PNG") for i in range(6)]
    assert len(list(decode_many(iter(datas), None, False, workers=2, count=len(datas)))) == 6
