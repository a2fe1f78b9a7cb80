"""Video inputs of every shape the containers allow: audio at rates the output codec refuses, AVI's
frame-counting clock beside sound, clips shorter than the shard count, phone videos with a display
rotation, streams an output does not carry. Each: the right output or one clear line, the input
byte-identical, no temporary or part file left behind."""

from __future__ import annotations

import contextlib
import json
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

av = pytest.importorskip("av")
pytest.importorskip("cv2")

from faults.conftest import colorize, snapshot, temp_files  # noqa: E402
from tinta.cli import main  # noqa: E402
from tinta.video import clips, io  # noqa: E402

from helpers import make_run, photo  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny frames: one thread is faster


def in_folder(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir(exist_ok=True)
    return tmp_path / "in"


def frames(n: int, w: int = 64, h: int = 48):
    return clips.clip_frames([clips.Shot(photo(120, 160, seed=1), n)], w, h)


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*"))


def frame_times(path: Path, n: int = 4) -> list[float]:
    with av.open(str(path)) as c:
        return [round(float(f.pts * f.time_base), 4) for f, _ in zip(c.decode(video=0), range(n))]


@pytest.mark.parametrize("suffix, codec", [("mp4", "aac"), ("avi", "mp3")])
def test_webm_output_resamples_44k_sound_for_opus(model_run, tmp_path, capsys, suffix, codec):
    """AAC / MP3 at 44.1 kHz into .webm used to fail with a raw `avcodec_open2("libopus") returned 22`."""
    src = clips.write_clip(in_folder(tmp_path) / f"a.{suffix}", frames(12), 12, audio=True, audio_rate=44100)
    before, out = snapshot(src.parent), tmp_path / "out"
    assert colorize(model_run, str(src), "-o", str(out), "--format", "webm") == 0
    assert "re-encoded as opus (resampled from 44100 to 48000 Hz)" in capsys.readouterr().out
    with av.open(str(out / "a.webm")) as c:
        (a,) = c.streams.audio
        assert a.codec_context.name == "opus" and a.codec_context.sample_rate == 48000
        assert sum(f.samples for f in c.decode(a)) == pytest.approx(48000, rel=0.05)  # one second of sound
    assert snapshot(src.parent) == before and not temp_files(tmp_path)


def test_avi_with_sound_keeps_every_frame_on_time(model_run, tmp_path):
    """AAC's priming packet (a negative timestamp) used to shift AVI's whole clock by half a frame:
    frames at 0, 0.083, 0.125 instead of 0, 0.042, 0.083."""
    src = clips.write_clip(tmp_path / "a.mp4", frames(24), 24, audio=True)
    assert colorize(model_run, str(src), "-o", str(tmp_path / "out"), "--format", "avi") == 0
    assert frame_times(tmp_path / "out" / "a.avi") == frame_times(src) == [0.0, 0.0417, 0.0833, 0.125]


@pytest.mark.parametrize("n_frames, shards, order", [(1, 2, (0, 1)), (1, 2, (1, 0)), (2, 3, (2, 0, 1))])
def test_clip_shorter_than_the_shards_is_finished(model_run, tmp_path, capsys, n_frames, shards, order):
    """A shard with no frames used to fail on its own temporary part (a raw FileNotFoundError); the
    parts were never joined and a hidden part stayed behind."""
    src = clips.write_clip(in_folder(tmp_path) / "short.mp4", frames(n_frames), 12, audio=True)
    before, out = snapshot(src.parent), tmp_path / "out"
    rcs = [colorize(model_run, str(src), "-o", str(out), "--shard", f"{i}/{shards}") for i in order]
    captured = capsys.readouterr()
    assert rcs == [0] * shards and "Traceback" not in captured.err + captured.out
    assert io.probe(out / "short.mp4").frames == n_frames and io.probe(out / "short.mp4").audio == 1
    assert json.loads((out / "tinta-summary.json").read_text())["done"] == 1
    assert hidden(out) == [] and snapshot(src.parent) == before


@pytest.fixture(scope="module")
def guided_run(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("guided") / "run", model="guided-unet")


def _phone_clip(path: Path, rotation: int) -> Path:
    """A 64x48 clip stored landscape, shown rotated by ``rotation`` degrees counter-clockwise."""
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=12)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        if not hasattr(s, "set_display_rotation"):
            pytest.skip("this PyAV cannot write a display rotation")
        s.set_display_rotation(rotation)
        for i, f in enumerate(frames(3)):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode())
    return path


@pytest.mark.parametrize("rotation", [90, -90])
def test_hints_on_a_rotated_phone_video_are_in_the_displayed_frame(guided_run, tmp_path, capsys, rotation):
    """The viewer sees 48x64; a hint at (40, 60) used to be refused as outside the stored 64x48."""
    src = _phone_clip(tmp_path / "phone.mp4", rotation)
    before = snapshot(tmp_path)
    args = ["colorize", str(src), "--checkpoint", str(guided_run)]
    assert main([*args, "-o", str(tmp_path / "out"), "--hint", "40,60=#c03020"]) == 0
    assert io.probe(tmp_path / "out" / "phone.mp4").rotation == rotation
    assert main([*args, "-o", str(tmp_path / "out2"), "--hint", "60,40=#c03020"]) == 1  # outside the 48x64 shown
    assert "hint 60,40=#c03020 is outside the picture (48x64 pixels)" in capsys.readouterr().out
    assert not list((tmp_path / "out2").iterdir())
    assert {k: v for k, v in snapshot(tmp_path).items() if k in before} == before


def test_streams_left_out_are_noted_in_the_summary(model_run, tmp_path):
    """A subtitle stream used to be dropped without a word."""
    srt = tmp_path / "s.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:00,200\nhello\n\n")
    src = in_folder(tmp_path) / "sub.mkv"
    with av.open(str(srt)) as text, av.open(str(src), "w") as out:
        v = out.add_stream("libx264", rate=12)
        v.width, v.height, v.pix_fmt = 64, 48, "yuv420p"
        s = out.add_stream_from_template(text.streams[0])
        for i, f in enumerate(frames(3)):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            frame.pts = i
            out.mux(v.encode(frame))
        out.mux(v.encode())
        for p in text.demux():
            if p.dts is not None:
                p.stream = s
                out.mux(p)
    summary = tmp_path / "s.json"
    assert colorize(model_run, str(src), "-o", str(tmp_path / "out"), "--summary", str(summary)) == 0
    notes = json.loads(summary.read_text())["notes"]
    assert any("1 subtitle stream not copied" in n and str(src) in n for n in notes), notes


@pytest.fixture(scope="module")
def whole_clips(tmp_path_factory) -> dict[str, bytes]:
    """A small clip with sound in every container tinta writes (each with its own codecs)."""
    d = tmp_path_factory.mktemp("whole")
    return {s: clips.write_clip(d / f"c.{s}", frames(12), 12, audio=True).read_bytes()
            for s in ("mp4", "mkv", "avi", "webm", "mov")}


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_cut_or_changed_clip_is_whole_output_or_one_clear_failure(model_run, whole_clips, tmp_path, data):
    """Any container, cut short at any byte or with bytes changed: a whole output, or one failure line
    naming the file, with no traceback, no output and no temporary or part file left. (AVI input is left
    to the test below until its defect is fixed; derandomize: the same cases every run.)"""
    suffix = data.draw(st.sampled_from(sorted(set(whole_clips) - {"avi"})))
    _cut_or_changed_clip_is_handled(model_run, suffix, whole_clips[suffix], tmp_path, data.draw)


@pytest.mark.xfail(strict=True, reason="open defect: an AVI with sound cut at 48% and its first byte zeroed gives "
                                       "an output that declares 5 frames and holds 3")
def test_a_cut_avi_gives_a_whole_output(model_run, whole_clips, tmp_path):
    draws = iter([480, 1, 0, 0])  # found by the property test above: cut at 48%, byte 0 set to 0
    _cut_or_changed_clip_is_handled(model_run, "avi", whole_clips["avi"], tmp_path, lambda strategy: next(draws))


def _cut_or_changed_clip_is_handled(model_run, suffix: str, whole: bytes, tmp_path, draw) -> None:
    raw = bytearray(whole[: len(whole) * draw(st.integers(0, 1000)) // 1000])
    for _ in range(draw(st.integers(0, 4))):
        if raw:
            raw[draw(st.integers(0, len(raw) - 1))] = draw(st.integers(0, 255))
    case = tmp_path / f"case-{len(list(tmp_path.iterdir()))}"
    src, out = case / "in" / f"c.{suffix}", case / "out"
    src.parent.mkdir(parents=True)
    src.write_bytes(bytes(raw))
    with contextlib.redirect_stdout(io_text := StringIO()), contextlib.redirect_stderr(StringIO()) as err:
        rc = colorize(model_run, str(src), "-o", str(out))
    assert "Traceback" not in err.getvalue()
    assert src.read_bytes() == bytes(raw) and hidden(case) == []
    if rc == 0:
        assert io.probe(out / src.name).frames >= 1
        return
    failed = [ln for ln in io_text.getvalue().splitlines() if ln.startswith("  failed:")]
    assert rc == 1 and len(failed) == 1 and failed[0].count(str(src)) == 1, io_text.getvalue()
    assert not out.exists() or list(out.iterdir()) == []
