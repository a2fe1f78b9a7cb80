"""Colourizing film clips: decode with FFmpeg (PyAV), colourize frames in batches, keep colours
steady along the motion, encode, copy the audio untouched.

    import tinta
    tinta.colorize_video("clip.mp4", "out/clip.mp4")            # shipped default model
    tinta.colorize_video("clip.mkv", "out/clip.mp4", model="vivid", stabilize=False)

Modules: :mod:`tinta.video.io` (PyAV: probing, reading, writing, audio copy, joining shard parts),
:mod:`tinta.video.stabilize` (the temporal stabiliser: motion-compensated smoothing of the predicted
a,b with scene-cut resets), :mod:`tinta.video.pipeline` (:func:`colorize_video`, sharding),
:mod:`tinta.video.measure` (flicker and synthetic clips with known colour and motion, for tests and
``benchmarks/video.py``). PyAV and OpenCV are the ``video`` extra (``pip install 'tinta[video]'``);
this package imports neither until a video is opened, so listing and planning stay light.
"""

from __future__ import annotations

# container (file suffix) -> FFmpeg muxer name
CONTAINERS = {"mp4": "mp4", "m4v": "mp4", "mov": "mov", "mkv": "matroska", "avi": "avi", "webm": "webm"}
VIDEO_SUFFIXES = {"." + k for k in CONTAINERS}


def is_video(path) -> bool:
    """True when ``path``'s suffix names a video container tinta colourizes (.mp4 .mkv .avi .mov .webm .m4v)."""
    return str(path).lower().endswith(tuple(VIDEO_SUFFIXES))


def container_of(path, fmt: str | None) -> tuple[str, str]:
    """(FFmpeg muxer, file suffix) of an output: ``fmt`` (a container suffix without the dot) or ``path``'s."""
    from pathlib import Path

    from tinta.errors import TintaError

    key = (fmt or Path(path).suffix.lstrip(".")).lower()
    if key not in CONTAINERS:
        what = f"format {fmt!r}" if fmt else f"{path}: the suffix"
        raise TintaError(f"{what} is no video container tinta writes ({', '.join(sorted(CONTAINERS))})")
    return CONTAINERS[key], ("." + key if fmt else Path(path).suffix)


def __getattr__(name):  # PyAV / OpenCV / torch load on first use
    if name in ("colorize_video", "VideoOptions"):
        from tinta.video import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
