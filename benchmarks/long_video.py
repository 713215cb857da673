"""What the benchmarks film with: H.264 streams written frame by frame, and a clip looped into a long 720p video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av


def h264_stream(
    container: av.container.OutputContainer, fps: Fraction, width: int, height: int, crf: int
) -> av.video.stream.VideoStream:
    """A fast libx264 stream in `container` whose time base is one frame."""
    stream = container.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"preset": "superfast", "crf": str(crf)}
    stream.time_base = 1 / fps
    return stream


def mux(
    container: av.container.OutputContainer, stream: av.video.stream.VideoStream, frame: av.VideoFrame | None
) -> None:
    """Encode one frame (None: flush the encoder) and write its packets."""
    for packet in stream.encode(frame):
        container.mux(packet)


def make_long_video(source: Path, out: Path, minutes: float) -> None:
    """Loop `source` scaled to 1280x720 into an H.264 file `minutes` long (30 fps)."""
    fps = Fraction(30)
    total = int(minutes * 60 * fps)
    with av.open(str(out), "w") as container:
        stream = h264_stream(container, fps, 1280, 720, crf=23)
        written = 0
        while written < total:
            with av.open(str(source)) as src:
                for frame in src.decode(video=0):
                    if written >= total:
                        break
                    image = frame.reformat(width=1280, height=720, format="yuv420p")
                    image.pts, image.time_base = written, 1 / fps
                    mux(container, stream, image)
                    written += 1
        mux(container, stream, None)
