"""One sequential pass over a (gzip/bzip2/xz-compressed) tar archive, with :mod:`tarfile`.

The archive is opened in streaming mode (``"r|*"``), so a ``.tar.gz`` is decompressed once,
front to back, and members we do not want are skipped without being kept. Only regular
files are yielded (directories, links, devices and GNU sparse members are passed over);
member names lose any leading ``./`` and ``/``. Nothing is ever extracted to disk. A damaged
archive raises :class:`~tinta.errors.TintaError`.
"""

from __future__ import annotations

import lzma
import tarfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

from tinta.errors import TintaError

ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz")
_REGULAR = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE)


class _BadHeader(Exception):
    pass


class _StrictTarInfo(tarfile.TarInfo):
    """A header with a bad checksum is an error wherever it is.

    :meth:`tarfile.TarFile.next` treats one after the first member as the end of the archive,
    which would silently drop the rest of a damaged data set."""

    @classmethod
    def frombuf(cls, buf, encoding, errors):
        try:
            return super().frombuf(buf, encoding, errors)
        except tarfile.InvalidHeaderError as e:
            raise _BadHeader(str(e)) from None


def is_archive(path: Path) -> bool:
    """A tar file, by name."""
    return Path(path).is_file() and Path(path).name.lower().endswith(ARCHIVE_SUFFIXES)


def _clean(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name.lstrip("/")


def iter_tar(path: Path, want: Callable[[str], bool] = lambda name: True) -> Iterator[tuple[str, bytes | None]]:
    """``(name, data)`` for every regular file in archive order; ``data`` is None unless ``want(name)``."""
    try:
        opened = tarfile.open(path, "r|*", tarinfo=_StrictTarInfo, encoding="utf-8", errors="surrogateescape")
        with opened as tf:
            while (member := tf.next()) is not None:
                tf.members.clear()  # nothing looks back in a stream: do not keep every header (~600 B each)
                if member.type not in _REGULAR:
                    continue
                name = _clean(member.name)
                f = tf.extractfile(member) if want(name) else None
                yield name, None if f is None else f.read()
    except _BadHeader as e:
        raise TintaError(f"{path} is not a valid tar archive ({e})") from None
    except (tarfile.TarError, OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as e:
        raise TintaError(f"cannot read archive {path}: {e}") from e
