"""Pose passes run ahead in a helper thread: the very detection of frame-by-frame, errors where they happened."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("ai_edge_litert", reason="the detector needs the detect extra")

from media import SHARED_VIDEOS

from sitewatch.detect.base import Detection, run_stream
from sitewatch.detect.learned import LearnedDetector
from sitewatch.video.decode import Frame, FrameReader, Size
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan

# A collapse in a lift (7 of 32 pictures still, most with the man lying there and followed: passes asked for
# by the judging thread while the helper runs ahead), and a busy square (second looks every other frame).
CLIPS = ["dev10_cwlroda_d.mp4", "dev19_cwlroda_f.mp4"]


def _frames(path: Path, detector: LearnedDetector) -> list[Frame]:
    plan = fps_plan(probe(path), detector.fps)
    return list(FrameReader(path, plan, size=Size(max_side=detector.max_side), approximate=True))


def _found(detection: Detection) -> tuple:
    return (
        [e.model_dump() for e in detection.events],
        [s.model_dump() for s in detection.signals],
        detection.frames_seen,
        detection.people_max,
        detection.accident_probability,
    )


def _helpers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("pose-ahead")]


@pytest.mark.parametrize("clip", CLIPS)
def test_pose_passes_ahead_find_what_frame_by_frame_finds(clip: str) -> None:
    path = SHARED_VIDEOS / clip
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    detector = LearnedDetector()
    frames, info = _frames(path, detector), probe(path)
    ahead = detector.run(frames, info)
    in_turn = run_stream(detector, frames, info)
    assert ahead.frames_seen == len(frames) > 0
    assert _found(ahead) == _found(in_turn)
    if clip.startswith("dev10"):
        assert ahead.events, "the collapse is found"
    assert not _helpers(), "the helper thread ends with the video"


def test_a_source_that_fails_midway_fails_the_run_and_leaves_no_helper() -> None:
    path = SHARED_VIDEOS / CLIPS[0]
    if not path.is_file():
        pytest.skip(f"{path} is not here")
    detector = LearnedDetector()
    frames = _frames(path, detector)

    def breaking() -> Iterator[Frame]:
        yield from frames[:10]
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="disk went away"):
        detector.run(breaking(), probe(path))
    assert not _helpers()
