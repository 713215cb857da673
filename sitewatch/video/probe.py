"""Read a video's (or still image's) metadata and refuse files that cannot be used, with a clear reason."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av

from sitewatch import errors
from sitewatch.schema import VideoInfo

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
DEFAULT_MAX_PIXELS = 7680 * 4320


def check_file(path: str | Path) -> Path:
    """Return the path if it names a non-empty regular file, else raise the specific error."""
    p = Path(path).expanduser()
    if not p.exists():
        raise errors.VideoNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise errors.NotAFileError(f"{p}: is a directory, not a video file")
    if not p.is_file():
        raise errors.NotAFileError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise errors.EmptyFileError(f"{p}: the file is empty (0 bytes)")
    return p


def is_image_path(path: str | Path) -> bool:
    """True for the still-image suffixes sitewatch treats as one-frame videos."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES


def check_resolution(path: Path, width: int, height: int, max_pixels: int) -> None:
    """Refuse frames bigger than `max_pixels` before any of them is decoded."""
    if width <= 0 or height <= 0:
        raise errors.NotAVideoError(f"{path}: the video reports no frame size ({width}x{height})")
    if width * height > max_pixels:
        raise errors.ResolutionTooLargeError(
            f"{path}: {width}x{height} is above the limit of {max_pixels:,} pixels per frame "
            "(raise SITEWATCH_MAX_PIXELS to allow it)"
        )


def open_container(path: Path) -> av.container.InputContainer:
    """Open a file with FFmpeg, turning its low-level errors into one-line sitewatch errors."""
    try:
        return av.open(str(path), mode="r")
    except av.error.InvalidDataError as exc:
        raise errors.NotAVideoError(f"{path}: not a video FFmpeg can read (invalid data)") from exc
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


def _format_name(container: av.container.InputContainer, path: Path) -> str:
    # FFmpeg names demuxers by family ("mov,mp4,m4a,..."): show the member matching the file.
    names = container.format.name.split(",")
    suffix = path.suffix.lower().lstrip(".")
    return suffix if suffix in names or suffix in (container.format.extensions or ()) else names[0]


def _rate(value: Fraction | None) -> float:
    return float(value) if value else 0.0


def _probe_image(path: Path, max_pixels: int) -> VideoInfo:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            width, height = img.size
            fmt = (img.format or path.suffix.lstrip(".")).lower()
            exif_orientation = img.getexif().get(0x0112, 1)
    except Image.DecompressionBombError as exc:
        raise errors.ResolutionTooLargeError(
            f"{path}: the image is far above the limit of {max_pixels:,} pixels per frame"
        ) from exc
    except UnidentifiedImageError as exc:
        raise errors.NotAVideoError(f"{path}: not an image or video sitewatch can read") from exc
    except OSError as exc:
        raise errors.NotAVideoError(f"{path}: the image is damaged ({exc})") from exc
    if exif_orientation in (5, 6, 7, 8):
        width, height = height, width
    check_resolution(path, width, height, max_pixels)
    return VideoInfo(
        path=str(path),
        size_bytes=path.stat().st_size,
        container=fmt,
        codec=fmt,
        width=width,
        height=height,
        fps=1.0,
        duration_s=0.0,
        frame_count=1,
        frame_count_exact=True,
        is_image=True,
    )


def probe(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> VideoInfo:
    """Describe a video or still image: size after rotation, fps, duration, frames, codec, audio."""
    p = check_file(path)
    if is_image_path(p):
        return _probe_image(p, max_pixels)
    with open_container(p) as container:
        stream = video_stream(container, p)
        ctx = stream.codec_context
        check_resolution(p, ctx.width, ctx.height, max_pixels)
        first = first_frame(container, stream, p)
        rotation = int(first.rotation) % 360 if first.rotation else 0
        width, height = (ctx.height, ctx.width) if rotation in (90, 270) else (ctx.width, ctx.height)

        avg = _rate(stream.average_rate)
        base = _rate(stream.base_rate) or _rate(stream.guessed_rate)
        fps = avg or base or 25.0
        # Containers store a nominal rate (base) and the measured one (average); when they disagree
        # the frames are not evenly spaced.
        vfr = bool(avg and base and abs(avg - base) / base > 0.01)

        tb = float(stream.time_base) if stream.time_base else 0.0
        start = float(stream.start_time * tb) if stream.start_time is not None else 0.0
        if stream.duration and tb:
            duration = float(stream.duration * tb)
        elif container.duration:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        frames_exact = bool(stream.frames)
        frame_count = stream.frames or max(1, round(duration * fps))
        if not duration:
            duration = frame_count / fps
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
            frame_count_exact=frames_exact,
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
