"""A lean, one-pass reader for (gzip/bzip2/xz-compressed) tar archives.

:mod:`tarfile` spends ~40 us of Python per member; on CIFAR-10 as 60,000 JPEGs that is
most of the time spent. This reader parses the 512-byte headers itself (ustar, GNU long
names, pax ``path``) and yields regular files only. Anything unusual raises TintaError.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from tinta.errors import TintaError

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_BLOCK = 512
_REGULAR = (b"0", b"\0", b"7")


def is_archive(path: Path) -> bool:
    """A tar file, by name."""
    return Path(path).is_file() and Path(path).name.lower().endswith(ARCHIVE_SUFFIXES)


def _open(path: Path) -> BinaryIO:
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")
    if magic[:3] == b"BZh":
        return bz2.open(path, "rb")
    if magic == b"\xfd7zXZ\x00":
        return lzma.open(path, "rb")
    return open(path, "rb")


def _number(field: bytes) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256 for large values
        return int.from_bytes(field[1:], "big")
    field = field.split(b"\0", 1)[0].strip()
    return int(field or b"0", 8)


def _checksum_ok(hdr: bytes) -> bool:
    try:
        return _number(hdr[148:156]) == sum(hdr[:148]) + 8 * 32 + sum(hdr[156:])
    except ValueError:
        return False


def _cstr(b: bytes) -> bytes:
    return b.split(b"\0", 1)[0]


def _pax_path(data: bytes) -> bytes | None:
    path, i = None, 0
    while i < len(data):
        sp = data.index(b" ", i)
        n = int(data[i:sp])
        key, _, value = data[sp + 1 : i + n - 1].partition(b"=")
        if key == b"path":
            path = value
        i += n
    return path


def _clean(name: bytes) -> str:
    s = name.decode("utf-8", "surrogateescape")
    while s.startswith("./"):
        s = s[2:]
    return s.lstrip("/")


def iter_tar(path: Path, want: Callable[[str], bool] = lambda name: True) -> Iterator[tuple[str, bytes | None]]:
    """``(name, data)`` for every regular file in archive order; ``data`` is None unless ``want(name)``."""
    try:
        with _open(Path(path)) as f:
            long_name: bytes | None = None
            while True:
                hdr = f.read(_BLOCK)
                if len(hdr) < _BLOCK or hdr.count(0) == _BLOCK:
                    return
                if not _checksum_ok(hdr):
                    raise TintaError(f"{path} is not a valid tar archive (bad header checksum)")
                size, kind = _number(hdr[124:136]), hdr[156:157]
                padded = -(-size // _BLOCK) * _BLOCK
                if kind in (b"L", b"x"):
                    meta = f.read(padded)[:size]
                    long_name = _cstr(meta) if kind == b"L" else (_pax_path(meta) or long_name)
                    continue
                name = _cstr(hdr[:100])
                if hdr[257:262] == b"ustar" and _cstr(hdr[345:500]):
                    name = _cstr(hdr[345:500]) + b"/" + name
                if long_name is not None:
                    name, long_name = long_name, None
                if kind not in _REGULAR:
                    f.seek(padded, 1)
                    continue
                clean = _clean(name)
                if want(clean):
                    data = f.read(padded)
                    if len(data) < size:
                        raise TintaError(f"{path} is truncated (in {clean})")
                    yield clean, data[:size]
                else:
                    f.seek(padded, 1)
                    yield clean, None
    except (OSError, EOFError, ValueError, lzma.LZMAError) as e:
        raise TintaError(f"cannot read archive {path}: {e}") from e
