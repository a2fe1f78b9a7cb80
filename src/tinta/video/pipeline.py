"""Colourizing a clip end to end: decode, colourize in batches, stabilise, encode, copy the audio.

Frames stream through in batches of ``VideoOptions.batch`` (memory: a batch of frames, whatever the
length). Each batch goes through the model at once (L at the render size), the stabiliser smooths
the small a,b along the motion, and the a,b are upsampled and joined with every frame's own
full-resolution L, as for photos. The output is written under a temporary name and renamed when
complete, so an interrupted run (Ctrl-C, SIGTERM) or a damaged input leaves nothing half-written.

Sharding (``--shard I/N``): shard I colourizes frames ``[I n/N, (I+1) n/N)`` into a hidden part
file beside the output (starting ``preroll`` frames earlier, unwritten, so the stabiliser is warm at
the seam); the shard that finds every part complete joins them by copying packets, with the audio.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from tinta.errors import TintaError
from tinta.files import atomic_path, atomic_write, sweep_stale_temps, tmp_path
from tinta.heads import check_saturation
from tinta.hints import displayed_to_stored
from tinta.inference import Colorizer, Guide, cached_model, check_render_size, predict_from_input, render_input
from tinta.video import container_of, io
from tinta.video.stabilize import StabilizeOptions, Stabilizer, require_cv2


@dataclass
class VideoOptions:
    """How clips are colourized (the same for every clip of a batch)."""

    saturation: float = 1.0  # chroma gain, 0 to 4
    stabilize: StabilizeOptions | None = field(default_factory=StabilizeOptions)  # None: frame by frame
    batch: int = 8  # frames through the model at once
    shard: tuple[int, int] = (0, 1)  # (I, N): this process colourizes frames [I n/N, (I+1) n/N)
    preroll: int = 16  # frames before a shard's range run through the stabiliser, not written
    guide: Guide | None = None  # point hints, a reference's or a palette's colours, for the whole clip
    progress: bool = False  # a progress bar (frames/s, time left) on stderr

    def __post_init__(self):
        check_saturation(self.saturation)
        i, n = self.shard
        if not (n >= 1 and 0 <= i < n) or self.batch < 1 or self.preroll < 0:
            raise TintaError(f"bad video options: shard {i}/{n}, batch {self.batch}, preroll {self.preroll}")


@dataclass
class VideoResult:
    path: Path | None  # the output, or None while other shards' parts are missing
    frames: int  # frames this call colourized and wrote
    seconds: float  # wall time, decode to encode
    cuts: int  # scene cuts the stabiliser found
    notes: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def lightness(rgb: np.ndarray) -> np.ndarray:
    """sRGB ``(H, W, 3)`` uint8 -> CIE L ``(H, W)`` float32 in [0, 100]. OpenCV's float Lab conversion
    (the same D65 sRGB formulas as :mod:`tinta.color`, within 0.3 L; ~3x faster on a frame)."""
    cv2 = require_cv2()
    return cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2Lab)[..., 0]


def to_rgb8(L: np.ndarray, ab: np.ndarray) -> np.ndarray:
    """L ``(H, W)`` and a,b ``(2, H, W)`` float32 -> sRGB ``(H, W, 3)`` uint8 (clipped, rounded)."""
    cv2 = require_cv2()
    rgb = cv2.cvtColor(cv2.merge([L, ab[0], ab[1]]), cv2.COLOR_Lab2RGB)
    np.clip(rgb, 0.0, 1.0, out=rgb)
    return cv2.convertScaleAbs(rgb, alpha=255.0)  # rounds and saturates (all values are >= 0 here)


class FrameColorizer:
    """Frames in, colourized frames out, in order: batched through the model, then stabilised."""

    def __init__(self, colorizer: Colorizer, options: VideoOptions, size: tuple[int, int], rotation: int = 0):
        """``size``: the stored frames' (width, height); ``rotation``: the display rotation (degrees
        counter-clockwise). Point hints are in the displayed frame's pixels, as a viewer shows the clip."""
        self.colorizer, self.options = colorizer, options
        guide = options.guide or Guide()
        self.guide = replace(guide, hints=displayed_to_stored(guide.hints, *size, rotation))
        self.stabilizer = Stabilizer(options.stabilize) if options.stabilize else None

    @property
    def cuts(self) -> int:
        return self.stabilizer.cuts if self.stabilizer else 0

    @torch.no_grad()
    def predict(self, L: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """L ``(B, 1, H, W)`` in [0, 100] -> (a,b ``(B, 2, h, w)`` at the model's render / native size,
        L at the render size ``(B, rh, rw)``), numpy float32."""
        c = self.colorizer
        x = render_input(L, c.render_size)  # (B, 1, rh, rw) = L / 100
        pred = predict_from_input(c.model, c.head, x, L.shape[-2:], c.head.main, self.options.saturation, self.guide)
        ab = pred[:, -2:].float()  # a decoding with its own lightness: the film keeps its own L
        return ab.numpy(), (x[:, 0] * 100.0).float().numpy()

    def __call__(self, frames: list[np.ndarray]) -> list[np.ndarray]:
        """sRGB frames ``(H, W, 3)`` uint8 -> colourized frames, same size."""
        if not frames:
            return []
        cv2 = require_cv2()
        L = np.stack([lightness(f) for f in frames])  # (B, H, W)
        ab_small, L_render = self.predict(torch.from_numpy(L)[:, None])
        H, W = L.shape[1:]
        out = []
        for i in range(len(frames)):
            ab = ab_small[i]
            if self.stabilizer is not None:
                ab, _ = self.stabilizer(L_render[i], ab)
            up = [cv2.resize(np.ascontiguousarray(c), (W, H), interpolation=cv2.INTER_LINEAR) for c in ab]
            out.append(to_rgb8(L[i], up))
        return out


def _progress(total: int, name: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=name, unit="frame", disable=not enabled, file=sys.stderr, smoothing=0.1)


def _stream(info: io.VideoInfo, frames: FrameColorizer, writer: io.Writer, span: tuple[int, int], preroll: int,
            bar) -> int:
    """Frames ``span`` of the clip through ``frames`` into ``writer`` (and the audio when the writer takes
    it: a whole clip); -> frames written."""
    first, stop = span
    whole = bool(writer.audio.streams)
    chunk: list[tuple[int, int, np.ndarray]] = []
    written = 0

    def flush():
        nonlocal written
        for (i, pts, _), rgb in zip(chunk, frames([f for _, _, f in chunk])):
            if i >= first:
                writer.write(rgb, pts)
                written += 1
                bar.update(1)
        chunk.clear()

    for item in io.read(info, max(0, first - preroll), stop, audio=whole):
        if not isinstance(item, tuple):
            writer.audio.mux(item)
            continue
        chunk.append(item)
        if len(chunk) == frames.options.batch:
            flush()
    flush()
    return written


def part_path(dst: Path, i: int, n: int) -> Path:
    """The hidden file shard ``i`` of ``n`` writes its frames to, beside ``dst``."""
    return dst.with_name(f".{dst.name}.part-{i}-of-{n}.{io.PART_MUXER}")


def shard_span(frames: int, i: int, n: int) -> tuple[int, int]:
    """Frames ``[first, stop)`` of shard ``i`` of ``n`` (empty when the clip has fewer frames than shards)."""
    return frames * i // n, frames * (i + 1) // n


def _join_when_complete(dst: Path, info: io.VideoInfo, container: str, n: int) -> tuple[Path | None, list[str]]:
    """Join the parts into ``dst`` when all ``n`` are there (the caller's part included; a shard with no
    frames records an empty part); the joiner claims part 0 by renaming it, so two shards finishing at
    once never both join."""
    parts = [part_path(dst, k, n) for k in range(n)]
    if not all(p.is_file() for p in parts):
        return None, []
    claim = tmp_path(parts[0])  # swept as a stale temporary file if this process dies
    try:
        os.rename(parts[0], claim)
    except FileNotFoundError:  # another shard is joining
        return None, []
    full = [p for k, p in enumerate([claim, *parts[1:]]) if len(range(*shard_span(info.frames, k, n)))]
    try:
        with atomic_path(dst) as tmp:
            notes = io.join(full, info, tmp, container)
    except BaseException:
        os.replace(claim, parts[0])
        raise
    for p in [claim, *parts[1:]]:
        with contextlib.suppress(OSError):
            p.unlink()
    return dst, notes


def colorize_file(colorizer: Colorizer, src: Path, dst: Path, container: str, options: VideoOptions) -> VideoResult:
    """Colourize the video ``src`` into ``dst`` (FFmpeg muxer ``container``); this shard's frames only
    when ``options.shard`` has N > 1. Raises TintaError for an unreadable, damaged or truncated input."""
    info = io.probe(src)
    i, n = options.shard
    span = shard_span(info.frames, i, n)
    frames = FrameColorizer(colorizer, options, (info.width, info.height), info.rotation)
    t0 = time.perf_counter()
    with _progress(span[1] - span[0], src.name, options.progress) as bar:
        if n == 1:
            with atomic_path(dst) as tmp, io.open_input(src) as source, io.Writer(tmp, container, info, source) as w:
                written = _stream(info, frames, w, span, 0, bar)
            path, notes = dst, list(w.notes)
        else:
            written = _write_part(info, frames, part_path(dst, i, n), container, span, options.preroll, bar)
            path, notes = _join_when_complete(dst, info, container, n)
            if path is None:
                done = f"frames {span[0]}..{span[1] - 1}" if written else "no frames (the clip is shorter)"
                notes.append(f"{src}: {done} of {info.frames} written (shard {i}/{n}); "
                             f"the last shard to finish joins the parts into {dst}")
    return VideoResult(path, written, time.perf_counter() - t0, frames.cuts, info.notes + notes)


def _write_part(info: io.VideoInfo, frames: FrameColorizer, part: Path, container: str, span: tuple[int, int],
                preroll: int, bar) -> int:
    """This shard's frames into its hidden part file; a shard with no frames records an empty file."""
    if span[0] == span[1]:
        atomic_write(part, lambda tmp: tmp.write_bytes(b""))
        return 0
    with atomic_path(part) as tmp, io.Writer(tmp, container, info, parts=True) as w:
        return _stream(info, frames, w, span, preroll, bar)


def colorize_video(src: str | Path, dst: str | Path, model: str | Colorizer = "default", saturation: float = 1.0,
                   render_size: int | None = None, *, stabilize: bool | StabilizeOptions = True,
                   format: str | None = None, shard: tuple[int, int] = (0, 1), hints=None, reference=None,
                   palette=None, progress: bool = False) -> VideoResult:
    """Colourize a film clip: ``src`` (any file FFmpeg reads) -> ``dst`` (a file, or a folder to write
    ``src``'s name into), same frame rate, size, duration and audio. The container follows ``dst``'s
    suffix or ``format`` (mp4, m4v, mov, mkv, avi, webm). ``stabilize``: keep colours steady along the
    motion (True, or :class:`StabilizeOptions`; False: frame by frame). ``hints`` / ``reference`` /
    ``palette`` guide the whole clip (guided models). ``render_size`` (None: the model's own) applies to a
    loaded :class:`~tinta.inference.Colorizer` too. ``shard=(I, N)``: this process's share of the frames
    (see the module docstring)."""
    folder = os.path.isdir(dst) or str(dst).endswith(("/", os.sep)) or not Path(dst).suffix
    src, dst = Path(src), Path(dst) / Path(src).name if folder else Path(dst)
    container, suffix = container_of(dst, format)
    dst = dst.with_suffix(suffix)
    if dst.resolve() == src.resolve():
        raise TintaError(f"output {dst} would overwrite the input; choose another path")
    stab = StabilizeOptions() if stabilize is True else (stabilize or None)
    colorizer = (model.at_render_size(render_size) if isinstance(model, Colorizer)
                 else cached_model(model, check_render_size(render_size)))
    options = VideoOptions(saturation, stab, shard=tuple(shard), guide=colorizer.guide(hints, reference, palette),
                           progress=progress)
    dst.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(dst.parent)
    return colorize_file(colorizer, src, dst, container, options)
