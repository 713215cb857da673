"""Read a video's (or still image's) metadata and refuse files that cannot be used, with a clear reason."""

from __future__ import annotations

import logging
import os
from array import array
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from sitewatch import errors
from sitewatch.schema import VideoInfo
from sitewatch.video.image import decode_image, is_still_image, read_header
from sitewatch.video.limits import DEFAULT_MAX_DURATION_S, DEFAULT_MAX_PIXELS, check_duration, check_resolution

log = logging.getLogger(__name__)

# Frame rate assumed when a stream states none (FFmpeg's own guess for raw streams).
FALLBACK_FPS = 25.0
# File versions whose packet timestamps are kept (a few videos analysed, chatted about, re-rendered).
_INDEX_CACHE_SIZE = 32


def check_file(path: str | Path) -> Path:
    """Return the path if it names a readable, non-empty regular file, else raise the specific error."""
    p = Path(path).expanduser()
    if not p.exists():
        if p.is_symlink():
            raise errors.VideoNotFoundError(f"{p}: a symbolic link to nothing (broken, or a loop of links)")
        raise errors.VideoNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise errors.NotAFileError(f"{p}: is a directory, not a video file")
    if not p.is_file():
        # Pipes and devices are refused without opening them: opening a FIFO would block.
        raise errors.NotAFileError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise errors.EmptyFileError(f"{p}: the file is empty (0 bytes)")
    if not os.access(p, os.R_OK):
        raise errors.NotAFileError(f"{p}: cannot be read (permission denied)")
    return p


def open_container(path: Path) -> av.container.InputContainer:
    """Open a file with FFmpeg, turning its low-level errors into one-line sitewatch errors."""
    try:
        return av.open(str(path), mode="r")
    except av.error.InvalidDataError as exc:
        raise errors.NotAVideoError(f"{path}: not a video or image sitewatch can read (invalid data)") from exc
    except av.error.FFmpegError as exc:
        raise errors.NotAVideoError(f"{path}: cannot be opened as a video ({exc.strerror})") from exc


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The first video stream, with a specific error when there is none or it cannot be decoded."""
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams})
        if "audio" in kinds:
            raise errors.NoVideoStreamError(f"{path}: audio only, there is no video stream")
        what = ", ".join(kinds) if kinds else "no streams"
        raise errors.NoVideoStreamError(f"{path}: no video stream (found: {what})")
    stream = container.streams.video[0]
    ctx = stream.codec_context
    if ctx is None or ctx.codec is None or not ctx.is_decoder:
        raise errors.UnsupportedCodecError(f"{path}: the video codec cannot be decoded by this FFmpeg build")
    return stream


def _rate(value: Fraction | None) -> float:
    return float(value) if value else 0.0


def nominal_fps(stream: av.video.stream.VideoStream) -> float:
    """The stream's stated frame rate (average, else guessed), or FFmpeg's default when it states none."""
    return _rate(stream.average_rate) or _rate(stream.guessed_rate) or FALLBACK_FPS


def ticks_per_frame(stream: av.video.stream.VideoStream) -> int:
    """Time-base ticks of one nominal frame: the clock for streams whose packets carry no timestamps."""
    return max(1, round(1.0 / (nominal_fps(stream) * float(stream.time_base))))


@dataclass(frozen=True)
class FrameIndex:
    """Presentation times of every frame and of every keyframe, read from packets without decoding."""

    times_s: np.ndarray
    keyframes_s: np.ndarray

    @property
    def span_s(self) -> float:
        """Seconds from the first frame to the last."""
        return float(self.times_s[-1]) if len(self.times_s) else 0.0


_indexes: dict[tuple[str, int, int], FrameIndex] = {}


def _scan(path: Path, max_span_s: float) -> FrameIndex:
    pts, keys = array("q"), array("q")
    with open_container(path) as container:
        stream = video_stream(container, path)
        tb = float(stream.time_base)
        start = stream.start_time or 0
        # Raw elementary streams (.h264) carry no timestamps at all: their frames follow the nominal rate.
        tick, counted = ticks_per_frame(stream), 0
        limit = start + max_span_s / tb
        try:
            for packet in container.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is not None:
                    value = packet.pts
                elif packet.dts is None:
                    value = start + counted * tick
                else:
                    continue
                counted += 1
                if value > limit:
                    # Stop at the first frame past the budget: a tiny file can claim frames years apart.
                    check_duration(path, (value - start) * tb, max_span_s)
                pts.append(value)
                if packet.is_keyframe:
                    keys.append(value)
        except av.error.FFmpegError as exc:
            log.info("%s: packets unreadable after %d frames (%s); indexing the readable part", path, len(pts), exc)
    times = (np.sort(np.frombuffer(pts, dtype=np.int64)) - start) * tb
    # Packets before the start (edit lists, B-frame priming) are not shown.
    times = times[times >= -1e-6]
    keyframes = (np.sort(np.frombuffer(keys, dtype=np.int64)) - start) * tb
    return FrameIndex(times_s=np.maximum(times, 0.0), keyframes_s=np.maximum(keyframes, 0.0))


def scan_frames(path: str | Path, max_span_s: float = float("inf")) -> FrameIndex:
    """Every frame's presentation time (exact, also for variable frame rate), cached per file version.

    Raises VideoTooLongError as soon as a packet lies more than `max_span_s` after the first.
    """
    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    index = _indexes.get(key)
    if index is None:
        index = _scan(p, max_span_s)
        if len(_indexes) >= _INDEX_CACHE_SIZE:
            _indexes.pop(next(iter(_indexes)))
        _indexes[key] = index
    check_duration(p, index.span_s, max_span_s)
    return index


@dataclass(frozen=True)
class FrameTiming:
    """What the frames' timestamps show: their mean rate, a typical frame's length, whether they are uneven."""

    rate: float
    typical_s: float
    uneven: bool


def frame_timing(times_s: np.ndarray) -> FrameTiming | None:
    """The frames' timing from their timestamps (None with fewer than three distinct ones)."""
    gaps = np.diff(times_s)
    gaps = gaps[gaps > 0]
    if len(gaps) < 2:
        return None
    median = float(np.median(gaps))
    # Millisecond timestamps (Matroska) jitter by 1 ms at any steady rate; that is not a variable rate.
    off = np.abs(gaps - median) > max(0.1 * median, 0.0015)
    return FrameTiming(rate=len(gaps) / float(gaps.sum()), typical_s=median, uneven=bool(off.mean() > 0.05))


def _format_name(container: av.container.InputContainer, path: Path) -> str:
    # FFmpeg names demuxers by family ("mov,mp4,m4a,..."): show the member matching the file.
    names = container.format.name.split(",")
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in names or suffix in (container.format.extensions or ()) else names[0]


def _probe_image(path: Path, max_pixels: int) -> VideoInfo:
    header = read_header(path, max_pixels)
    # Decoding once proves the body is intact; the size check above bounds what it costs.
    decode_image(path, max_pixels)
    return VideoInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        container=header.format,
        codec=header.format,
        width=header.width,
        height=header.height,
        fps=1.0,
        duration_s=0.0,
        frame_count=1,
        frame_count_exact=True,
        is_image=True,
    )


def probe(
    path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS, max_duration_s: float = DEFAULT_MAX_DURATION_S
) -> VideoInfo:
    """Describe a video or still image: size after rotation, fps, duration, frames, codec, audio.

    Images are told from videos by their content, not their suffix. Size and duration budgets are
    checked before any frame is decoded; the duration is measured from the packets' timestamps.
    """
    p = check_file(path)
    if is_still_image(p):
        return _probe_image(p, max_pixels)
    with open_container(p) as container:
        stream = video_stream(container, p)
        ctx = stream.codec_context
        check_resolution(p, ctx.width, ctx.height, max_pixels)
        index = scan_frames(p, max_duration_s)
        first = first_frame(container, stream, p)
        rotation = int(first.rotation) % 360 if first.rotation else 0
        width, height = (ctx.height, ctx.width) if rotation in (90, 270) else (ctx.width, ctx.height)

        avg = _rate(stream.average_rate)
        base = _rate(stream.base_rate) or _rate(stream.guessed_rate)
        fps = avg or base or FALLBACK_FPS
        # Containers store a nominal rate (base) and the measured one (average); when they disagree
        # the frames are not evenly spaced. Matroska stores no average: the packets themselves tell.
        timing = frame_timing(index.times_s)
        vfr = bool(avg and base and abs(avg - base) / base > 0.01) or bool(timing and timing.uneven)
        if timing and vfr:
            fps = timing.rate

        tb = float(stream.time_base) if stream.time_base else 0.0
        start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
        if stream.duration and tb:
            claimed = float(stream.duration * tb)
        elif container.duration:
            claimed = container.duration / av.time_base
        else:
            claimed = 0.0
        frame_count = stream.frames or len(index.times_s) or 1
        # The longer of claim and packets: a truncated file keeps its claimed length (so the missing part
        # shows as missing), a header that understates is overruled by its frames.
        # The last frame lasts as long as a typical one (not the mean over gaps: one gap may be hours).
        frame_s = timing.typical_s if timing else 1.0 / fps
        packets_end = index.span_s + frame_s if len(index.times_s) else 0.0
        duration = max(claimed, packets_end) or frame_count / fps
        return VideoInfo(
            path=str(p),
            size_bytes=p.stat().st_size,
            container=_format_name(container, p),
            codec=ctx.name,
            width=width,
            height=height,
            rotation=rotation,
            fps=round(fps, 4),
            variable_frame_rate=vfr,
            duration_s=round(duration, 4),
            frame_count=frame_count,
            frame_count_exact=bool(stream.frames or len(index.times_s)),
            bit_rate=container.bit_rate or None,
            has_audio=bool(container.streams.audio),
            start_time_s=start,
        )


def first_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, path: Path
) -> av.VideoFrame:
    """Decode the first frame, proving the stream is readable; raise NoFramesError if none decodes."""
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise errors.NoFramesError(f"{path}: no frame could be decoded ({exc.strerror})") from exc
    raise errors.NoFramesError(f"{path}: the video stream holds no decodable frame")
