"""One connection to a camera: decoded frames with their time in the stream, files paced at their real rate."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import av

from sitewatch.live.urls import Source

log = logging.getLogger(__name__)

# Packets that fail to decode in a row before the connection is given up as garbage.
MAX_BAD_PACKETS = 50


class StreamEnded(Exception):
    """The source ended (a file without --loop, or a server that closed the stream)."""


@dataclass(frozen=True, slots=True)
class Decoded:
    """One decoded frame and its time in seconds since the connection's first frame."""

    stream_s: float
    frame: av.VideoFrame


def read_frames(source: Source, timeout_s: float) -> Iterator[Decoded]:
    """Open `source` and yield its frames; PyAV errors (refused, timed out, broken) propagate to the caller."""
    container = av.open(source.target, format=source.format, options=source.options, timeout=(timeout_s, timeout_s))
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        first: float | None = None
        started = time.monotonic()
        bad = 0
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
                bad = 0
            except av.error.InvalidDataError:
                bad += 1
                if bad >= MAX_BAD_PACKETS:
                    raise
                continue
            for frame in frames:
                if frame.time is None:
                    continue
                first = frame.time if first is None else first
                stream_s = frame.time - first
                if source.realtime:
                    # A file plays as a camera would send it: never faster than it was recorded.
                    lead = stream_s - (time.monotonic() - started)
                    if lead > 0:
                        time.sleep(lead)
                yield Decoded(stream_s, frame)
        raise StreamEnded("the stream ended")
    finally:
        container.close()
