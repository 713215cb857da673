"""Short-term multi-person tracking by box overlap and centre distance, with bounded memory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.detect.pose import Person

SIDE = 0.02  # a box this close to the picture's left or right side is cut by it


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x1,y1,x2,y2 boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def _side(box: np.ndarray) -> int:
    """-1 or 1 when the box is cut by the picture's left or right side, else 0."""
    return -1 if box[0] <= SIDE else 1 if box[2] >= 1.0 - SIDE else 0


@dataclass
class Track:
    """One person followed over frames."""

    track_id: int
    person: Person
    last_seen_s: float


class Tracker:
    """Greedy association of detections to tracks; a track dies after `max_gap_s` unseen."""

    def __init__(self, max_gap_s: float = 1.5, max_jump: float = 1.2) -> None:
        # max_jump is in box sizes: a falling body's box moves about half its height per 0.2 s.
        self.max_gap_s = max_gap_s
        self.max_jump = max_jump
        self.tracks: dict[int, Track] = {}
        self._next_id = 1

    def _cost(self, track: Track, person: Person) -> float | None:
        a, b = track.person.box, person.box
        overlap = iou(a, b)
        side = _side(a)
        if side and _side(b) != side and overlap == 0.0:
            # Last seen cut by the picture's side: they are leaving through it. A body that goes down there
            # still overlaps where it stood or lies across that side; a detection away from it that does not
            # is someone, or something, else. A faint detection of a table's base once took over walkers'
            # tracks this way, and the track's drop to a quarter of its height read as a fall.
            return None
        ca, cb = (a[:2] + a[2:]) / 2, (b[:2] + b[2:]) / 2
        # A lying and a standing box of the same body differ in shape, so scale by the larger side.
        size = max(a[2] - a[0], a[3] - a[1], b[2] - b[0], b[3] - b[1], 1e-3)
        jump = float(np.linalg.norm(ca - cb)) / size
        if overlap < 0.05 and jump > self.max_jump:
            return None
        return jump - overlap

    def update(self, people: list[Person], time_s: float) -> list[Track]:
        """Assign this frame's people to tracks and return the tracks seen in this frame."""
        for track_id in [k for k, t in self.tracks.items() if time_s - t.last_seen_s > self.max_gap_s]:
            del self.tracks[track_id]
        pairs = []
        for track_id, track in self.tracks.items():
            for index, person in enumerate(people):
                cost = self._cost(track, person)
                if cost is not None:
                    pairs.append((cost, track_id, index))
        pairs.sort()
        used_tracks: set[int] = set()
        used_people: set[int] = set()
        seen: list[Track] = []
        for _, track_id, index in pairs:
            if track_id in used_tracks or index in used_people:
                continue
            track = self.tracks[track_id]
            track.person = people[index]
            track.last_seen_s = time_s
            used_tracks.add(track_id)
            used_people.add(index)
            seen.append(track)
        for index, person in enumerate(people):
            if index not in used_people:
                track = Track(self._next_id, person, last_seen_s=time_s)
                self.tracks[self._next_id] = track
                self._next_id += 1
                seen.append(track)
        return seen
