"""The detector protocol and its result."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sitewatch.schema import Event, SignalSeries, Verdict, VideoInfo

if TYPE_CHECKING:
    from sitewatch.video.decode import Frame

# Events at or above this confidence make a clip an accident; below it, only worth a look.
ACCIDENT_CONFIDENCE = 0.5


def verdict_for(events: list[Event], threshold: float = ACCIDENT_CONFIDENCE) -> Verdict:
    """Accident when an event reaches `threshold`, uncertain when only weaker events exist."""
    if any(e.confidence >= threshold for e in events):
        return Verdict.accident
    return Verdict.uncertain if events else Verdict.no_accident


def first_accident_s(events: list[Event], threshold: float = ACCIDENT_CONFIDENCE) -> float | None:
    """Start of the earliest event at or above `threshold`."""
    starts = [e.start_s for e in events if e.confidence >= threshold]
    return min(starts) if starts else None


@dataclass
class Detection:
    """What a detector found in one video."""

    events: list[Event] = field(default_factory=list)
    signals: list[SignalSeries] = field(default_factory=list)
    people_max: int = 0
    frames_seen: int = 0
    # A calibrated detector's probability that the clip holds an accident (None: not calibrated).
    accident_probability: float | None = None


class Detector(Protocol):
    """Turns sampled frames of one video into events and signals."""

    name: str
    fps: float  # frames per second it wants
    max_side: int | None  # decode frames no larger than this on their long side

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse the frames (in time order) of the video described by `info`."""
        ...
