"""Frame plans: which moments of a video to decode, and how exactly.

A plan is small (a list of times), so the memory a decode needs depends on the plan, never on the
length of the video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import numpy as np

from sitewatch.schema import VideoInfo

PlanMode = Literal["exact", "keyframe", "nearest"]


@dataclass(frozen=True)
class FramePlan:
    """Times (seconds from the first frame) to decode.

    exact: decode precisely these presentation times (they come from the stream's own timestamps);
    keyframe: take the keyframe at or before each time (fast, approximate);
    nearest: stream through the video and keep the frame closest to each time (fixed-rate sampling).
    """

    times_s: tuple[float, ...]
    mode: PlanMode
    indices: tuple[int, ...] | None = None

    def __len__(self) -> int:
        return len(self.times_s)


@dataclass(frozen=True)
class FrameIndex:
    """Presentation times of every frame and of every keyframe, read from packets without decoding."""

    times_s: np.ndarray
    keyframes_s: np.ndarray


@dataclass(frozen=True)
class Window:
    """A stretch of a long video analysed on its own."""

    start_s: float
    end_s: float
    plan: FramePlan


def pllava_indices(frame_count: int, num: int = 16) -> list[int]:
    """PLLaVA's uniform segment-centre indices: seg=(N-1)/num, start=int(seg/2), start+round(seg*i)."""
    if frame_count <= 0 or num <= 0:
        return []
    seg = (frame_count - 1) / num
    start = int(seg / 2)
    # np.round rounds half to even, as the original does; Python's round agrees but be explicit.
    return [start + int(np.round(seg * i)) for i in range(num)]


@lru_cache(maxsize=32)
def _scan(path: str, mtime_ns: int, size: int) -> FrameIndex:
    from sitewatch.video.probe import open_container, video_stream

    p = Path(path)
    pts: list[int] = []
    keys: list[int] = []
    with open_container(p) as container:
        stream = video_stream(container, p)
        start = stream.start_time or 0
        for packet in container.demux(stream):
            if packet.pts is None or packet.size == 0:
                continue
            pts.append(packet.pts)
            if packet.is_keyframe:
                keys.append(packet.pts)
        tb = float(stream.time_base)
    times = (np.sort(np.asarray(pts, dtype=np.int64)) - start) * tb
    # Packets before the start (edit lists, B-frame priming) are not shown.
    times = times[times >= -1e-6]
    keyframes = (np.sort(np.asarray(keys, dtype=np.int64)) - start) * tb
    return FrameIndex(times_s=np.maximum(times, 0.0), keyframes_s=np.maximum(keyframes, 0.0))


def scan_frames(path: str | Path) -> FrameIndex:
    """Every frame's presentation time (exact, also for variable frame rate), cached per file version."""
    p = Path(path)
    st = p.stat()
    return _scan(str(p.resolve()), st.st_mtime_ns, st.st_size)


def uniform_plan(info: VideoInfo, num: int = 16) -> FramePlan:
    """PLLaVA's exact uniform sampling of `num` frames over the whole video."""
    if info.is_image:
        return FramePlan(times_s=(0.0,) * num, mode="exact", indices=(0,) * num)
    index = scan_frames(info.path)
    count = len(index.times_s)
    if count == 0:
        return FramePlan(times_s=(), mode="exact", indices=())
    idx = pllava_indices(count, num)
    return FramePlan(times_s=tuple(float(index.times_s[i]) for i in idx), mode="exact", indices=tuple(idx))


def keyframe_plan(info: VideoInfo, num: int = 16) -> FramePlan:
    """The same uniform moments as `uniform_plan`, snapped to keyframes: much faster on long videos."""
    if info.is_image:
        return FramePlan(times_s=(0.0,) * num, mode="exact", indices=(0,) * num)
    idx = pllava_indices(info.frame_count, num)
    return FramePlan(times_s=tuple(i / info.fps for i in idx), mode="keyframe", indices=tuple(idx))


def fps_plan(
    info: VideoInfo, fps: float, start_s: float = 0.0, end_s: float | None = None
) -> FramePlan:
    """Frames at a fixed rate (for the detector), never faster than the video's own rate."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if info.is_image:
        return FramePlan(times_s=(0.0,), mode="nearest")
    end = info.duration_s if end_s is None else min(end_s, info.duration_s)
    step = 1.0 / min(fps, info.fps) if info.fps else 1.0 / fps
    count = max(1, math.floor((end - start_s) / step + 1e-9))
    return FramePlan(times_s=tuple(start_s + k * step for k in range(count)), mode="nearest")


def windows(
    info: VideoInfo, window_s: float = 16.0, stride_s: float | None = None, frames: int = 16
) -> list[Window]:
    """Cut a long video into windows of `window_s` seconds (overlapping if stride < window), `frames` each."""
    if window_s <= 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    stride = window_s if stride_s is None else stride_s
    if stride <= 0:
        raise ValueError(f"stride_s must be positive, got {stride}")
    duration = max(info.duration_s, 0.0)
    out: list[Window] = []
    start = 0.0
    while True:
        end = min(start + window_s, duration)
        step = (end - start) / frames
        times = tuple(start + step * (i + 0.5) for i in range(frames))
        out.append(Window(start_s=start, end_s=end, plan=FramePlan(times_s=times, mode="nearest")))
        if end >= duration - 1e-9:
            return out
        start += stride
