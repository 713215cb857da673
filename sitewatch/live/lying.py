"""A person already lying when a camera starts (or who comes into view lying) is never a fall: nobody was
seen going down. The detectors only alarm on what they saw happen, so this raises `person_down` for a
track that has been lying, and never upright, for long enough.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sitewatch.detect.base import Step
from sitewatch.schema import Event, EventKind

CONFIDENCE = 0.6  # a lying body seen for seconds, with nothing known of how it got there
FORGET_S = 60.0  # a track unseen this long is gone (trackers never reuse an id), so its memory is dropped


@dataclass
class FoundLying:
    """Per track: since when it has lain without ever being seen upright; each track is reported once."""

    hold_s: float
    _since: dict[int, float] = field(default_factory=dict)
    _upright: set[int] = field(default_factory=set)
    _reported: set[int] = field(default_factory=set)
    _last_seen: dict[int, float] = field(default_factory=dict)

    def update(self, step: Step) -> list[Event]:
        """Feed one step's people; the events of tracks that have now lain `hold_s`."""
        events = []
        for person in step.people:
            track = person.track_id
            self._last_seen[track] = step.time_s
            if not person.lying:
                self._upright.add(track)
            if not person.lying or track in self._upright:
                self._since.pop(track, None)
                continue
            since = self._since.setdefault(track, step.time_s)
            if step.time_s - since >= self.hold_s and track not in self._reported:
                self._reported.add(track)
                events.append(Event(
                    kind=EventKind.person_down, start_s=round(since, 3), end_s=round(step.time_s, 3),
                    confidence=CONFIDENCE, keyframe_s=round(step.time_s, 3), people=[track],
                    box=person.box, details={"lying_s": round(step.time_s - since, 3)},
                    description="a person lying, never seen upright, since they came into view",
                ))
        self._forget(step.time_s)
        return events

    def _forget(self, now_s: float) -> None:
        for track in [t for t, seen_s in self._last_seen.items() if now_s - seen_s > FORGET_S]:
            del self._last_seen[track]
            self._since.pop(track, None)
            self._upright.discard(track)
            self._reported.discard(track)
