"""Per-person fall and person-down rules over posture histories.

A fall is "seen upright, then down within a short transition, hips dropped by a good part of the
body's height, and still not upright a moment later". A person down is "down for several seconds";
it only counts as an accident on its own when the same track was seen upright before, because a
person who lies for the whole clip (resting, a mat exercise) looks identical to a pose model.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from sitewatch.detect.posture import Posture, posture
from sitewatch.detect.scoring import ramp
from sitewatch.detect.track import Track
from sitewatch.schema import Box, Event, EventKind


@dataclass(frozen=True)
class FallConfig:
    """Thresholds of the rules, all in physical units (seconds, body heights, 0..1 scores)."""

    upright: float = 0.6  # posture.upright at or above: standing or sitting up
    down: float = 0.6  # posture.down at or above: lying or on all fours
    max_transition_s: float = 1.5  # last upright -> first down, for a fall
    confirm_s: float = 1.0  # a fall must stay down (not upright again) this long
    min_drop: float = 0.2  # hip drop in upright-body heights, for a fall
    down_min_s: float = 3.0  # lying this long makes a person_down
    min_observations: int = 2
    collapse_drop: float = 0.4  # hip drop, in upright-body heights, that counts as down on its own
    collapse_height: float = 0.7  # ... together with the body this much shorter than upright
    reference_window_s: float = 2.5  # how far back the upright reference stance may lie


class _Stance(NamedTuple):
    """How the person stood just before going down."""

    last_upright_s: float
    mid_y: float  # highest hip position among the recent upright frames
    height: float  # their typical (median) body height


@dataclass
class _Episode:
    """One stretch of a track being down."""

    onset_s: float
    last_s: float
    ref: _Stance | None  # the stance before, when it was recent enough
    seen_upright_before: bool
    count: int = 1
    max_drop: float = 0.0
    box: np.ndarray | None = None
    fall: Event | None = None
    down: Event | None = None


@dataclass
class _TrackMemory:
    uprights: deque[tuple[float, Posture]] = field(default_factory=lambda: deque(maxlen=64))
    seen_upright: bool = False
    episode: _Episode | None = None



def _box(b: np.ndarray) -> Box:
    return Box(x1=float(b[0]), y1=float(b[1]), x2=float(b[2]), y2=float(b[3]))


class FallRules:
    """Feeds on tracked people frame by frame; collects fall and person_down events."""

    def __init__(self, frame_aspect: float, config: FallConfig | None = None) -> None:
        self.config = config or FallConfig()
        self.frame_aspect = frame_aspect
        self._memory: dict[int, _TrackMemory] = {}
        self.events: list[Event] = []

    def update(self, time_s: float, tracks: list[Track], alive: set[int]) -> float:
        """Process one frame's tracks (`alive`: ids the tracker still holds); return its fallness 0..1."""
        fallness = 0.0
        for track in tracks:
            fallness = max(fallness, self._observe(time_s, track))
        self._confirm(time_s)
        for track_id in [k for k in self._memory if k not in alive]:
            episode = self._memory.pop(track_id).episode
            if episode is not None:
                self._close(episode)
        return fallness

    def finish(self, end_s: float) -> list[Event]:
        """Close open episodes at the end of the video and return all events in time order."""
        self._confirm(end_s, final=True)
        for memory in self._memory.values():
            if memory.episode is not None:
                self._close(memory.episode)
        return sorted(self.events, key=lambda e: e.start_s)

    def _observe(self, t: float, track: Track) -> float:
        cfg = self.config
        memory = self._memory.setdefault(track.track_id, _TrackMemory())
        p = posture(track.person, self.frame_aspect)
        episode = memory.episode
        ref = self._reference(memory, t)
        collapsed = ref is not None and self._collapsed(p, ref)
        if p.upright >= cfg.upright and not collapsed:
            if episode is not None:
                self._close(episode)
                memory.episode = None
            memory.uprights.append((t, p))
            memory.seen_upright = True
            return 0.0
        if p.down < cfg.down and not collapsed:
            return 0.0
        if episode is None:
            episode = _Episode(t, t, ref, seen_upright_before=memory.seen_upright)
            memory.episode = episode
        else:
            episode.count += 1
            episode.last_s = t
        episode.box = track.person.box
        if episode.ref is not None:
            drop = (p.mid_y - episode.ref.mid_y) / max(episode.ref.height, 1e-3)
            episode.max_drop = max(episode.max_drop, drop)
        recent_factor = 1.0 if episode.ref is not None else 0.5
        return p.down * recent_factor * (0.5 + 0.5 * ramp(episode.max_drop, 0.0, cfg.min_drop))

    def _collapsed(self, p: Posture, ref: _Stance) -> bool:
        """Hips far below the recent stance and the body much shorter, whatever the torso angle.

        Seen from above (CCTV, fisheye) a fallen body can still look vertical in the image.
        """
        cfg = self.config
        drop = (p.mid_y - ref.mid_y) / max(ref.height, 1e-3)
        shrunk = p.height <= cfg.collapse_height * ref.height
        # A body leaving the frame also gets shorter with its centre moving to the edge.
        return drop >= cfg.collapse_drop and shrunk and not p.cut

    def _reference(self, memory: _TrackMemory, onset_s: float) -> _Stance | None:
        """The stance a fall is measured from: the recent upright frames before `onset_s`.

        The last upright frames can already be low (a body sinking while still vertical), so the
        drop is measured from the highest hips and the shrinking against the median height (the
        median, not the maximum, so one oversized box does not make a normal stance look shrunk).
        """
        cfg = self.config
        while memory.uprights and onset_s - memory.uprights[0][0] > cfg.reference_window_s:
            memory.uprights.popleft()
        if not memory.uprights or onset_s - memory.uprights[-1][0] > cfg.max_transition_s:
            return None
        return _Stance(
            last_upright_s=memory.uprights[-1][0],
            mid_y=min(p.mid_y for _, p in memory.uprights),
            height=float(np.median([p.height for _, p in memory.uprights])),
        )

    def _confirm(self, now: float, final: bool = False) -> None:
        cfg = self.config
        for track_id, memory in self._memory.items():
            ep = memory.episode
            if ep is None or ep.count < cfg.min_observations:
                continue
            settled = final or now - ep.onset_s >= cfg.confirm_s
            if ep.fall is None and ep.ref is not None and settled and ep.max_drop >= cfg.min_drop:
                transition = ep.onset_s - ep.ref.last_upright_s
                confidence = (
                    0.55
                    + 0.25 * ramp(ep.max_drop, cfg.min_drop, 2.5 * cfg.min_drop)
                    + 0.2 * (1.0 - ramp(transition, 0.3, cfg.max_transition_s))
                )
                ep.fall = Event(
                    kind=EventKind.fall,
                    start_s=round(ep.ref.last_upright_s, 3),
                    end_s=round(ep.last_s, 3),
                    confidence=round(confidence, 3),
                    keyframe_s=round(ep.onset_s, 3),
                    people=[track_id],
                    box=_box(ep.box) if ep.box is not None else None,
                    details={"drop_heights": round(ep.max_drop, 3), "transition_s": round(transition, 3)},
                    description="person went from upright to the ground quickly",
                )
                self.events.append(ep.fall)
            if ep.down is None and ep.last_s - ep.onset_s >= cfg.down_min_s:
                if ep.fall is not None:
                    confidence = ep.fall.confidence
                elif ep.seen_upright_before:
                    confidence = 0.6
                else:
                    # Never seen standing: resting or a mat exercise look the same. Worth a look only.
                    confidence = 0.35
                ep.down = Event(
                    kind=EventKind.person_down,
                    start_s=round(ep.onset_s, 3),
                    end_s=round(ep.last_s, 3),
                    confidence=round(confidence, 3),
                    keyframe_s=round(ep.onset_s + cfg.down_min_s, 3),
                    people=[track_id],
                    box=_box(ep.box) if ep.box is not None else None,
                    details={"seen_upright_before": float(ep.seen_upright_before)},
                    description="person lying on the ground and not getting up",
                )
                self.events.append(ep.down)

    @staticmethod
    def _close(ep: _Episode) -> None:
        for event in (ep.fall, ep.down):
            if event is not None:
                event.end_s = round(max(event.end_s, ep.last_s), 3)
                event.details["down_s"] = round(ep.last_s - ep.onset_s, 3)
