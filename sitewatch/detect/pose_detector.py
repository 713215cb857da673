"""The hand-set rule detector (`pose-rules`): MoveNet poses, tracks and fall rules, plus motion and falling objects.

Kept beside the learned default (`learned.py`) so the two can be compared on the same clips.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sitewatch.detect.base import Detection, NewEvents, Seen, Step, StreamInfo, box_of, run_stream
from sitewatch.detect.fall import FallConfig, FallRules
from sitewatch.detect.motion import MotionMeter
from sitewatch.detect.objects import FallingObjects, struck_by
from sitewatch.detect.pose import MoveNet
from sitewatch.detect.posture import posture
from sitewatch.detect.signals import BinnedSignal
from sitewatch.detect.track import Tracker
from sitewatch.schema import Event, EventKind, VideoInfo

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
        self.pose = MoveNet(long_side=input_size, threads=threads, min_score=min_pose_score)

    def start(self, info: StreamInfo) -> RulesStream:
        """A fresh stream for one video or camera connection."""
        return RulesStream(self, info)

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse the frames of one video in time order."""
        return run_stream(self, frames, info)


class RulesStream:
    """The fall rules over one video or camera, a frame at a time; a live stream keeps no signals and hands
    each event out once."""

    def __init__(self, detector: PoseDetector, info: StreamInfo) -> None:
        self.live = info.live
        self._pose = detector.pose
        self._aspect = info.aspect
        self.tracker = Tracker()
        self.rules = FallRules(info.aspect, detector.config)
        self.motion = MotionMeter()
        self.objects = FallingObjects()
        self._signals = [BinnedSignal(n) for n in ("fallness", "max_torso_deg", "people")]
        self._signals += [BinnedSignal("motion_energy", how="mean"), BinnedSignal("falling_object")]
        self._people_max = self._frames = 0
        self._new = NewEvents(info.live)
        self._end_s = 0.0

    def feed(self, frame: Frame) -> Step:
        """Pose, track, rules, motion and falling objects for one frame."""
        people = self._pose(frame.image)
        tracks = self.tracker.update(people, frame.time_s)
        fallness = self.rules.update(frame.time_s, tracks, set(self.tracker.tracks))
        postures = [(t, posture(t.person, self._aspect)) for t in tracks]
        energy = self.motion(frame.image)
        falling = self.objects.update(frame.time_s, frame.image, [p.box for p in people])
        if not self.live:
            angles = [p.torso_deg for _, p in postures if p.torso_deg]
            values = (fallness, min(90.0, max(angles, default=0.0)), float(len(people)), energy, falling)
            for signal, value in zip(self._signals, values, strict=True):
                signal.add(frame.time_s, value)
        self._people_max, self._frames = max(self._people_max, len(people)), self._frames + 1
        self._end_s = frame.time_s
        seen = [Seen(t.track_id, box_of(t.person.box), p.down >= self.rules.config.down) for t, p in postures]
        return Step(frame.time_s, self._opened(), seen)

    def finish(self) -> Detection:
        """The video ended: close open episodes and object bursts, match struck-by."""
        events = self.rules.finish(self._end_s) if self._frames else []
        drops = self.objects.finish()
        falls = [e for e in events if e.kind is EventKind.fall]
        events = sorted([*events, *drops, *struck_by(drops, falls)], key=lambda e: e.start_s)
        log.info("pose detector: %d frames, %d events, up to %d people", self._frames, len(events), self._people_max)
        return Detection(
            events=events,
            signals=[s.series() for s in self._signals],
            people_max=self._people_max,
            frames_seen=self._frames,
        )

    def scene(self) -> None:
        """The rules judge every camera alike: no normal to keep."""
        return None

    def _opened(self) -> list[Event]:
        return self._new.take(self.rules.events, self.objects.events)
