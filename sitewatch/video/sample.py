"""Frame plans: which moments of a video to decode, and how exactly.

A plan is small (a list of times), so the memory a decode needs depends on the plan, never on the
length of the video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from sitewatch.schema import VideoInfo
from sitewatch.video.limits import DEFAULT_MAX_PLANNED_FRAMES, check_planned
from sitewatch.video.probe import scan_frames

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
    step_s: float = 0.0  # spacing of a fixed-rate plan: a frame read at t stands for [t, t + step)

    def __len__(self) -> int:
        return len(self.times_s)


def pllava_indices(frame_count: int, num: int = 16) -> list[int]:
    """PLLaVA's uniform segment-centre indices: seg=(N-1)/num, start=int(seg/2), start+round(seg*i)."""
    if frame_count <= 0 or num <= 0:
        return []
    seg = (frame_count - 1) / num
    start = int(seg / 2)
    # np.round rounds half to even, as the original does; Python's round agrees but be explicit.
    return [start + int(np.round(seg * i)) for i in range(num)]


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
    info: VideoInfo,
    fps: float,
    start_s: float = 0.0,
    end_s: float | None = None,
    max_frames: int = DEFAULT_MAX_PLANNED_FRAMES,
) -> FramePlan:
    """Real frames at a fixed rate (for the detector): the frame nearest each tick, never one twice.

    Built from the packets' timestamps, so a gap in the video stays a gap in the plan and a plan never
    holds more frames than the video has; refused when it would exceed `max_frames`.
    """
    if not (fps > 0 and math.isfinite(fps)):
        raise ValueError(f"fps must be a positive number, got {fps}")
    if info.is_image:
        return FramePlan(times_s=(0.0,), mode="nearest", step_s=1.0 / fps)
    step = 1.0 / fps
    end = info.duration_s if end_s is None else min(end_s, info.duration_s)
    # A tick for the last, partial interval too, so the plan reaches the end of the video.
    ticks = max(1, math.ceil((end - start_s) / step - 1e-9))
    times = scan_frames(info.path).times_s
    slots = np.rint((times - start_s) / step)
    inside = (slots >= 0) & (slots < ticks)
    times, slots = times[inside], slots[inside]
    # Sort by slot, then by distance to the slot's tick, and keep the first of each slot.
    order = np.lexsort((np.abs(times - start_s - slots * step), slots))
    first = order[np.r_[True, slots[order][1:] != slots[order][:-1]]] if len(order) else order
    check_planned(info.path, len(first), fps, max_frames)
    return FramePlan(times_s=tuple(np.sort(times[first]).tolist()), mode="nearest", step_s=step)
