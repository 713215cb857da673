"""The detector protocol and its result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sitewatch.detect.scene import SceneState
from sitewatch.schema import Box, Event, ModelVersion, SignalSeries, Verdict, VideoInfo

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
    # The fitted decision that judged it (None: a rule detector); a live stream may move to a newer one.
    model: ModelVersion | None = None


@dataclass(frozen=True)
class StreamInfo:
    """What a detector stream is told when it starts: the frames' shape, and whether they ever end."""

    width: int
    height: int
    # A camera never ends: no end-of-file reasoning, no signals kept, events handed out once and forgotten.
    live: bool = False
    # The camera's normal as its last stream left it (kept in the history), for detectors that learn one.
    scene: SceneState | None = None

    @property
    def aspect(self) -> float:
        """Frame width / height."""
        return self.width / max(self.height, 1)

    @classmethod
    def of(cls, info: VideoInfo) -> StreamInfo:
        """The stream of a file."""
        return cls(info.width, info.height)


@dataclass(frozen=True)
class Seen:
    """One tracked person in one frame: which track, where (normalised), and whether they are lying."""

    track_id: int
    box: Box
    lying: bool


@dataclass(frozen=True)
class Step:
    """What one fed frame gave: the events that opened with it (an open event keeps growing in place), and the
    people in view."""

    time_s: float
    events: list[Event]
    people: list[Seen]


class DetectorStream(Protocol):
    """One video or camera being analysed, a frame at a time."""

    def feed(self, frame: Frame) -> Step:
        """Analyse the next frame (in time order)."""
        ...

    def finish(self) -> Detection:
        """The video ended: everything found in it (a live stream is never finished)."""
        ...

    def scene(self) -> SceneState | None:
        """The camera's normal learned so far, to keep for its next stream (None: this detector learns none)."""
        ...


class Detector(Protocol):
    """Turns sampled frames of one video or camera into events and signals, a frame at a time."""

    name: str
    fps: float  # frames per second it wants
    max_side: int | None  # decode frames no larger than this on their long side

    def start(self, info: StreamInfo) -> DetectorStream:
        """A fresh stream for one video or one camera connection."""
        ...

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse the frames (in time order) of the video described by `info`."""
        ...


def box_of(box: Sequence[float]) -> Box:
    """A normalised x1, y1, x2, y2 array as a `Box`."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return Box(x1=x1, y1=y1, x2=x2, y2=y2)


class NewEvents:
    """Hands out the events appended to a stream's event lists since the last call; a live stream's lists are
    emptied once handed out, so hours of watching keep no growing lists."""

    def __init__(self, live: bool) -> None:
        self.live = live
        self._handed: dict[int, int] = {}

    def take(self, *lists: list[Event]) -> list[Event]:
        """The events each list gained since the last call, in time order."""
        found = []
        for events in lists:
            found += events[self._handed.get(id(events), 0):]
            if self.live:
                events.clear()
            else:
                self._handed[id(events)] = len(events)
        return sorted(found, key=lambda e: e.start_s)


def run_stream(detector: Detector, frames: Iterable[Frame], info: VideoInfo) -> Detection:
    """Feed a whole video through a fresh stream of `detector`: what every detector's `run` is."""
    stream = detector.start(StreamInfo.of(info))
    for frame in frames:
        stream.feed(frame)
    return stream.finish()
