"""Write an incident clip (H.264 in fragmented MP4) with PyAV as its frames come.

Fragmented, a fragment a second, flushed as written: a process killed mid-clip leaves a file that plays
up to its last second, which the next start analyses.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from sitewatch.live.ring import CLIP_FPS, ClipFrame

TIME_BASE = Fraction(1, 1000)  # milliseconds: the kept frames' own times, not a fixed rate
CONTAINER_OPTIONS = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "flush_packets": "1"}


class ClipWriter:
    """Encodes kept frames (each at its own time, the first at 0) into `path`, readable at any moment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frames = 0
        self._out: av.container.OutputContainer | None = None
        self._stream: av.VideoStream | None = None
        self._first_s = 0.0
        self._last_pts = -1

    def add(self, kept: ClipFrame) -> None:
        """Encode one frame (a frame of another size than the first is skipped: the camera changed mid-clip)."""
        if self._out is None:
            self._open(kept)
        assert self._stream is not None and self._out is not None
        if kept.frame.width != self._stream.width or kept.frame.height != self._stream.height:
            return
        pts = max(self._last_pts + 1, round((kept.time_s - self._first_s) * 1000))
        kept.frame.pts, kept.frame.time_base = pts, TIME_BASE
        self._out.mux(self._stream.encode(kept.frame))
        self._last_pts = pts
        self.frames += 1

    def _open(self, first: ClipFrame) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._out = av.open(str(self.path), "w", format="mp4", options=CONTAINER_OPTIONS)
        stream = self._out.add_stream("libx264", rate=round(CLIP_FPS))
        stream.width, stream.height = first.frame.width, first.frame.height
        stream.pix_fmt = "yuv420p"
        stream.time_base = TIME_BASE
        stream.codec_context.time_base = TIME_BASE
        # A keyframe (and so a fragment on disk) every second.
        stream.options = {"preset": "veryfast", "crf": "26", "tune": "zerolatency", "g": str(round(CLIP_FPS))}
        self._stream, self._first_s = stream, first.time_s

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        if self._out is None or self._stream is None:
            return
        self._out.mux(self._stream.encode(None))
        self._out.close()
        self._out = None
