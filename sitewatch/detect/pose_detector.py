"""The hand-set rule detector (`pose-rules`): MoveNet poses, tracks and fall rules, plus motion and falling objects.

Kept beside the learned default (`learned.py`) so the two can be compared on the same clips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sitewatch.detect.base import Detection
from sitewatch.detect.fall import FallConfig, FallRules
from sitewatch.detect.motion import MotionMeter
from sitewatch.detect.objects import FallingObjects, struck_by
from sitewatch.detect.pose import MoveNet
from sitewatch.detect.posture import posture
from sitewatch.detect.signals import BinnedSignal
from sitewatch.detect.track import Tracker
from sitewatch.schema import EventKind, VideoInfo

if TYPE_CHECKING:
    from sitewatch.video.decode import Frame

log = logging.getLogger(__name__)


class PoseDetector:
    """Falls and people down from multi-person pose; streams frames with bounded memory."""

    name = "pose-rules"

    def __init__(
        self,
        fps: float = 6.0,
        input_size: int = 320,
        max_side: int | None = 640,
        threads: int = 2,
        min_pose_score: float = 0.15,
        config: FallConfig | None = None,
    ) -> None:
        self.fps = fps
        self.max_side = max_side
        self.config = config or FallConfig()
        self._pose = MoveNet(long_side=input_size, threads=threads, min_score=min_pose_score)

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse the frames of one video in time order."""
        tracker = Tracker()
        rules: FallRules | None = None
        motion = MotionMeter()
        fallness = BinnedSignal("fallness")
        torso = BinnedSignal("max_torso_deg")
        people_count = BinnedSignal("people")
        energy = BinnedSignal("motion_energy", how="mean")
        objects = FallingObjects()
        falling = BinnedSignal("falling_object")
        people_max = frames_seen = 0
        end_s = 0.0
        for frame in frames:
            height, width = frame.image.shape[:2]
            if rules is None:
                rules = FallRules(width / height, self.config)
            people = self._pose(frame.image)
            tracks = tracker.update(people, frame.time_s)
            fallness.add(frame.time_s, rules.update(frame.time_s, tracks, set(tracker.tracks)))
            angles = [p.torso_deg for p in (posture(t.person, width / height) for t in tracks) if p.torso_deg]
            torso.add(frame.time_s, min(90.0, max(angles, default=0.0)))
            people_count.add(frame.time_s, float(len(people)))
            energy.add(frame.time_s, motion(frame.image))
            falling.add(frame.time_s, objects.update(frame.time_s, frame.image, [p.box for p in people]))
            people_max = max(people_max, len(people))
            frames_seen += 1
            end_s = frame.time_s
        events = rules.finish(end_s) if rules is not None else []
        drops = objects.finish()
        falls = [e for e in events if e.kind is EventKind.fall]
        events = sorted([*events, *drops, *struck_by(drops, falls)], key=lambda e: e.start_s)
        log.info("pose detector: %d frames, %d events, up to %d people", frames_seen, len(events), people_max)
        return Detection(
            events=events,
            signals=[s.series() for s in (fallness, torso, people_count, energy, falling)],
            people_max=people_max,
            frames_seen=frames_seen,
        )
