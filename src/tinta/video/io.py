"""Video files through FFmpeg (PyAV): probing, reading frames, encoding, copying audio, joining parts.

No codec work of our own: every container and codec FFmpeg reads is read; output is H.264
(.mp4 .m4v .mov .mkv), MPEG-4 Part 2 (.avi) or VP9 (.webm). Frames keep the input's timestamps
(so frame rate, duration and audio sync are the input's), its size and colour tags. Audio packets
are copied untouched when the output container can hold the codec, else re-encoded to the
container's default audio codec (with a note). Memory stays bounded: frames stream through.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from tinta.errors import TintaError
from tinta.files import not_a_file

# container -> (encoder, options); H.264 CRF 18 is visually lossless for most material
ENCODERS = {
    "mp4": ("libx264", {"crf": "18", "preset": "veryfast"}),
    "mov": ("libx264", {"crf": "18", "preset": "veryfast"}),
    "matroska": ("libx264", {"crf": "18", "preset": "veryfast"}),
    "avi": ("mpeg4", {"qscale": "3"}),
    "webm": ("libvpx-vp9", {"crf": "30", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}),
}


PART_MUXER = "nut"  # shard parts: FFmpeg's NUT keeps any time base exactly (MP4 edit lists round to 1 ms)


def require_av():
    """PyAV, or a TintaError saying how to install it."""
    try:
        import av
    except ImportError:
        raise TintaError("colourizing video needs PyAV and OpenCV: pip install 'tinta[video]'") from None
    return av


@dataclass
class VideoInfo:
    """What :func:`probe` learns from one pass over a file's packets (nothing decoded)."""

    path: Path
    width: int
    height: int
    rate: Fraction  # frames per second (the stream's average)
    time_base: Fraction  # of the video stream's timestamps
    pts: list[int]  # presentation time of every frame, sorted, in time_base units
    audio: int  # audio streams (copied to the output)
    codec: str  # the video codec's name
    rotation: int = 0  # display rotation, degrees counter-clockwise (phone videos), kept in the output
    notes: list[str] = field(default_factory=list)

    @property
    def frames(self) -> int:
        return len(self.pts)

    @property
    def duration(self) -> float:
        """Seconds from the first frame to the end of the last (shown for one frame at the average rate)."""
        return float((self.pts[-1] - self.pts[0]) * self.time_base + 1 / self.rate) if self.pts else 0.0


def _open(path: Path):
    av = require_av()
    if not path.is_file():
        raise TintaError(f"{path}: {not_a_file(path)}")
    try:
        container = av.open(str(path), metadata_errors="replace")
    except av.FFmpegError as e:
        raise TintaError(f"{path}: not a video file FFmpeg can read ({_reason(e)})") from None
    if not container.streams.video:
        container.close()
        raise TintaError(f"{path}: holds no video stream")
    return container


def _reason(e: Exception) -> str:
    return getattr(e, "strerror", None) or str(e)


def probe(path: str | Path) -> VideoInfo:
    """Size, rate, timestamps of every frame and audio streams; raises TintaError for a file FFmpeg
    cannot read, one without video or frames, and a truncated one (its streams end well before the
    duration its header gives, or it has fewer frames than its header declares)."""
    av, path = require_av(), Path(path)
    with _open(path) as c:
        vs = c.streams.video[0]
        pts, ends = [], {}
        try:
            for p in c.demux(vs, *c.streams.audio):
                t = p.pts if p.pts is not None else p.dts
                if t is None:
                    continue
                if p.stream is vs:
                    pts.append(t)
                if p.dts is not None:  # decode order: a cut-off file's last packets are missing here
                    ends[p.stream.index] = float((p.dts + (p.duration or 0)) * p.time_base)
        except av.FFmpegError as e:
            raise TintaError(f"{path}: the file is damaged after {len(pts)} frames ({_reason(e)})") from None
        if not pts:
            raise TintaError(f"{path}: the video stream holds no frames")
        rate = vs.average_rate or vs.guessed_rate or Fraction(25)
        info = VideoInfo(path, vs.codec_context.width, vs.codec_context.height, Fraction(rate), Fraction(vs.time_base),
                         sorted(pts), len(c.streams.audio), vs.codec_context.name)
        _check_whole(info, vs.frames, c, ends, vs.codec_context.has_b_frames)
        info.notes += _left_out(path, [s for s in c.streams if s is not vs and s.type != "audio"])
    info.rotation = _rotation(path)
    return info


def _left_out(path: Path, streams: list) -> list[str]:
    """Notes on the streams an output does not carry (subtitles, more video streams, data)."""
    kinds: dict[str, int] = {}
    for s in streams:
        kind = "other video" if s.type == "video" else s.type
        kinds[kind] = kinds.get(kind, 0) + 1
    return [f"{path}: {n} {kind} stream{'s' * (n > 1)} not copied (outputs hold the first video stream and the audio)"
            for kind, n in kinds.items()]


def _rotation(path: Path) -> int:
    """The first frame's display rotation (0 when it cannot be decoded: reading reports that)."""
    av = require_av()
    try:
        with _open(path) as c:
            for frame in c.decode(video=0):
                return int(getattr(frame, "rotation", 0) or 0)
    except av.FFmpegError:
        pass
    return 0


def _set_rotation(stream, info: VideoInfo) -> None:
    if info.rotation and hasattr(stream, "set_display_rotation"):  # recent PyAV only
        stream.set_display_rotation(info.rotation)
    elif info.rotation:
        info.notes.append(f"{info.path}: its display rotation ({info.rotation} degrees) is not kept (PyAV too old)")


def _check_whole(info: VideoInfo, declared: int, c, ends: dict[int, float], reorder: int) -> None:
    """TintaError when the file is cut short: fewer frames than declared, or every stream ending
    well before the container's duration (a cut-off download). Ends are in decode order, which
    trails the display order by ``reorder`` frames (B-frames)."""
    if declared and info.frames < declared - 1:  # AVI headers may count one frame more than they hold
        raise TintaError(f"{info.path}: the file is truncated ({info.frames} of its {declared} frames are there)")
    if c.duration and ends:
        total = c.duration / 1e6 + (c.start_time or 0) / 1e6
        end = max(ends.values())
        if end < total - max((3 + reorder) / float(info.rate), 0.01 * total, 0.1):
            raise TintaError(f"{info.path}: the file is truncated (its streams end at {end:.2f} s of {total:.2f} s)")


def frame_index(info: VideoInfo, pts: int | None) -> int:
    """Position of a frame in the clip (by its timestamp)."""
    import bisect

    return bisect.bisect_left(info.pts, pts) if pts is not None else -1


def read(info: VideoInfo, first: int = 0, stop: int | None = None, audio: bool = True) -> Iterator:
    """Frames ``first`` to ``stop`` (exclusive) as ``(index, pts, rgb)`` with rgb ``(H, W, 3)`` uint8,
    interleaved with the input's audio packets (``audio``, and only when reading from frame 0 to the
    end) in file order. Seeks to the keyframe before ``first``; damaged data -> TintaError."""
    av = require_av()
    stop = info.frames if stop is None else stop
    with _open(info.path) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"
        streams = [vs, *c.streams.audio] if audio and first == 0 and stop == info.frames else [vs]
        if first > 0:
            c.seek(info.pts[first], stream=vs, backward=True)
        done = first
        try:
            for packet in c.demux(*streams):
                if packet.stream is not vs:
                    if packet.dts is not None:
                        yield packet
                    continue
                for frame in packet.decode():
                    i = frame_index(info, frame.pts) if frame.pts is not None else done
                    if i < first:
                        continue
                    if i >= stop:
                        return
                    done = i + 1
                    yield i, info.pts[min(i, info.frames - 1)], frame.to_ndarray(format="rgb24")
        except av.FFmpegError as e:
            raise TintaError(f"{info.path}: the file is damaged at frame {done} ({_reason(e)})") from None
        if done < stop - max(2, info.frames // 100):
            raise TintaError(f"{info.path}: only {done - first} of frames {first}..{stop - 1} could be decoded")


def output_time_base(container: str, info: VideoInfo) -> Fraction:
    """AVI counts frames, so its time base is one frame; the other containers keep the input's."""
    return Fraction(1, 1) / info.rate if container == "avi" else info.time_base


def encoder_rate(codec: str, rate: int) -> int:
    """``rate`` if the audio encoder ``codec`` takes it, else the nearest rate above it that it takes
    (the highest when none is above: Opus takes 48 kHz, not 44.1 kHz)."""
    rates = require_av().codec.Codec(codec, "w").audio_rates or ()
    if not rates or rate in rates:
        return rate
    above = [r for r in rates if r > rate]
    return min(above) if above else max(rates)


def open_output(path: Path, container: str):
    """An output container. AVI counts frames: negative audio timestamps (AAC's priming packet) are kept
    as they are, since shifting every stream to start at 0 would move the video by half a frame."""
    options = {"avoid_negative_ts": "disabled"} if container == "avi" else {}
    return require_av().open(str(path), "w", format=container, options=options)


class AudioCopy:
    """The input's audio streams in an output: packets copied untouched when the container can hold
    the codec, else decoded and re-encoded to the container's default audio codec (noted)."""

    def __init__(self, out, streams):
        self.out, self.notes = out, []
        self.streams = {s.index: self._add(s) for s in streams}

    def _add(self, template):
        if template.codec_context.name in self.out.supported_codecs:
            return self.out.add_stream_from_template(template), False
        codec, rate = self.out.default_audio_codec, template.codec_context.sample_rate
        fit = encoder_rate(codec, rate)
        self.notes.append(f"{template.codec_context.name} audio cannot go into .{self.out.format.name}; "
                          f"re-encoded as {codec}" + (f" (resampled from {rate} to {fit} Hz)" if fit != rate else ""))
        s = self.out.add_stream(codec, rate=fit)  # the encoder resamples the decoded frames to its rate
        s.layout = template.codec_context.layout
        return s, True

    def mux(self, packet) -> None:
        """One audio packet of the input."""
        stream, transcode = self.streams[packet.stream.index]
        if not transcode:
            packet.stream = stream
            self.out.mux(packet)
            return
        for frame in packet.decode():
            frame.pts = None  # the encoder counts samples from the stream's start
            for p in stream.encode(frame):
                self.out.mux(p)

    def flush(self) -> None:
        for stream, transcode in self.streams.values():
            if transcode:
                for p in stream.encode():
                    self.out.mux(p)


class Writer:
    """An output file being written (use as a context manager): the colourized video stream, encoded
    with the input's timestamps, size and colour tags, plus the input's audio streams."""

    def __init__(self, path: Path, container: str, info: VideoInfo, audio_from=None, parts: bool = False):
        """``container``: an FFmpeg muxer name (``CONTAINERS``' values); ``audio_from``: an open input
        whose audio streams are copied; ``parts``: a shard part (``PART_MUXER``, exact timestamps, no
        B-frames), encoded for ``container`` and joined into it later by copying packets."""
        self.info = info
        self.out = open_output(path, PART_MUXER if parts else container)
        try:
            self.video = self._video_stream(container, info, parts)
            self.audio = AudioCopy(self.out, audio_from.streams.audio if audio_from else ())
        except BaseException:
            self.out.close()
            raise

    @property
    def notes(self) -> list[str]:
        return self.audio.notes

    def _video_stream(self, container: str, info: VideoInfo, parts: bool):
        codec, options = ENCODERS[container]
        s = self.out.add_stream(codec, rate=info.rate)
        s.width, s.height = info.width, info.height
        odd = info.width % 2 or info.height % 2
        s.pix_fmt = "yuv444p" if odd and codec == "libx264" else "yuv420p"
        self.time_base = output_time_base(container, info)
        self.last_pts = None
        s.time_base = s.codec_context.time_base = self.time_base
        s.codec_context.framerate = info.rate
        s.options = dict(options)
        if parts:
            s.codec_context.max_b_frames = 0
        else:
            _set_rotation(s, info)
        if codec == "mpeg4":
            s.codec_context.qscale, s.options = True, {}
            s.codec_context.global_quality = 3 * 118  # FF_QP2LAMBDA * q
        return s

    def write(self, rgb: np.ndarray, pts: int) -> None:
        """One colourized frame ``(H, W, 3)`` uint8 shown at ``pts`` (input time base)."""
        av = require_av()
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if self.time_base != self.info.time_base:
            pts = round(pts * self.info.time_base / self.time_base)
        if self.last_pts is not None:  # a damaged file's repeated timestamp would stop the encoder
            pts = max(pts, self.last_pts + 1)
        frame.pts, frame.time_base, self.last_pts = pts, self.time_base, pts
        for p in self.video.encode(frame):
            self.out.mux(p)

    def close(self) -> None:
        """Flush the encoders and write the trailer."""
        for p in self.video.encode():
            self.out.mux(p)
        self.audio.flush()
        self.out.close()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:  # the caller removes the temporary file
            self.out.close()


def _packets(path: Path, kind: str) -> Iterator:
    """Packets of ``path``'s ``kind`` streams with timestamps, in file order, as (seconds, packet)."""
    with _open(path) as c:
        streams = c.streams.video[:1] if kind == "video" else list(c.streams.audio)
        for p in c.demux(*streams) if streams else ():
            if p.dts is not None:
                yield float(p.dts * p.time_base), p


def join(parts: list[Path], src: VideoInfo, dst: Path, container: str) -> list[str]:
    """Shard parts (video only, no B-frames, timestamps of the input) joined into ``dst`` by copying
    packets, with the input's audio copied beside them. Returns notes."""
    with _open(parts[0]) as first, _open(src.path) as source, open_output(dst, container) as out:
        video = out.add_stream_from_template(first.streams.video[0])
        video.time_base = output_time_base(container, src)
        video.codec_context.framerate = src.rate  # a decoder reports 1 / time base here
        _set_rotation(video, src)
        audio = AudioCopy(out, source.streams.audio)
        frames = (item for part in parts for item in _packets(part, "video"))
        for _, p in heapq.merge(frames, _packets(src.path, "audio"), key=lambda x: x[0]):
            if p.stream.type == "video":
                p.stream = video
                out.mux(p)
            else:
                audio.mux(p)
        audio.flush()
    return audio.notes


def open_input(path: Path):
    """The input opened for its audio streams' parameters (a context manager)."""
    return _open(Path(path))
