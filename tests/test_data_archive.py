"""The tar reader (tarfile, streaming) yields what tarfile writes, for every header flavour, and rejects damage."""

from __future__ import annotations

import io
import tarfile

import pytest

from tinta.data.archive import is_archive, iter_tar
from tinta.errors import TintaError

LONG = "train/" + "n" * 90 + "/" + "x" * 80 + ".jpg"  # > 100 bytes: needs a prefix, GNU or pax name
FILES = {"./a.png": b"A" * 10, LONG: b"L" * 700, "train/ünï/c.jpg": b"", "deep/" * 30 + "d.png": b"D" * 513}


def write(path, fmt, mode, files):
    with tarfile.open(path, mode, format=fmt) as tf:
        d = tarfile.TarInfo("train")
        d.type = tarfile.DIRTYPE
        tf.addfile(d)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.png")
        link.type, link.linkname = tarfile.SYMTYPE, "a.png"
        tf.addfile(link)
    return path


CASES = [(fmt, mode, suffix) for fmt in (tarfile.GNU_FORMAT, tarfile.PAX_FORMAT)
         for mode, suffix in (("w", ".tar"), ("w:gz", ".tar.gz"), ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz"))]


@pytest.mark.parametrize("fmt,mode,suffix", CASES + [(tarfile.USTAR_FORMAT, "w:gz", ".tgz")])
def test_matches_tarfile(tmp_path, fmt, mode, suffix):
    files = dict(FILES)
    if fmt == tarfile.USTAR_FORMAT:  # ustar has no long names beyond its 155-byte prefix
        files.pop("deep/" * 30 + "d.png")
    path = write(tmp_path / f"t{suffix}", fmt, mode, files)
    assert is_archive(path)
    got = dict(iter_tar(path))
    want = {n.removeprefix("./"): d for n, d in files.items()}
    assert got == want
    names_only = dict(iter_tar(path, want=lambda n: n.endswith(".jpg")))
    assert set(names_only) == set(want) and all((d is None) != n.endswith(".jpg") for n, d in names_only.items())


def test_not_a_tar(tmp_path):
    p = tmp_path / "x.tar"
    p.write_bytes(b"hello" * 200)
    with pytest.raises(TintaError, match="not a valid tar"):
        list(iter_tar(p))
    assert not is_archive(tmp_path / "x.zip")


def _plain_tar(tmp_path, n=3, size=600):
    path = tmp_path / "p.tar"
    with tarfile.open(path, "w", format=tarfile.USTAR_FORMAT) as tf:
        for i in range(n):
            info = tarfile.TarInfo(f"f{i}.png")
            info.size = size
            tf.addfile(info, io.BytesIO(bytes([i]) * size))
    return path


def test_damaged_header_after_the_first_is_an_error(tmp_path):
    path = _plain_tar(tmp_path)
    raw = bytearray(path.read_bytes())
    second = 512 + 1024  # first header + its 600 bytes padded to 1024
    assert raw[second : second + 6] == b"f1.png"
    raw[second + 148] ^= 1  # checksum digit
    path.write_bytes(bytes(raw))
    with pytest.raises(TintaError, match="not a valid tar"):
        list(iter_tar(path))


def test_truncated_member_is_an_error(tmp_path):
    path = _plain_tar(tmp_path)
    path.write_bytes(path.read_bytes()[: 512 + 300])  # inside the first member's data
    for want in (lambda n: True, lambda n: False):  # reading it, and skipping over it
        with pytest.raises(TintaError, match="cannot read archive"):
            list(iter_tar(path, want=want))


def test_truncated_header_ends_the_listing(tmp_path):
    path = _plain_tar(tmp_path)
    path.write_bytes(path.read_bytes()[: 512 + 1024 + 100])  # inside the second header, as tar -t takes it
    assert [n for n, _ in iter_tar(path)] == ["f0.png"]
