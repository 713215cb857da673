"""Run a detector over a video file: probe, plan frames at the detector's rate, stream, detect."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sitewatch.detect.base import Detection, Detector
from sitewatch.detect.registry import DEFAULT_DETECTOR, get_detector
from sitewatch.schema import VideoInfo


def detect_video(
    path: str | Path, detector: Detector | str = DEFAULT_DETECTOR, **options: Any
) -> tuple[VideoInfo, Detection]:
    """Detect events in the video at `path` with a detector instance or registry name."""
    from sitewatch.video.decode import Size, iter_frames
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import fps_plan

    if isinstance(detector, str):
        detector = get_detector(detector, **options)
    info = probe(path)
    plan = fps_plan(info, detector.fps)
    frames = iter_frames(path, plan, size=Size(max_side=detector.max_side))
    return info, detector.run(frames, info)
