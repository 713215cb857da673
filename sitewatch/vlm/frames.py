"""Frame helpers shared by the model backends: pixel budgets, JPEG and MP4 encoding."""

from __future__ import annotations

import base64
import io
import logging
import math
from fractions import Fraction

import numpy as np
from PIL import Image

log = logging.getLogger(__name__)


def scale_to_budget(frames: np.ndarray, pixel_budget: int, multiple: int = 2) -> np.ndarray:
    """Downscale (T, H, W, 3) frames so that T*H*W stays within `pixel_budget`; never upscales."""
    count, height, width = frames.shape[:3]
    total = count * height * width
    if total <= pixel_budget:
        return frames
    factor = math.sqrt(pixel_budget / total)
    new_h = max(multiple, int(height * factor) // multiple * multiple)
    new_w = max(multiple, int(width * factor) // multiple * multiple)
    log.debug(
        "scaling %d frames from %dx%d to %dx%d for the pixel budget", count, width, height, new_w, new_h
    )
    return resize_frames(frames, new_w, new_h)


def resize_frames(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize every frame to width x height with a bicubic filter."""
    resized = [
        np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BICUBIC))
        for frame in frames
    ]
    return np.stack(resized)


def fit_long_side(frame: np.ndarray, max_side: int) -> Image.Image:
    """A PIL image of `frame`, shrunk so that its longer side is at most `max_side`."""
    image = Image.fromarray(frame)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BICUBIC)
    return image


def jpeg_data_url(frame: np.ndarray, max_side: int, quality: int = 85) -> str:
    """Encode one RGB frame as a `data:image/jpeg;base64,...` URL, long side capped at `max_side`."""
    buffer = io.BytesIO()
    fit_long_side(frame, max_side).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def subsample(count: int, limit: int) -> list[int]:
    """At most `limit` indices spread evenly over range(count), first and last included."""
    if count <= limit:
        return list(range(count))
    if limit == 1:
        return [count // 2]
    return sorted({round(i * (count - 1) / (limit - 1)) for i in range(limit)})


def encode_mp4(frames: np.ndarray, times_s: list[float]) -> bytes:
    """Encode frames into an in-memory MP4 (H.264 when available, else MPEG-4) keeping their timestamps."""
    import av

    height, width = frames.shape[1:3]
    # Codecs want even sizes; crop one pixel rather than resample.
    height, width = height - height % 2, width - width % 2
    time_base = Fraction(1, 1000)
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = _video_stream(container, width, height, _rate(times_s))
        stream.codec_context.time_base = time_base
        last_pts = -1
        for frame, t in zip(frames, times_s, strict=True):
            video_frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(frame[:height, :width]), format="rgb24"
            )
            # Timestamps must increase strictly even if two frames share a second.
            last_pts = max(last_pts + 1, round((t - times_s[0]) * 1000))
            video_frame.pts = last_pts
            video_frame.time_base = time_base
            container.mux(stream.encode(video_frame))
        container.mux(stream.encode())
    return buffer.getvalue()


def _rate(times_s: list[float]) -> Fraction:
    """A nominal frame rate for the container from the frame times."""
    if len(times_s) < 2 or times_s[-1] <= times_s[0]:
        return Fraction(1)
    return Fraction((len(times_s) - 1) / (times_s[-1] - times_s[0])).limit_denominator(1000)


def _video_stream(container, width: int, height: int, rate: Fraction):
    """Add an H.264 stream, or MPEG-4 Part 2 on FFmpeg builds without libx264."""
    for codec in ("libx264", "h264", "mpeg4"):
        try:
            stream = container.add_stream(codec, rate=rate)
        except ValueError:
            continue
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        return stream
    raise RuntimeError("this FFmpeg build has no H.264 or MPEG-4 encoder")
