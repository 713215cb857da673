"""Build the `VideoClip` a video-language model sees: PLLaVA's uniform frames, or frames of one window."""

from __future__ import annotations

from pathlib import Path

from sitewatch.schema import VideoClip, VideoInfo
from sitewatch.video.decode import Size, read_frames
from sitewatch.video.limits import DEFAULT_MAX_PIXELS
from sitewatch.video.sample import FramePlan, uniform_plan

# Large enough for every backend's own resize (PLLaVA crops 336 px squares) without decoding 4K frames.
MODEL_FRAME_SIDE = 768


def load_clip(
    path: str | Path,
    info: VideoInfo,
    num_frames: int = 16,
    start_s: float | None = None,
    end_s: float | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> VideoClip:
    """`num_frames` frames over the whole video (exact PLLaVA sampling) or spread over [start_s, end_s]."""
    whole = (start_s is None or start_s <= 0) and (end_s is None or end_s >= info.duration_s)
    if whole or info.is_image:
        plan = uniform_plan(info, num_frames)
    else:
        start = max(0.0, start_s or 0.0)
        end = min(info.duration_s, end_s if end_s is not None else info.duration_s)
        step = (end - start) / num_frames
        plan = FramePlan(times_s=tuple(start + step * (i + 0.5) for i in range(num_frames)), mode="nearest")
    frames, times, _ = read_frames(path, plan, Size(max_side=MODEL_FRAME_SIDE), max_pixels=max_pixels)
    return VideoClip(frames=frames, times_s=times, is_image=info.is_image, source=str(path))
