"""Synthetic film clips with known colour and motion: camera pans and zooms over real photos, shots
joined by hard cuts, encoded with the real codecs (optionally with a sound track). The tests and
``benchmarks/video.py`` build their clips here, so the ground truth of every frame is the colour
photo itself and the motion is exactly the camera path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from tinta.video import CONTAINERS
from tinta.video.io import ENCODERS, require_av
from tinta.video.stabilize import require_cv2


@dataclass
class Shot:
    """A camera move over one photo: the window's centre goes from ``start`` to ``end`` (fractions of
    the photo's width and height) and its width from ``zoom[0]`` to ``zoom[1]`` of the widest window
    of the frame's aspect that fits the photo; ``frames`` frames."""

    photo: np.ndarray  # (H, W, 3) uint8 sRGB
    frames: int
    start: tuple[float, float] = (0.3, 0.4)
    end: tuple[float, float] = (0.7, 0.6)
    zoom: tuple[float, float] = (0.7, 0.7)


def shot_frames(shot: Shot, width: int, height: int) -> Iterator[np.ndarray]:
    """The shot's frames, ``(height, width, 3)`` uint8 each (bicubic resampling of the photo)."""
    cv2 = require_cv2()
    H, W = shot.photo.shape[:2]
    widest = min(W, H * width / height)
    for t in np.linspace(0.0, 1.0, shot.frames):
        ww = widest * (shot.zoom[0] + t * (shot.zoom[1] - shot.zoom[0]))  # window width, photo pixels
        s = ww / width  # photo pixels per frame pixel
        cx = W * (shot.start[0] + t * (shot.end[0] - shot.start[0]))
        cy = H * (shot.start[1] + t * (shot.end[1] - shot.start[1]))
        cx = min(max(cx, ww / 2), W - ww / 2)
        cy = min(max(cy, height * s / 2), H - height * s / 2)
        m = np.array([[s, 0, cx - s * width / 2], [0, s, cy - s * height / 2]], dtype=np.float64)  # frame -> photo
        yield cv2.warpAffine(shot.photo, m, (width, height), flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REFLECT)


def clip_frames(shots: list[Shot], width: int, height: int) -> Iterator[np.ndarray]:
    """Every shot's frames in turn: a hard cut between shots."""
    for shot in shots:
        yield from shot_frames(shot, width, height)


def cut_frames(shots: list[Shot]) -> list[int]:
    """Indices of the first frame of every shot after the first."""
    return list(np.cumsum([s.frames for s in shots])[:-1].astype(int))


def write_clip(path: str | Path, frames: Iterable[np.ndarray], fps: int = 12, audio: bool = False,
               grey: bool = False, audio_rate: int = 48000) -> Path:
    """Encode ``frames`` (``(H, W, 3)`` uint8) into ``path`` (its suffix picks the container and codec:
    H.264, MPEG-4 or VP9) at ``fps``; ``audio``: a 440 Hz tone as long as the clip in the container's
    default audio codec (AAC, Opus, MP3) at ``audio_rate`` samples per second; ``grey``: the frames' luma
    only (a black-and-white film)."""
    av, path = require_av(), Path(path)
    container = CONTAINERS[path.suffix.lstrip(".").lower()]
    codec, options = ENCODERS[container]
    n = 0
    with av.open(str(path), "w", format=container) as out:
        v = out.add_stream(codec, rate=fps, options=dict(options) if codec != "mpeg4" else {})
        sound = _tone_stream(out, audio_rate) if audio else None
        for rgb in frames:
            if n == 0:
                v.height, v.width = rgb.shape[:2]
                v.pix_fmt = "yuv444p" if codec == "libx264" and (v.width % 2 or v.height % 2) else "yuv420p"
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame = frame.reformat(format="gray").reformat(format=v.pix_fmt) if grey else frame
            frame.pts = n
            out.mux(v.encode(frame))
            n += 1
        out.mux(v.encode())
        if sound is not None:
            _write_tone(out, sound, Fraction(n, fps))
    return path


def _tone_stream(out, rate: int = 48000):
    s = out.add_stream(out.default_audio_codec, rate=rate)
    s.layout = "stereo"
    return s


def _write_tone(out, s, seconds: Fraction) -> None:
    av = require_av()
    rate, size = s.codec_context.sample_rate, s.codec_context.frame_size or 1024
    total = int(seconds * rate)
    for t in range(0, total, size):
        k = np.arange(t, min(total, t + size))
        wave = (0.2 * np.sin(2 * np.pi * 440 * k / rate)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = rate, t
        out.mux(s.encode(frame))
    out.mux(s.encode())
