"""From per-row accident probabilities to events: one event per episode of a track looking fallen or lost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.detect.base import ACCIDENT_CONFIDENCE
from sitewatch.detect.features import FEATURES, Row
from sitewatch.schema import Box, Event, EventKind

_UPRIGHT = FEATURES.index("upright_now")
_FALL_SPEED = FEATURES.index("fall_speed")
_DROP = FEATURES.index("drop_heights")
# A person lost right after moving down this fast (body heights per second) is worth a look even when
# the model is unsure: silence about them must never read as a confident all-clear.
LOST_FAST_DOWN = 1.0
LOST_LOOK_CONFIDENCE = 0.4


@dataclass
class _Episode:
    event: Event


def _box(b: np.ndarray) -> Box:
    return Box(x1=float(b[0]), y1=float(b[1]), x2=float(b[2]), y2=float(b[3]))


class AlarmBook:
    """Collects events from rows and their calibrated probabilities, in time order."""

    def __init__(self, threshold: float = ACCIDENT_CONFIDENCE) -> None:
        self.threshold = threshold
        self._open: dict[int, _Episode] = {}
        self.events: list[Event] = []

    def add(self, row: Row, probability: float) -> None:
        """Take one row with its probability."""
        episode = self._open.get(row.track_id)
        if episode is not None:
            if probability >= self.threshold or not row.values[_UPRIGHT] >= 0.6:
                episode.event.end_s = round(row.time_s, 3)
                episode.event.confidence = round(max(episode.event.confidence, probability), 3)
                return
            del self._open[row.track_id]
        if probability >= self.threshold:
            self._start(row, probability)
        elif row.lost and self._fast_down(row):
            self._start(row, max(probability, LOST_LOOK_CONFIDENCE))

    @staticmethod
    def _fast_down(row: Row) -> bool:
        drop = row.values[_DROP]
        return bool(row.values[_FALL_SPEED] >= LOST_FAST_DOWN or (not np.isnan(drop) and drop >= 0.3))

    def _start(self, row: Row, confidence: float) -> None:
        kind = EventKind.person_lost_after_fall if row.lost else EventKind.fall
        description = (
            "person moved down fast and then went out of sight"
            if row.lost
            else "person went from upright to the ground quickly"
        )
        event = Event(
            kind=kind,
            start_s=round(min(row.onset_s, row.time_s), 3),
            end_s=round(row.time_s, 3),
            confidence=round(confidence, 3),
            keyframe_s=round(row.time_s, 3),
            people=[row.track_id],
            box=_box(row.box),
            details={
                "fall_speed": round(float(row.values[_FALL_SPEED]), 3),
                **({} if np.isnan(row.values[_DROP]) else {"drop_heights": round(float(row.values[_DROP]), 3)}),
            },
            description=description,
        )
        self.events.append(event)
        if not row.lost:
            self._open[row.track_id] = _Episode(event)
