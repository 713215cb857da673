"""A person already lying when a camera starts (or who comes into view lying) is never a fall: nobody was
seen going down. The learned detector only alarms on what it saw happen, so this raises `person_down`
for a track that has been lying, and never upright, for long enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sitewatch.detect.features import FEATURES, Row
from sitewatch.schema import Box, Event, EventKind

_DOWN, _SEEN_UPRIGHT = FEATURES.index("down_now"), FEATURES.index("seen_upright")
CONFIDENCE = 0.6  # a lying body seen for seconds, with nothing known of how it got there


@dataclass
class FoundLying:
    """Per track: since when it has lain without ever being seen upright; each track is reported once."""

    hold_s: float
    _since: dict[int, float] = field(default_factory=dict)
    _reported: set[int] = field(default_factory=set)

    def update(self, rows: list[Row]) -> list[Event]:
        """Feed one step's rows; the events of tracks that have now lain `hold_s`."""
        events = []
        for row in rows:
            lying = not row.lost and row.values[_DOWN] >= 0.5 and row.values[_SEEN_UPRIGHT] < 0.5
            if not lying:
                self._since.pop(row.track_id, None)
                continue
            since = self._since.setdefault(row.track_id, row.time_s)
            if row.time_s - since >= self.hold_s and row.track_id not in self._reported:
                self._reported.add(row.track_id)
                x1, y1, x2, y2 = (float(v) for v in row.box)
                events.append(Event(
                    kind=EventKind.person_down, start_s=round(since, 3), end_s=round(row.time_s, 3),
                    confidence=CONFIDENCE, keyframe_s=round(row.time_s, 3), people=[row.track_id],
                    box=Box(x1=x1, y1=y1, x2=x2, y2=y2), details={"lying_s": round(row.time_s - since, 3)},
                    description="a person lying, never seen upright, since they came into view",
                ))
        return events
