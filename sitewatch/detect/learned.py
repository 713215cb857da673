"""The default detector: MoveNet poses and tracks, per-track feature windows, and a learned fall decision.

The decision (boosted trees + calibration, `fall_model.json`) was fitted by `scripts/train_detector.py`
on the training corpus; here it runs with numpy only. Falling objects and struck-by come from
`objects.py` as in the rule detector.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from sitewatch.detect.alarms import AlarmBook
from sitewatch.detect.base import Detection
from sitewatch.detect.features import FeatureStream, Row
from sitewatch.detect.forest import FallModel, load_model
from sitewatch.detect.objects import FallingObjects, struck_by
from sitewatch.detect.observe import Observation, Observer, Recording
from sitewatch.detect.pose import MoveNet
from sitewatch.detect.signals import BinnedSignal
from sitewatch.detect.track import Tracker
from sitewatch.schema import EventKind, VideoInfo

if TYPE_CHECKING:
    from sitewatch.video.decode import Frame

log = logging.getLogger(__name__)


def feature_rows(observations: Iterable[Observation], frame_aspect: float, fps: float) -> Iterator[list[Row]]:
    """Track people through the observations and yield each frame's feature rows."""
    tracker = Tracker()
    stream = FeatureStream(frame_aspect, fps)
    for observation in observations:
        yield stream.update(observation, tracker.update(observation.people, observation.time_s))


def recording_rows(recording: Recording, fps: float) -> list[Row]:
    """All feature rows of a recorded clip (what training and cross-validation score)."""
    return [row for rows in feature_rows(recording.observations, recording.aspect, fps) for row in rows]


class LearnedDetector:
    """Falls, and people lost from view right after moving down fast, from a model fitted on real clips."""

    name = "pose"

    def __init__(
        self,
        fps: float = 6.0,
        input_size: int = 320,
        max_side: int | None = 640,
        threads: int = 2,
        min_pose_score: float = 0.15,
        model: FallModel | None = None,
    ) -> None:
        self.fps = fps
        self.max_side = max_side
        self.model = model or load_model()
        self.pose = MoveNet(long_side=input_size, threads=threads, min_score=min_pose_score)

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse the frames of one video in time order."""
        alarms = AlarmBook()
        objects = FallingObjects()
        observer = Observer(self.pose)
        signals = {
            "fallness": BinnedSignal("fallness"),
            "people": BinnedSignal("people"),
            "motion_energy": BinnedSignal("motion_energy", how="mean"),
            "falling_object": BinnedSignal("falling_object"),
        }
        shape: tuple[int, int] | None = None
        people_max = frames_seen = 0
        peak = float(self.model.calibration(-np.inf))

        def observed() -> Iterator[Observation]:
            nonlocal shape, people_max, frames_seen
            for frame in frames:
                shape = shape or frame.image.shape[:2]
                observation = observer(frame.image, frame.time_s)
                people = [p.box for p in observation.people]
                signals["falling_object"].add(frame.time_s, objects.update(frame.time_s, frame.image, people))
                signals["people"].add(frame.time_s, float(len(people)))
                signals["motion_energy"].add(frame.time_s, observation.motion)
                people_max = max(people_max, len(people))
                frames_seen += 1
                yield observation

        aspect = info.width / max(info.height, 1)
        for rows in feature_rows(observed(), aspect, self.fps):
            probabilities = self.model.probability(np.stack([r.values for r in rows])) if rows else np.zeros(0)
            for row, probability in zip(rows, probabilities, strict=True):
                alarms.add(row, float(probability))
            if rows:
                signals["fallness"].add(rows[0].time_s, float(probabilities.max()))
                peak = max(peak, float(probabilities.max()))
        drops = objects.finish()
        falls = [e for e in alarms.events if e.kind is EventKind.fall]
        events = sorted([*alarms.events, *drops, *struck_by(drops, falls)], key=lambda e: e.start_s)
        log.info("learned detector: %d frames, %d events, up to %d people", frames_seen, len(events), people_max)
        return Detection(
            events=events,
            signals=[s.series() for s in signals.values()],
            people_max=people_max,
            frames_seen=frames_seen,
            accident_probability=round(peak, 3),
        )
