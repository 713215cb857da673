"""Budgets checked before any work is done: frame size, duration and planned frame count, each refused in one line."""

from __future__ import annotations

from pathlib import Path

from sitewatch import errors
from sitewatch.settings import Settings

# The settings' own defaults, for callers (tests, benchmarks, library users) that pass no settings.
DEFAULT_MAX_PIXELS: int = Settings.model_fields["max_pixels"].default
DEFAULT_MAX_DURATION_S: float = Settings.model_fields["max_duration_s"].default
DEFAULT_MAX_PLANNED_FRAMES: int = Settings.model_fields["max_planned_frames"].default
# Below this many pixels on a side no detector or model can see a person; such a file is a mistake, not footage.
MIN_SIDE = 16


def check_resolution(path: Path | str, width: int, height: int, max_pixels: int) -> None:
    """Refuse frames bigger than `max_pixels`, or too small to show anyone, before any of them is decoded."""
    if width <= 0 or height <= 0:
        raise errors.NotAVideoError(f"{path}: not a video or image sitewatch can read (frame size {width}x{height})")
    if min(width, height) < MIN_SIDE:
        raise errors.ResolutionTooSmallError(
            f"{path}: {width}x{height} is too small to show a person (at least {MIN_SIDE} pixels on each side)"
        )
    if width * height > max_pixels:
        raise errors.ResolutionTooLargeError(
            f"{path}: {width}x{height} is above the limit of {max_pixels:,} pixels per frame "
            "(raise SITEWATCH_MAX_PIXELS to allow it)"
        )


def check_duration(path: Path | str, span_s: float, max_duration_s: float) -> None:
    """Refuse a video whose frames (their packet timestamps, not the container's claim) span too long."""
    if span_s > max_duration_s:
        raise errors.VideoTooLongError(
            f"{path}: its frames span at least {span_s:,.0f} s ({span_s / 3600:,.1f} h), above the limit of "
            f"{max_duration_s:,.0f} s (raise SITEWATCH_MAX_DURATION_S to allow it)"
        )


def check_planned(path: Path | str, count: int, fps: float, max_frames: int) -> None:
    """Refuse a plan that would decode more than `max_frames` frames."""
    if count > max_frames:
        raise errors.VideoTooLongError(
            f"{path}: reading it at {fps:g} frames per second needs {count:,} frames, above the limit of "
            f"{max_frames:,} (raise SITEWATCH_MAX_PLANNED_FRAMES or lower SITEWATCH_DETECT_FPS)"
        )
