"""Run ``tinta`` held at a known point until a signal comes, so the fault tests stop it mid-work on any
machine, fast or slow, instead of racing a timer.

    python tests/faults/held.py MARKER POINT tinta-args...

POINT ``picture``: the first three pictures are written, the fourth is held half-written under its temporary
name. POINT ``video``: eight frames of the clip are written, the ninth is held. ``MARKER`` (a file)
appears once the process is held there.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import tinta.batch.jobs as jobs
from tinta.cli import main
from tinta.files import atomic_path
from tinta.video.io import Writer


def hold(marker: Path) -> None:
    marker.touch()
    while True:  # until the test's signal: SIGTERM raises out of here, SIGKILL ends the process
        time.sleep(0.05)


def at_fourth_picture(marker: Path) -> None:
    original, written = jobs.write_picture, []

    def write_picture(rgb, alpha, path, *args, **kwargs):
        if len(written) == 3:
            with atomic_path(path) as tmp:
                tmp.write_bytes(b"half a picture")
                hold(marker)
        written.append(path)
        return original(rgb, alpha, path, *args, **kwargs)

    jobs.write_picture = write_picture


def at_ninth_frame(marker: Path) -> None:
    original, written = Writer.write, []

    def write(self, rgb, pts):
        if len(written) == 8:
            hold(marker)
        written.append(pts)
        return original(self, rgb, pts)

    Writer.write = write


POINTS = {"picture": at_fourth_picture, "video": at_ninth_frame}

if __name__ == "__main__":
    marker, point, *argv = sys.argv[1:]
    POINTS[point](Path(marker))
    sys.exit(main(argv))
