"""The last seconds of one camera, as small decoded frames, so an incident clip can start before the incident."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import av

CLIP_FPS = 8.0  # smooth enough to see a fall, a third of the memory of 25 fps
CLIP_SIDE = 640  # long side of the kept frames (pixels)


@dataclass(frozen=True, slots=True)
class ClipFrame:
    """One kept frame: the camera's time in seconds and the picture (yuv420p, the encoder's own format)."""

    time_s: float
    frame: av.VideoFrame


def clip_size(width: int, height: int, side: int = CLIP_SIDE) -> tuple[int, int]:
    """Even (width, height) no larger than `side` on the long side."""
    scale = min(1.0, side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


class FrameRing:
    """A time-bounded ring of frames taken at `fps` at most; memory stays at seconds x fps frames."""

    def __init__(self, seconds: float, fps: float = CLIP_FPS) -> None:
        self.seconds = seconds
        self.step_s = 1.0 / fps
        self._frames: deque[ClipFrame] = deque(maxlen=max(2, int(seconds * fps) + 2))
        self._lock = threading.Lock()

    @property
    def latest_s(self) -> float | None:
        """The time of the newest kept frame."""
        with self._lock:
            return self._frames[-1].time_s if self._frames else None

    def offer(self, time_s: float, frame: av.VideoFrame) -> None:
        """Keep `frame` (shrunk and converted) when it is at least one step after the last one kept."""
        with self._lock:
            if self._frames and time_s - self._frames[-1].time_s < self.step_s * 0.9:
                return
        width, height = clip_size(frame.width, frame.height)
        small = frame.reformat(width=width, height=height, format="yuv420p")
        with self._lock:
            if self._frames and time_s < self._frames[-1].time_s:
                self._frames.clear()  # the clock went back (a new connection): older frames belong to another stream
            self._frames.append(ClipFrame(time_s, small))

    def newest(self) -> ClipFrame | None:
        """The newest kept frame, or None before the first."""
        with self._lock:
            return self._frames[-1] if self._frames else None

    def between(self, start_s: float, end_s: float) -> list[ClipFrame]:
        """The kept frames from `start_s` to `end_s`, oldest first."""
        with self._lock:
            return [f for f in self._frames if start_s <= f.time_s <= end_s]
