"""Files written safely: the one place tinta makes temporary names, writes atomically,
reads and writes JSON and hashes files.

Every file tinta writes goes to a hidden temporary name beside its destination
(``.NAME.tinta-tmp-PID``) and is renamed over it only when complete, so an interrupted
write never leaves a half-written file under the real name. A temporary file whose
process is gone (killed with SIGKILL, power loss) is removed by :func:`sweep_stale_temps`
on the next run that writes into the same folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tinta.errors import TintaError

TMP_MARK = ".tinta-tmp-"
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.tinta-tmp-(?P<pid>\d+)$")


def tmp_path(path: Path) -> Path:
    """The temporary name ``path`` is written under before the rename."""
    path = Path(path)
    return path.with_name(f".{path.name}{TMP_MARK}{os.getpid()}")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale_temps(folder: Path, recursive: bool = False) -> int:
    """Remove tinta's temporary files in ``folder`` whose writing process no longer runs;
    returns how many were removed. Files of other programs are never touched."""
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    for p in folder.rglob(f"*{TMP_MARK}*") if recursive else folder.glob(f"*{TMP_MARK}*"):
        m = _TMP_RE.match(p.name)
        if m and p.is_file() and not _pid_alive(int(m["pid"])):
            with contextlib.suppress(OSError):
                p.unlink()
                removed += 1
    return removed


@contextlib.contextmanager
def atomic_path(path: str | Path, mkdir: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is renamed to ``path``, on any error
    (or KeyboardInterrupt) it is removed and ``path`` is left as it was."""
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except Exception as e:
        named = _named(e, path)
        if named is e:
            raise
        raise named from e
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _named(e: Exception, path: Path) -> Exception:
    """A write's failure as an OSError that names ``path`` when the machine refused it: an OSError without
    a file name (``f.write`` gives none), or any library's error (safetensors, torch.save) on a full disk."""
    if isinstance(e, OSError) and not e.filename and e.errno:
        return OSError(e.errno, describe_os_error(e), str(path))
    if not isinstance(e, (OSError, TintaError)) and _disk_full(e, path.parent):
        return OSError(errno.ENOSPC, describe_os_error(OSError(errno.ENOSPC, "")), str(path))
    return e


def _disk_full(e: Exception, folder: Path) -> bool:
    if "os error 28" in str(e) or "No space left" in str(e):
        return True
    try:
        st = os.statvfs(folder)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < (1 << 20)  # under 1 MB free: what else made the write fail


def atomic_write(path: str | Path, write: Callable[[Path], Any], mkdir: bool = True) -> Path:
    """Call ``write(tmp)`` then rename ``tmp`` to ``path`` (see :func:`atomic_path`)."""
    with atomic_path(path, mkdir) as tmp:
        write(tmp)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda t: t.write_text(text))


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    """``obj`` as JSON (sorted keys), written atomically."""
    return write_text(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")


def read_json(path: str | Path) -> Any:
    """Parsed JSON; TintaError (one line) when missing, unreadable or not JSON."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise TintaError(f"{path}: not found") from None
    except IsADirectoryError:
        raise TintaError(f"{path}: is a folder, not a JSON file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TintaError(f"{path}: not valid JSON ({e})") from None


def not_a_file(path: str | Path) -> str:
    """Why ``path`` is not a regular file to read, in a few words ('' when it is one): missing, a
    folder, a FIFO, a device, a socket."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return describe_os_error(e)
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"is {kind}, not a regular file"


_ERRNO_WORDS = {errno.ENOENT: "no such file", errno.EISDIR: "is a folder, not a file",
                errno.ENOTDIR: "a part of the path is not a folder", errno.ENOSPC: "no space left on the disk",
                errno.EDQUOT: "disk quota exceeded", errno.EACCES: "permission denied",
                errno.EPERM: "permission denied", errno.EROFS: "the disk is read-only"}


def describe_os_error(e: OSError) -> str:
    """An OSError in a few words, without the path (the caller names it)."""
    return _ERRNO_WORDS.get(e.errno) or e.strerror or e.__class__.__name__


def os_error_line(e: OSError) -> str:
    """'PATH: what went wrong' for an OSError (the path when it has one)."""
    return f"{e.filename}: {describe_os_error(e)}" if e.filename else describe_os_error(e)


def sha256_file(path: str | Path) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
