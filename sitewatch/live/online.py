"""The default (learned) detector fed one frame at a time: events as soon as they open, memory bounded.

`LearnedDetector.run` consumes a whole video and returns its events at the end. A camera never ends, so
this drives the same pieces (pose + motion observer, tracker, feature windows, the fitted model, the
alarm book, falling objects) step by step and hands out each event the moment it opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sitewatch.detect.alarms import AlarmBook
from sitewatch.detect.features import FeatureStream
from sitewatch.detect.learned import LearnedDetector
from sitewatch.detect.objects import FallingObjects
from sitewatch.detect.observe import Observer
from sitewatch.detect.track import Tracker
from sitewatch.schema import Event

if TYPE_CHECKING:
    from sitewatch.video.decode import Frame


class OnlineDetector:
    """One camera's detector state; `push` a frame (in time order), get the events that opened with it."""

    def __init__(self, detector: LearnedDetector, frame_aspect: float) -> None:
        self.fps = detector.fps
        self.max_side = detector.max_side
        self._model = detector.model
        # The detector's own pose model: one interpreter per camera, since an interpreter is not shared.
        self._observer = Observer(detector.pose)
        self._tracker = Tracker()
        self._features = FeatureStream(frame_aspect, detector.fps)
        self._alarms = AlarmBook()
        self._objects = FallingObjects()
        self.people = 0

    def push(self, frame: Frame) -> list[Event]:
        """Analyse one frame; return the events that started with it (an open event keeps growing in place)."""
        observation = self._observer(frame.image, frame.time_s)
        self.people = len(observation.people)
        self._objects.update(frame.time_s, frame.image, [p.box for p in observation.people])
        rows = self._features.update(observation, self._tracker.update(observation.people, frame.time_s))
        if rows:
            probabilities = self._model.probability(np.stack([r.values for r in rows]))
            for row, probability in zip(rows, probabilities, strict=True):
                self._alarms.add(row, float(probability))
        # Handed out once and forgotten here, so hours of watching keep no growing lists.
        found = [*self._alarms.events, *self._objects.events]
        self._alarms.events.clear()
        self._objects.events.clear()
        return sorted(found, key=lambda e: e.start_s)
