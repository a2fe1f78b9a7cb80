"""Video files that are broken, cut short or not video, and runs stopped half way: a clear one-line
reason, the input byte-identical, no output and no temporary or part file left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

av = pytest.importorskip("av")
pytest.importorskip("cv2")

import tinta  # noqa: E402
from faults.conftest import HELD, colorize, snapshot, temp_files, wait_until_held  # noqa: E402
from tinta.errors import TintaError  # noqa: E402
from tinta.video import clips  # noqa: E402

from helpers import photo  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny frames: one thread is faster


def frames(n: int, w: int = 64, h: int = 48):
    return clips.clip_frames([clips.Shot(photo(120, 160, seed=1), n)], w, h)


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    """Files that are not whole videos: cut short (MP4 with its index first, MP4 without, MKV), noise
    with a video suffix, an empty file, sound only."""
    d = tmp_path_factory.mktemp("broken")
    whole = d / "whole"
    whole.mkdir()
    clips.write_clip(whole / "a.mkv", frames(48), 12, audio=True)
    clips.write_clip(whole / "b.mp4", frames(48), 12, audio=True)
    data = (whole / "a.mkv").read_bytes()
    (d / "cut.mkv").write_bytes(data[: len(data) // 2])
    data = (whole / "b.mp4").read_bytes()
    (d / "cut.mp4").write_bytes(data[: len(data) * 2 // 3])  # the index (moov) is at the end: gone
    faststart = {"movflags": "faststart"}  # the index first, as streaming sites write MP4
    with av.open(str(whole / "b.mp4")) as src, av.open(str(d / "faststart.mp4"), "w", options=faststart) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for p in src.demux():
            if p.dts is not None:
                p.stream = streams[p.stream.index]
                out.mux(p)
    data = (d / "faststart.mp4").read_bytes()
    (d / "faststart-cut.mp4").write_bytes(data[: len(data) // 2])
    (d / "noise.mp4").write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    (d / "empty.mov").write_bytes(b"")
    with av.open(str(d / "sound.mp4"), "w") as out:
        s = out.add_stream("aac", rate=48000)
        clips._write_tone(out, s, 1)
    return d


CASES = [
    ("cut.mkv", "the file is truncated (its streams end at"),
    ("cut.mp4", "not a video file FFmpeg can read"),
    ("faststart-cut.mp4", "the file is truncated ("),
    ("noise.mp4", "not a video file FFmpeg can read"),
    ("empty.mov", "not a video file FFmpeg can read"),
    ("sound.mp4", "holds no video stream"),
]


@pytest.mark.parametrize("name,reason", CASES)
def test_broken_video_is_one_clear_failure_and_nothing_is_written(broken, tmp_path, model_run, capsys, name, reason):
    before = snapshot(broken)
    out = tmp_path / "out"
    assert colorize(model_run, str(broken / name), "-o", str(out)) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    failed = [ln for ln in captured.out.splitlines() if ln.startswith("  failed:")]
    assert len(failed) == 1 and str(broken / name) in failed[0] and reason in failed[0], captured.out
    assert not list(out.iterdir())  # no output, no temporary file
    assert snapshot(broken) == before
    with pytest.raises(TintaError, match=reason.split(" (")[0]):  # the API says the same
        tinta.colorize_video(broken / name, tmp_path / "api.mp4", model=str(model_run))
    assert not (tmp_path / "api.mp4").exists() and not temp_files(tmp_path)


def test_whole_files_of_the_fixture_are_fine(broken, tmp_path, model_run):
    assert colorize(model_run, str(broken / "whole"), "-o", str(tmp_path)) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mkv", "b.mp4"]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """Several batches of frames in each half (the held process stops after the first)."""
    return clips.write_clip(tmp_path_factory.mktemp("long") / "long.mp4", frames(64, 96, 72), 24, audio=True)


@pytest.mark.parametrize("extra", [[], ["--shard", "1/2"]])
def test_sigterm_mid_clip_leaves_no_output(long_clip, tmp_path, model_run, extra):
    clip = long_clip
    before = snapshot(clip.parent)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "OMP_NUM_THREADS": "1"}
    held = tmp_path / "held"
    p = subprocess.Popen([sys.executable, str(HELD), str(held), "video", "colorize", str(clip), "-o", str(out),
                          "--checkpoint", str(model_run), *extra], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    wait_until_held(p, held)  # eight frames written, the ninth held
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert list(out.iterdir()) == []  # no output, no part, no temporary file
    assert snapshot(clip.parent) == before
