"""Zones on a camera's picture: a person staying in a danger zone raises an intrusion; a fall or a lying person
in an ignore zone is no alarm. Where a person is is their foot point, the bottom centre of their box.

One `ZoneJudge` per camera stream takes each step's people and events; its zones can be replaced by another
thread (a watcher that saw them change in the history) and apply from the next step.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sitewatch.detect.base import Detection, Detector, DetectorStream, Step, StreamInfo, run_stream
from sitewatch.schema import Box, Event, EventKind, VideoInfo, Zone, ZoneKind

if TYPE_CHECKING:
    from sitewatch.detect.scene import SceneState
    from sitewatch.video.decode import Frame

log = logging.getLogger(__name__)

# A person the pose model found inside a polygon the operator drew: nothing about it is a guess about harm.
INTRUSION_CONFIDENCE = 0.9
# A foot point just outside for less than this is still inside: a box's lower edge jitters from frame to frame,
# and a person walking along a zone's edge would otherwise enter it again and again.
LEAVE_S = 1.0
FORGET_S = 60.0  # a track unseen this long is gone (trackers never reuse an id)
# What an ignore zone silences: a person going or lying down there (a rest area, a mat), never a falling load.
IGNORABLE = frozenset({EventKind.fall, EventKind.person_down, EventKind.person_lost_after_fall})

Point = tuple[float, float]


def foot(box: Box) -> Point:
    """Where a person stands or lies: the bottom centre of their box."""
    return ((box.x1 + box.x2) / 2, box.y2)


def contains(points: list[Point], point: Point) -> bool:
    """Whether `point` is inside the polygon `points` (even-odd rule, so a drawn polygon may cross itself)."""
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def zone_at(zones: Iterable[Zone], box: Box, kind: ZoneKind) -> Zone | None:
    """The first zone of `kind` that holds the box's foot point."""
    point = foot(box)
    return next((z for z in zones if z.kind is kind and contains(z.points, point)), None)


@dataclass
class _Stay:
    """One track inside one danger zone: since when, when last seen inside, and its intrusion once raised."""

    entered_s: float
    inside_s: float
    event: Event | None = None


class ZoneJudge:
    """One camera's zones applied to its detector's steps: intrusions raised, events in ignore zones dropped."""

    def __init__(self, zones: list[Zone], label: str) -> None:
        self._zones = tuple(zones)
        self._label = label  # the camera (or clip) named in the log
        self._lock = threading.Lock()
        self._stays: dict[tuple[str, int], _Stay] = {}
        self._last_seen: dict[int, float] = {}

    @property
    def zones(self) -> list[Zone]:
        """The zones in force."""
        return list(self._zones)

    def set_zones(self, zones: list[Zone]) -> None:
        """Apply `zones` from the next step on; a person inside a zone that did not change keeps their time there."""
        with self._lock:
            unchanged = {z.name for z in zones if z in self._zones}
            self._zones = tuple(zones)
            self._stays = {key: stay for key, stay in self._stays.items() if key[0] in unchanged}

    def restart(self) -> None:
        """A new connection: its tracks are new people, whatever their ids."""
        with self._lock:
            self._stays.clear()
            self._last_seen.clear()

    def judge(self, step: Step, events: list[Event]) -> list[Event]:
        """This step's `events` without those in ignore zones, plus the intrusions raised now; in time order."""
        with self._lock:
            kept = self.allowed(events)
            kept += self._intrusions(step)
        return sorted(kept, key=lambda e: e.start_s)

    def allowed(self, events: list[Event]) -> list[Event]:
        """`events` without the falls and lying people inside an ignore zone (each one dropped is logged)."""
        kept = []
        for event in events:
            zone = zone_at(self._zones, event.box, ZoneKind.ignore) if event.box and event.kind in IGNORABLE else None
            if zone is None:
                kept.append(event)
            else:
                log.info("%s: %s at %.1f s is in the ignore zone %r: not an alarm", self._label, event.kind.value,
                         event.start_s, zone.name)
        return kept

    def _intrusions(self, step: Step) -> list[Event]:
        now = step.time_s
        raised = []
        for person in step.people:
            self._last_seen[person.track_id] = now
            point = foot(person.box)
            for zone in self._zones:
                if zone.kind is not ZoneKind.danger:
                    continue
                key = (zone.name, person.track_id)
                stay = self._stays.get(key)
                if not contains(zone.points, point):
                    if stay is not None and now - stay.inside_s >= LEAVE_S:
                        del self._stays[key]  # gone out: coming back in is a new entry, with its own intrusion
                    continue
                if stay is None:
                    stay = self._stays[key] = _Stay(entered_s=now, inside_s=now)
                stay.inside_s = now
                if stay.event is not None:
                    stay.event.end_s = round(now, 3)  # an open event grows in place while the person stays
                elif now - stay.entered_s >= zone.dwell_s:
                    stay.event = _intrusion(zone, person.track_id, person.box, stay.entered_s, now)
                    raised.append(stay.event)
        for track in [t for t, seen_s in self._last_seen.items() if now - seen_s > FORGET_S]:
            del self._last_seen[track]
            self._stays = {key: stay for key, stay in self._stays.items() if key[1] != track}
        return raised


def _intrusion(zone: Zone, track: int, box: Box, entered_s: float, now_s: float) -> Event:
    # The event starts when the dwell was reached: the moment the alarm is about, which its clip is cut around.
    stayed = now_s - entered_s
    return Event(
        kind=EventKind.intrusion, start_s=round(now_s, 3), end_s=round(now_s, 3), confidence=INTRUSION_CONFIDENCE,
        keyframe_s=round(now_s, 3), people=[track], box=box, details={"inside_s": round(stayed, 3)},
        description=f"a person stayed {stayed:.1f} s in the danger zone {zone.name!r}",
    )


class ZonedDetector:
    """Any detector with a camera's zones applied to what it finds: an incident clip judged as its camera was."""

    def __init__(self, inner: Detector, zones: list[Zone]) -> None:
        self.inner = inner
        self.zones = zones
        self.name = inner.name
        self.fps = inner.fps
        self.max_side = inner.max_side

    def start(self, info: StreamInfo) -> DetectorStream:
        """A stream of the inner detector whose steps and findings go through the zones."""
        return _ZonedStream(self.inner.start(info), ZoneJudge(self.zones, "clip"))

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse a whole video through the zones."""
        return run_stream(self, frames, info)


class _ZonedStream:
    """One stream of the inner detector, judged by the zones."""

    def __init__(self, inner: DetectorStream, judge: ZoneJudge) -> None:
        self._inner = inner
        self._judge = judge
        self._intrusions: list[Event] = []

    def feed(self, frame: Frame) -> Step:
        """The inner step with the zones' judgement of its events."""
        step = self._inner.feed(frame)
        events = self._judge.judge(step, step.events)
        self._intrusions += [e for e in events if e.kind is EventKind.intrusion]
        return Step(step.time_s, events, step.people)

    def finish(self) -> Detection:
        """The inner detection without what the ignore zones silence, with the intrusions."""
        detection = self._inner.finish()
        events = [*self._judge.allowed(detection.events), *self._intrusions]
        return replace(detection, events=sorted(events, key=lambda e: e.start_s))

    def scene(self) -> SceneState | None:
        """The inner stream's learned normal."""
        return self._inner.scene()
