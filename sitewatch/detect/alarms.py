"""From per-row accident probabilities to events: one event per episode of a track looking fallen or lost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.detect.base import ACCIDENT_CONFIDENCE
from sitewatch.detect.features import FEATURES, Row
from sitewatch.schema import Box, Event, EventKind

_UPRIGHT, _DOWN, _FALL_SPEED, _DROP, _ASPECT_CHANGE, _AGE = (
    FEATURES.index(k)
    for k in ("upright_now", "down_now", "fall_speed", "drop_heights", "aspect_change", "age_s")
)
# A person lost right after their posture changed fast while moving down is worth a look even when the
# model is unsure: silence about them must never read as a confident all-clear. Measured on the corpus
# and dev clips, people walking out of view or lost in a crowd were still upright when last seen.
LOST_LOOK_CONFIDENCE = 0.4
LOST_MIN_AGE_S = 1.0  # a track this old was a person, not a flicker of the pose model
LOST_NOT_UPRIGHT = 0.7
LOST_WIDER = 1.3  # last box this much wider (relative to its height) than usual: the body tilted
LOST_DOWN = 0.3
LOST_FAST_DOWN = 0.5  # body heights per second
LOST_DROP = 0.15  # body heights
# A slow descent (sitting down on a chair, lying down on purpose) can look fallen for a moment; a fall
# keeps looking fallen. Measured on the corpus, a chair sit-down seen from above crossed the threshold
# for one frame, 7 s before the real fall. So a slow descent alarms only once it has looked fallen for
# CONFIRM_S; fast drops and lost tracks alarm at once, and the event still starts at the onset.
SLOW_DESCENT = 0.5  # body heights per second: the window's fastest hip descent below this is slow
CONFIRM_S = 0.3


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
        self._pending: dict[int, float] = {}  # track -> when its slow descent first looked fallen
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
        if probability < self.threshold:
            self._pending.pop(row.track_id, None)
            if row.lost and self._fell_out_of_view(row):
                self._start(row, max(probability, LOST_LOOK_CONFIDENCE))
        elif row.lost or self._confirmed(row):
            self._pending.pop(row.track_id, None)
            self._start(row, probability)

    def _confirmed(self, row: Row) -> bool:
        """A fast descent at once; a slow one once it has looked fallen for CONFIRM_S."""
        if row.values[_FALL_SPEED] >= SLOW_DESCENT:
            return True
        since = self._pending.setdefault(row.track_id, row.time_s)
        return row.time_s - since >= CONFIRM_S - 1e-6  # rows come at frame times that round

    @staticmethod
    def _fell_out_of_view(row: Row) -> bool:
        """Last seen tilting or going down, not upright, and moving down fast (NaN drops compare false)."""
        v = row.values
        tilted = v[_ASPECT_CHANGE] >= LOST_WIDER or v[_DOWN] >= LOST_DOWN
        downward = v[_FALL_SPEED] >= LOST_FAST_DOWN or v[_DROP] >= LOST_DROP
        return bool(v[_AGE] >= LOST_MIN_AGE_S and v[_UPRIGHT] < LOST_NOT_UPRIGHT and tilted and downward)

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
