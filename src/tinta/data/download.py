"""Fetch the official CIFAR-10 archive, verified by MD5, written atomically."""

from __future__ import annotations

import hashlib
import http.client
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from tinta.errors import TintaError
from tinta.files import atomic_path, sweep_stale_temps

OFFICIAL_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
OFFICIAL_MD5 = "c58f30108f718f92721af3b95e74349a"
FILENAME = "cifar-10-python.tar.gz"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class DownloadOptions:
    """The options of ``tinta data download``."""

    name: str = field(metadata={"help": "data set to download", "choices": ("cifar10",), "positional": True})
    to: str = field(metadata={"help": "folder to put the archive in"})
    url: str = field(default=OFFICIAL_URL, metadata={"help": "mirror URL (default: the official one)"})
    md5: str = field(default=OFFICIAL_MD5, metadata={"help": "expected MD5 (default: the official archive's)"})


def md5sum(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download_cifar10(to_dir: str | Path, url: str = OFFICIAL_URL, md5: str = OFFICIAL_MD5,
                     timeout: float = 60.0, quiet: bool = False) -> Path:
    """Download ``url`` to ``to_dir/cifar-10-python.tar.gz`` and return that path.

    The data streams to a temporary name in ``to_dir`` and is renamed only once complete
    and its MD5 matches; on a network error or a mismatch the temporary file is deleted
    and :class:`TintaError` raised. An existing file with the right MD5 is kept as is."""
    to_dir = Path(to_dir)
    final = to_dir / FILENAME
    md5 = md5.lower()
    if final.is_file() and md5sum(final) == md5:
        if not quiet:
            print(f"{final} already present (md5 ok)", file=sys.stderr)
        return final
    try:
        to_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise TintaError(f"cannot create {to_dir}: {e}") from e
    sweep_stale_temps(to_dir)  # what a killed download left
    try:
        with atomic_path(final, mkdir=False) as tmp:  # renamed to final only when complete and verified
            try:
                digest = _stream(url, tmp, timeout, quiet)
            except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError, ValueError) as e:
                raise TintaError(f"download of {url} failed: {_reason(e)}") from e
            if digest != md5:
                raise TintaError(f"download of {url} has md5 {digest}, expected {md5}; nothing was saved")
    except OSError as e:  # this machine's: the file could not be written (named by atomic_path)
        raise TintaError(f"download of {url} failed: {e}") from e
    return final


def _reason(e: Exception) -> str:
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    return str(getattr(e, "reason", None) or e)


def _stream(url: str, to: Path, timeout: float, quiet: bool) -> str:
    """Stream ``url`` into the file ``to``; returns its MD5 (TintaError when fewer bytes came than announced)."""
    h, got = hashlib.md5(), 0
    with urllib.request.urlopen(url, timeout=timeout) as r, open(to, "wb") as f:
        total = int(r.headers.get("Content-Length") or 0)
        # disable=None: a bar only when stderr is a terminal
        with tqdm(total=total or None, unit="B", unit_scale=True, desc=FILENAME, file=sys.stderr,
                  disable=True if quiet else None) as bar:
            for chunk in iter(lambda: r.read(_CHUNK), b""):
                f.write(chunk)
                h.update(chunk)
                got += len(chunk)
                bar.update(len(chunk))
    if total and got != total:
        raise TintaError(f"download of {url} incomplete: {got} of {total} bytes")
    return h.hexdigest()
