"""The default (learned) detector fed one frame at a time: events as soon as they open, memory bounded.

`LearnedDetector.run` consumes a whole video and returns its events at the end. A camera never ends, so
this steps the same `FrameScorer` (pose + motion observer, tracker, feature windows, the fitted model,
the alarm book, falling objects) one frame at a time and hands out each event the moment it opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitewatch.detect.learned import FrameScorer, LearnedDetector
from sitewatch.live.lying import FoundLying
from sitewatch.schema import Event

if TYPE_CHECKING:
    from sitewatch.video.decode import Frame


class OnlineDetector:
    """One camera's detector state; `push` a frame (in time order), get the events that opened with it."""

    def __init__(self, detector: LearnedDetector, frame_aspect: float, down_alert_s: float = 0.0) -> None:
        self.fps = detector.fps
        self.max_side = detector.max_side
        self._scorer = FrameScorer(detector, frame_aspect)
        self._lying = FoundLying(down_alert_s) if down_alert_s > 0 else None
        self.people = 0

    def push(self, frame: Frame) -> list[Event]:
        """Analyse one frame; return the events that started with it (an open event keeps growing in place)."""
        scored = self._scorer.step(frame)
        self.people = len(scored.observation.people)
        alarms, objects = self._scorer.alarms, self._scorer.objects
        # Handed out once and forgotten here, so hours of watching keep no growing lists.
        found = [*alarms.events, *objects.events, *(self._lying.update(scored.rows) if self._lying else [])]
        alarms.events.clear()
        objects.events.clear()
        return sorted(found, key=lambda e: e.start_s)
