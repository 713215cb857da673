"""The default detector: MoveNet poses and tracks, per-track feature windows, and a learned fall decision.

The decision (boosted trees + calibration, `fall_model.json`) was fitted by `scripts/train_detector.py`
on the training corpus; here it runs with numpy only. Falling objects and struck-by come from
`objects.py` as in the rule detector.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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
    yield stream.finish()


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
        scorer = FrameScorer(self, info.width / max(info.height, 1))
        signals = {
            "fallness": BinnedSignal("fallness"),
            "people": BinnedSignal("people"),
            "motion_energy": BinnedSignal("motion_energy", how="mean"),
            "falling_object": BinnedSignal("falling_object"),
        }
        people_max = frames_seen = 0
        peak = float(self.model.calibration(-np.inf))
        for frame in frames:
            scored = scorer.step(frame)
            people = len(scored.observation.people)
            signals["falling_object"].add(frame.time_s, scored.falling_object)
            signals["people"].add(frame.time_s, float(people))
            signals["motion_energy"].add(frame.time_s, scored.observation.motion)
            people_max = max(people_max, people)
            frames_seen += 1
            if scored.rows:
                signals["fallness"].add(scored.rows[0].time_s, float(scored.probabilities.max()))
                peak = max(peak, float(scored.probabilities.max()))
        scorer.finish()
        alarms, objects = scorer.alarms, scorer.objects
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


@dataclass(frozen=True)
class Scored:
    """What one frame gave: the people and motion seen, the falling-object signal, and each track's probability."""

    observation: Observation
    falling_object: float
    rows: list[Row]
    probabilities: np.ndarray


class FrameScorer:
    """The learned decision over one video or camera, a frame at a time; its alarms and drops accumulate."""

    def __init__(self, detector: LearnedDetector, frame_aspect: float) -> None:
        self.model = detector.model
        self.observer = Observer(detector.pose)
        self.tracker = Tracker()
        self.features = FeatureStream(frame_aspect, detector.fps)
        self.alarms = AlarmBook(possible=self.model.possible, confirm_fast_s=self.model.confirm_fast_s)
        self.objects = FallingObjects()
        self._last_s: float | None = None

    def step(self, frame: Frame) -> Scored:
        """Observe one frame (in time order), score every track's window, and feed the alarms."""
        observation = self.observer(frame.image, frame.time_s)
        falling = self.objects.update(frame.time_s, frame.image, [p.box for p in observation.people])
        rows = self.features.update(observation, self.tracker.update(observation.people, observation.time_s))
        self._last_s = frame.time_s
        return Scored(observation, falling, rows, self._score(rows))

    def finish(self) -> None:
        """The file ended (never called for a live camera, which waits for the next seconds instead):
        tracks that just vanished and descents not yet confirmed become possible accidents with a reason."""
        if self._last_s is None:
            return
        self._score(self.features.finish())
        self.alarms.finish(self._last_s)

    def _score(self, rows: list[Row]) -> np.ndarray:
        probabilities = self.model.probability(np.stack([r.values for r in rows])) if rows else np.zeros(0)
        for row, probability in zip(rows, probabilities, strict=True):
            self.alarms.add(row, float(probability))
        return probabilities
