"""Write an incident clip (H.264 MP4) from kept frames with PyAV."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av

from sitewatch.live.ring import CLIP_FPS, ClipFrame

TIME_BASE = Fraction(1, 1000)  # milliseconds: the kept frames' own times, not a fixed rate


def write_clip(frames: list[ClipFrame], path: Path) -> Path:
    """Encode `frames` (each at its own time, the first at 0) into `path`, written whole or not at all."""
    if not frames:
        raise ValueError("no frames to write")
    partial = path.with_name(f".{path.name}.part")
    first = frames[0]
    with av.open(str(partial), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=round(CLIP_FPS))
        stream.width, stream.height = first.frame.width, first.frame.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        stream.options = {"preset": "veryfast", "crf": "26", "tune": "zerolatency"}
        last = -1
        for kept in frames:
            pts = max(last + 1, round((kept.time_s - first.time_s) * 1000))
            if kept.frame.width != stream.width or kept.frame.height != stream.height:
                continue  # the camera changed its picture size mid-clip: keep the first size only
            kept.frame.pts, kept.frame.time_base = pts, TIME_BASE
            out.mux(stream.encode(kept.frame))
            last = pts
        out.mux(stream.encode(None))
    os.replace(partial, path)
    return path
