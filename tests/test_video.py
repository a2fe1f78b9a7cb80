"""Video: real clips (camera pans and zooms over real photos, a hard cut, encoded with the real codecs,
with and without sound) through `tinta colorize` and `tinta.colorize_video`; frame rate, size,
timestamps and audio packets kept; shards joined; the stabiliser steadies colours and resets at cuts."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

av = pytest.importorskip("av")
cv2 = pytest.importorskip("cv2")

import tinta  # noqa: E402
from tinta import color  # noqa: E402
from tinta.cli import main  # noqa: E402
from tinta.inference import load_model  # noqa: E402
from tinta.video import clips, io, measure  # noqa: E402
from tinta.video.pipeline import FrameColorizer, VideoOptions, lightness, to_rgb8  # noqa: E402
from tinta.video.stabilize import StabilizeOptions, Stabilizer  # noqa: E402

from helpers import make_run  # noqa: E402

W, H, FPS = 64, 48, 12


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny frames: one thread is faster


@pytest.fixture(scope="module")
def photos() -> list[np.ndarray]:
    """Two real colour photos (scikit-learn's sample images), reduced to 160x107."""
    from sklearn.datasets import load_sample_image

    return [cv2.resize(load_sample_image(n), (160, 107), interpolation=cv2.INTER_AREA)
            for n in ("china.jpg", "flower.jpg")]


def shots(photos, n: int = 8) -> list[clips.Shot]:
    return [clips.Shot(photos[0], n), clips.Shot(photos[1], n, start=(0.5, 0.5), end=(0.55, 0.45), zoom=(0.9, 0.6))]


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory, photos) -> Path:
    """clip.mp4 (H.264 + AAC, 16 frames with a cut at 8), silent.mkv, grey.webm, clip.avi, clip.mov."""
    d = tmp_path_factory.mktemp("clips")
    clips.write_clip(d / "clip.mp4", clips.clip_frames(shots(photos), W, H), FPS, audio=True)
    clips.write_clip(d / "silent.mkv", clips.clip_frames(shots(photos), W, H), FPS)
    clips.write_clip(d / "grey.webm", clips.clip_frames(shots(photos, 4), W, H), FPS, audio=True, grey=True)
    clips.write_clip(d / "clip.avi", clips.clip_frames(shots(photos, 4), W, H), FPS, audio=True)
    clips.write_clip(d / "clip.mov", clips.clip_frames(shots(photos, 4), W, H), FPS)
    return d


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return make_run(tmp_path_factory.mktemp("video-model") / "run")


def audio_packets(path: Path) -> list[tuple[int, bytes]]:
    with av.open(str(path)) as c:
        return [(p.pts, bytes(p)) for p in c.demux(*c.streams.audio) if p.dts is not None]


def test_api_keeps_rate_size_timestamps_and_copies_audio(clip_dir, tmp_path):
    src = clip_dir / "clip.mp4"
    r = tinta.colorize_video(src, tmp_path / "out", render_size=32)
    assert r.path == tmp_path / "out" / "clip.mp4" and r.frames == 16 and r.cuts == 1
    a, b = io.probe(src), io.probe(r.path)
    assert (b.width, b.height, b.rate, b.pts, b.audio) == (a.width, a.height, a.rate, a.pts, 1)
    assert b.time_base == a.time_base and b.duration == a.duration == pytest.approx(16 / FPS)
    with av.open(str(src)) as x, av.open(str(r.path)) as y:
        assert x.duration == y.duration  # the container's, audio included
    assert audio_packets(r.path) == audio_packets(src)  # every audio packet, byte for byte
    frames = measure.decode(r.path)
    assert len(frames) == 16 and frames[0].shape == (H, W, 3)
    assert not list((tmp_path / "out").glob(".*"))  # no temporary or part file left


@pytest.mark.parametrize("name", ["silent.mkv", "grey.webm", "clip.avi", "clip.mov"])
def test_cli_every_container(clip_dir, tiny, tmp_path, name, capsys):
    src = clip_dir / name
    assert main(["colorize", str(src), "-o", str(tmp_path), "--checkpoint", str(tiny)]) == 0
    out = tmp_path / name
    a, b = io.probe(src), io.probe(out)
    assert (b.width, b.height, b.rate, b.frames, b.audio) == (a.width, a.height, a.rate, a.frames, a.audio)
    assert abs(b.duration - a.duration) < 1e-9
    if a.audio:
        assert audio_packets(out) == audio_packets(src)
    assert "colourized 1 of 1" in capsys.readouterr().out


def test_format_picks_the_container_and_audio_that_cannot_go_there_is_reencoded(clip_dir, tiny, tmp_path, capsys):
    assert main(["colorize", str(clip_dir / "clip.mp4"), "-o", str(tmp_path), "--checkpoint", str(tiny),
                 "--format", "webm", "--no-stabilize"]) == 0
    out = tmp_path / "clip.webm"
    with av.open(str(out)) as c:
        assert [s.codec_context.name for s in c.streams] == ["vp9", "opus"]
    assert io.probe(out).frames == 16
    assert "aac audio cannot go into .webm; re-encoded as opus" in capsys.readouterr().out


def test_shards_split_frame_ranges_and_the_last_joins(clip_dir, tiny, tmp_path, capsys):
    src = clip_dir / "clip.mp4"
    args = ["colorize", str(src), "-o", str(tmp_path), "--checkpoint", str(tiny)]
    assert main([*args, "--shard", "1/3"]) == 0 and main([*args, "--shard", "0/3"]) == 0
    assert not (tmp_path / "clip.mp4").exists()
    assert len(list(tmp_path.glob(".clip.mp4.part-*-of-3.nut"))) == 2
    assert main([*args, "--shard", "2/3"]) == 0
    assert "all 3 shards finished: 1 done, 0 failed" in capsys.readouterr().out
    a, b = io.probe(src), io.probe(tmp_path / "clip.mp4")
    assert (b.pts, b.rate, b.audio) == (a.pts, a.rate, 1)
    assert audio_packets(tmp_path / "clip.mp4") == audio_packets(src)
    assert not list(tmp_path.glob(".clip*"))  # parts removed after the join
    whole = tinta.colorize_video(src, tmp_path / "whole.mp4", model=load_model(str(tiny)))
    joined, single = measure.decode(tmp_path / "clip.mp4"), measure.decode(whole.path)
    assert np.abs(np.stack(joined).astype(int) - np.stack(single)).mean() < 3  # codec noise only


def test_interrupted_run_leaves_nothing(clip_dir, tiny, tmp_path, monkeypatch, capsys):
    calls = []

    def write(self, rgb, pts):
        calls.append(pts)
        if len(calls) == 5:
            raise KeyboardInterrupt

    monkeypatch.setattr(io.Writer, "write", write)
    rc = main(["colorize", str(clip_dir / "clip.mp4"), "-o", str(tmp_path / "out"), "--checkpoint", str(tiny)])
    assert rc == 130 and "interrupted" in capsys.readouterr().err
    assert list((tmp_path / "out").iterdir()) == []


def test_frame_colour_conversions_match_tinta_color(photos):
    rgb = photos[1]
    lab = color.rgb_to_lab(torch.from_numpy(rgb).permute(2, 0, 1))
    assert np.abs(lightness(rgb) - lab[0].numpy()).max() < 0.3
    back = to_rgb8(lab[0].numpy(), lab[1:].numpy())
    assert np.abs(back.astype(int) - rgb).max() <= 2


def _run_frames(colorizer, frames, stabilize):
    fc = FrameColorizer(colorizer, VideoOptions(stabilize=stabilize, batch=4), (frames[0].shape[1], frames[0].shape[0]))
    out = [f for i in range(0, len(frames), 4) for f in fc(frames[i : i + 4])]
    return out, fc


def test_stabiliser_reduces_flicker_and_resets_at_the_cut(photos):
    """The shipped model on a grainy 96x72 clip (two shots of 10 frames): motion-compensated flicker
    of the stabilised a,b well below frame by frame, and the first frame after the cut exactly the
    per-frame prediction (no colour carried from the first shot)."""
    rng = np.random.default_rng(0)
    frames = [np.clip(f + rng.normal(0, 6, f.shape[:2])[..., None], 0, 255).astype(np.uint8)
              for f in clips.clip_frames(shots(photos, 10), 96, 72)]  # film grain: the model sees new noise each frame
    colorizer = load_model("default", render_size=64)
    per_frame, _ = _run_frames(colorizer, frames, None)
    steady, fc = _run_frames(colorizer, frames, StabilizeOptions())
    assert fc.cuts == 1
    L, _ = zip(*[measure.lab(f) for f in frames])
    moves = measure.motion(L, [10])
    ab = {k: [measure.lab(f)[1] for f in v] for k, v in (("pf", per_frame), ("st", steady))}
    assert measure.flicker(ab["st"], moves) < 0.8 * measure.flicker(ab["pf"], moves)
    np.testing.assert_array_equal(steady[10], per_frame[10])  # the cut: history dropped
    np.testing.assert_array_equal(steady[0], per_frame[0])
    assert not np.array_equal(steady[11], per_frame[11])


def test_stabiliser_follows_motion_and_detects_cuts(photos):
    frames = list(clips.clip_frames(shots(photos, 6), 96, 72))
    L = [lightness(f) for f in frames]
    ab = [np.ascontiguousarray(measure.lab(f)[1].transpose(2, 0, 1)) for f in frames]
    s = Stabilizer()
    cuts = [s(L[i], ab[i])[1] for i in range(12)]
    assert cuts == [True] + [False] * 5 + [True] + [False] * 5 and s.cuts == 1
    s.reset()
    s(L[0], ab[0])
    out, _ = s(L[1], ab[1])  # the true colours, moved: the warped history agrees, so little changes
    assert np.abs(out - ab[1]).mean() < 1.5
    with pytest.raises(tinta.errors.TintaError, match="strength"):
        StabilizeOptions(strength=1.0)


def test_palette_guides_the_whole_clip(clip_dir, tmp_path):
    plain = tinta.colorize_video(clip_dir / "clip.mov", tmp_path / "plain.mp4", render_size=32, stabilize=False)
    red = tinta.colorize_video(clip_dir / "clip.mov", tmp_path / "red.mp4", render_size=32, stabilize=False,
                               palette=[(200, 30, 30), (150, 20, 40)])
    a = np.stack([measure.lab(f)[1] for f in measure.decode(plain.path)])
    b = np.stack([measure.lab(f)[1] for f in measure.decode(red.path)])
    assert b[..., 0].mean() > a[..., 0].mean() + 5  # redder (a > 0) in every frame on average


def test_bad_paths_are_one_line_errors(clip_dir, tmp_path):
    with pytest.raises(tinta.errors.TintaError, match="no video container"):
        tinta.colorize_video(clip_dir / "clip.mp4", tmp_path / "out.gif")
    with pytest.raises(tinta.errors.TintaError, match="would overwrite the input"):
        tinta.colorize_video(clip_dir / "clip.mp4", clip_dir / "clip.mp4")
    with pytest.raises(tinta.errors.TintaError, match="missing.mp4: no such file"):
        tinta.colorize_video(tmp_path / "missing.mp4", tmp_path / "o.mp4")


def test_hints_steer_the_whole_clip_with_a_guided_model(clip_dir, tmp_path, capsys):
    guided = make_run(tmp_path / "guided", model="guided-unet")
    args = ["colorize", str(clip_dir / "clip.mov"), "--model", str(guided), "--hint", "10,20=#2050a0"]
    assert main([*args, "-o", str(tmp_path / "out")]) == 0
    assert io.probe(tmp_path / "out" / "clip.mov").frames == 8
    assert main([*args[:-1], "100,20=#2050a0", "-o", str(tmp_path / "out2")]) == 1  # outside the 64x48 frames
    assert "hint 100,20=#2050a0 is outside the picture" in capsys.readouterr().out
    assert not list((tmp_path / "out2").iterdir())


def test_display_rotation_of_a_phone_video_is_kept(photos, tmp_path):
    src = tmp_path / "phone.mp4"
    with av.open(str(src), "w") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        if not hasattr(s, "set_display_rotation"):
            pytest.skip("this PyAV cannot write a display rotation")
        s.set_display_rotation(90)
        for i, f in enumerate(clips.clip_frames(shots(photos, 3), W, H)):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts = i
            out.mux(s.encode(frame))
        out.mux(s.encode())
    assert io.probe(src).rotation == 90
    r = tinta.colorize_video(src, tmp_path / "out.mp4", render_size=32)
    assert io.probe(r.path).rotation == 90 and io.probe(r.path).frames == 6


@pytest.mark.parametrize("suffix", ["mp4", "avi"])
def test_odd_frame_sizes_are_kept(photos, tmp_path, suffix):
    frames = [f[:47, :63].copy() for f in clips.clip_frames(shots(photos, 3), W, H)]
    src = clips.write_clip(tmp_path / f"odd.{suffix}", frames, FPS)
    out = tinta.colorize_video(src, tmp_path / "out", render_size=32).path
    assert (io.probe(out).width, io.probe(out).height, io.probe(out).frames) == (63, 47, 6)


def test_a_folder_of_photos_and_a_clip_in_two_shards(clip_dir, photos, tiny, tmp_path, capsys):
    """Pictures are shared out between the shards, every shard takes its frames of every clip;
    --skip-existing leaves a finished clip alone."""
    from PIL import Image

    d = tmp_path / "in"
    d.mkdir()
    for i in range(2):
        Image.fromarray(photos[i][:40, :56]).save(d / f"p{i}.png")
    (d / "clip.mov").write_bytes((clip_dir / "clip.mov").read_bytes())
    args = ["colorize", str(d), "-o", str(tmp_path / "out"), "--checkpoint", str(tiny), "--format", "mkv"]
    assert main([*args, "--shard", "0/2"]) == 0 and main([*args, "--shard", "1/2"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith("tinta-summary")) == \
        ["clip.mkv", "p0.png", "p1.png"]
    assert "all 2 shards finished: 3 done, 0 failed" in capsys.readouterr().out
    assert io.probe(tmp_path / "out" / "clip.mkv").frames == 8
    assert main([*args, "--skip-existing"]) == 0
    assert "skipped 3 already there" in capsys.readouterr().out


def test_variable_frame_rate_timestamps_are_kept(photos, tmp_path):
    src = tmp_path / "vfr.mkv"
    pts = [0, 40, 80, 200, 240, 400, 440, 480]  # ms: frames held for different times
    with av.open(str(src), "w") as out:
        s = out.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = W, H, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        for t, f in zip(pts, clips.clip_frames(shots(photos, 4), W, H)):
            frame = av.VideoFrame.from_ndarray(f, format="rgb24")
            frame.pts, frame.time_base = t, Fraction(1, 1000)
            out.mux(s.encode(frame))
        out.mux(s.encode())
    assert io.probe(src).pts == pts
    out = tinta.colorize_video(src, tmp_path / "out", render_size=32).path
    assert io.probe(out).pts == pts
