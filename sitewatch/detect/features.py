"""Per-track feature windows: what a tracked person's last seconds looked like, as one row of numbers.

The same code feeds training (over cached observations) and inference (frame by frame), so the learned
decision sees exactly what it was trained on. Every feature is in physical units (seconds, body heights,
0..1 scores) so that frame rate, resolution and mirroring do not change its meaning.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from sitewatch.detect.observe import Observation
from sitewatch.detect.posture import posture
from sitewatch.detect.scene import SceneNorm
from sitewatch.detect.track import Track

WINDOW_S = 3.0  # how far back a row looks
RECENT_S = 0.5  # "now" is the mean over this last stretch
STILL_S = 1.0  # how far back "has it stopped moving" looks
UPRIGHT = 0.6  # posture.upright at or above: a reference stance
DOWN = 0.6
STANCE_S = 1.0  # the hips' reference height is their highest point this long before the last upright frame
LOST_AFTER_S = 0.7  # a track unseen this long gets one "lost" row
# A box centre moving sideways this many body heights in one step (or 3 heights per second over a gap)
# is the tracker swapping people in a crowd, not one body: its history starts again.
SWAP_HEIGHTS = 1.0
EDGE = 0.02  # a box this close to the picture's bottom may be cut off there
KEYPOINT_SEEN = 0.2  # a keypoint at or above this score counts as found
_NAN = float("nan")

FEATURES: tuple[str, ...] = (
    "down_now",
    "upright_now",
    "torso_deg",
    "log_aspect",
    "drop_heights",
    "height_ratio",
    "since_upright_s",
    "fall_speed",
    "torso_rate",
    "torso_range",
    "down_fraction",
    "upright_max",
    "keypoint_score",
    "body_height",
    "cut",
    "hip_y",
    "coverage",
    "seen_upright",
    "age_s",
    "lost_s",
    "motion_now",
    "motion_peak",
    "people",
    "side_speed",
    "aspect_change",
    "edge_distance",
    # Track quality and what the body did relative to its own feet: a walker seen from above moves down the
    # picture as a whole and keeps moving; a fallen body's hips come down to its feet and it stays there.
    "feet_drop",
    "prior_descent",
    "recent_speed",
    "box_jitter",
    "keypoints_seen",
    "pose_score",
    # Against this camera's usual person at the same place in the picture (scene.py): NaN until known.
    "scene_aspect",
    "scene_height",
    "scene_torso",
)
# The columns that need the camera's own normal; a model may be fitted without them (nested CV decides).
SCENE_FEATURES: tuple[str, ...] = ("scene_aspect", "scene_height", "scene_torso")


@dataclass(frozen=True, slots=True)
class _Sample:
    time_s: float
    mid_y: float
    height: float
    centre_x: float
    upright: float
    down: float
    torso_deg: float
    aspect: float
    cut: bool
    keypoint_score: float
    keypoints_seen: float
    pose_score: float
    edge: float
    box: np.ndarray

    @property
    def foot_y(self) -> float:
        """Bottom of the box: where the person stands, for the scene's reference."""
        return float(self.box[3])


@dataclass(frozen=True, slots=True)
class Row:
    """One track at one moment: its feature vector and what an event would report."""

    track_id: int
    time_s: float
    values: np.ndarray  # float32, in FEATURES order
    onset_s: float  # when the person was last upright (the start of a fall)
    box: np.ndarray
    lost: bool


@dataclass
class _History:
    samples: deque[_Sample] = field(default_factory=lambda: deque(maxlen=256))
    first_s: float = 0.0
    seen_upright: bool = False
    lost_reported: bool = False


def _sample(track: Track, time_s: float, frame_aspect: float) -> _Sample:
    person = track.person
    p = posture(person, frame_aspect)
    box = person.box
    return _Sample(
        time_s=time_s,
        mid_y=p.mid_y,
        height=max(p.height, 1e-3),
        centre_x=float(box[0] + box[2]) / 2,
        upright=p.upright,
        down=p.down,
        torso_deg=_NAN if p.torso_deg is None else p.torso_deg,
        aspect=max(p.aspect, 1e-3),
        cut=p.cut,
        keypoint_score=float(person.keypoints[:, 2].mean()),
        keypoints_seen=float((person.keypoints[:, 2] >= KEYPOINT_SEEN).mean()),
        pose_score=person.score,
        edge=float(min(box[0], box[1], 1.0 - box[2], 1.0 - box[3])),
        box=box,
    )


class FeatureStream:
    """Turns tracked people, frame by frame, into feature rows (one per visible track, one per lost track)."""

    def __init__(self, frame_aspect: float, fps: float) -> None:
        self.frame_aspect = frame_aspect
        self.fps = fps
        self._tracks: dict[int, _History] = {}
        self._motion: deque[tuple[float, float]] = deque(maxlen=256)
        self.scene = SceneNorm()
        self._last: tuple[float, int] | None = None  # the last frame's time and people count

    def update(self, observation: Observation, tracks: list[Track]) -> list[Row]:
        """Rows for this frame: every track seen now, and tracks that just went missing."""
        t = observation.time_s
        self._motion.append((t, observation.motion))
        while self._motion and t - self._motion[0][0] > WINDOW_S:
            self._motion.popleft()
        samples = [_sample(track, t, self.frame_aspect) for track in tracks]
        for sample in samples:
            self.scene.add(sample.foot_y, sample.aspect, sample.height, sample.torso_deg)
        rows: list[Row] = []
        for track, sample in zip(tracks, samples, strict=True):
            history = self._tracks.get(track.track_id)
            if history is None:
                history = self._tracks[track.track_id] = _History(first_s=t)
            if history.samples and self._swapped(history.samples[-1], sample):
                history = self._tracks[track.track_id] = _History(first_s=t)
            history.samples.append(sample)
            history.lost_reported = False
            while t - history.samples[0].time_s > WINDOW_S:
                history.samples.popleft()
            rows.append(self._row(track.track_id, history, t, len(observation.people), lost_s=0.0))
            history.seen_upright |= sample.upright >= UPRIGHT
        seen = {track.track_id for track in tracks}
        for track_id, history in list(self._tracks.items()):
            if track_id in seen or not history.samples:
                continue
            gap = t - history.samples[-1].time_s
            if gap > WINDOW_S:
                del self._tracks[track_id]
            elif gap >= LOST_AFTER_S and not history.lost_reported:
                history.lost_reported = True
                rows.append(self._row(track_id, history, t, len(observation.people), lost_s=gap))
        self._last = (t, len(observation.people))
        return rows

    def finish(self) -> list[Row]:
        """The file ended: one "lost" row for each track that vanished too recently to have had one."""
        if self._last is None:
            return []
        t, people = self._last
        rows = []
        for track_id, history in self._tracks.items():
            gap = t - history.samples[-1].time_s if history.samples else 0.0
            if gap > 0 and not history.lost_reported:
                history.lost_reported = True
                rows.append(self._row(track_id, history, t, people, lost_s=gap))
        return rows

    def _swapped(self, previous: _Sample, sample: _Sample) -> bool:
        dt = sample.time_s - previous.time_s
        sideways = abs(sample.centre_x - previous.centre_x) * self.frame_aspect / max(previous.height, 1e-3)
        return sideways > max(SWAP_HEIGHTS, 3.0 * dt)

    def _row(self, track_id: int, history: _History, t: float, people: int, lost_s: float) -> Row:
        samples = list(history.samples)
        last = samples[-1]
        end = last.time_s
        recent = [s for s in samples if end - s.time_s <= RECENT_S]
        refs = [s for s in samples if s.upright >= UPRIGHT and end - s.time_s > 0.15] or [
            s for s in samples if s.upright >= UPRIGHT
        ]
        heights = np.array([s.height for s in samples])
        if refs:
            # The stance just before the last upright moment: walking toward a high camera lowers the
            # hips slowly over seconds, a fall within one.
            stance = min((s for s in refs if refs[-1].time_s - s.time_s <= STANCE_S), key=lambda s: s.mid_y)
            ref_y, ref_foot = stance.mid_y, stance.foot_y
            before = [s for s in samples if stance.time_s - STANCE_S <= s.time_s < stance.time_s]
            ref_h = float(np.median([s.height for s in refs]))
            onset = refs[-1].time_s
        else:
            ref_y, ref_foot, ref_h, onset = _NAN, _NAN, float(np.median(heights)), samples[0].time_s
            before, stance = [], last
        scale = max(ref_h, float(np.median(heights)), 1e-3)
        fall_speed = torso_rate = side_speed = 0.0
        for a, b in itertools.pairwise(samples):
            dt = max(b.time_s - a.time_s, 1e-3)
            fall_speed = max(fall_speed, (b.mid_y - a.mid_y) / scale / dt)
            if not (math.isnan(a.torso_deg) or math.isnan(b.torso_deg)):
                torso_rate = max(torso_rate, abs(b.torso_deg - a.torso_deg) / dt)
            side_speed = max(side_speed, abs(b.centre_x - a.centre_x) * self.frame_aspect / scale / dt)
        steps = [
            math.hypot((b.centre_x - a.centre_x) * self.frame_aspect, b.foot_y - a.foot_y)
            / scale
            / max(b.time_s - a.time_s, 1e-3)
            for a, b in itertools.pairwise(s for s in samples if end - s.time_s <= STILL_S)
        ]
        resize = [abs(math.log(b.height / a.height)) for a, b in itertools.pairwise(samples)]
        torsos = [s.torso_deg for s in samples if not math.isnan(s.torso_deg)]
        feet_cut = max(last.foot_y, stance.foot_y) >= 1.0 - EDGE
        motion = [m for tm, m in self._motion if t - tm <= 1.0]
        aspects = np.array([s.aspect for s in samples])
        usual = self.scene.usual(last.foot_y)
        values = (
            float(np.mean([s.down for s in recent])),
            float(np.mean([s.upright for s in recent])),
            last.torso_deg,
            math.log(last.aspect),
            (last.mid_y - ref_y) / ref_h if refs else _NAN,
            last.height / ref_h if refs else _NAN,
            end - refs[-1].time_s if refs else WINDOW_S,
            fall_speed,
            torso_rate,
            max(torsos) - min(torsos) if torsos else _NAN,
            float(np.mean([s.down >= DOWN for s in samples])),
            max(s.upright for s in samples),
            last.keypoint_score,
            scale,
            float(last.cut),
            last.mid_y,
            min(1.0, len(samples) / (WINDOW_S * self.fps)),
            float(history.seen_upright),
            # Capped at the window: how long past that a track has been followed says when the video or the
            # watch started, not what the body did (a camera joined a second later missed dev01's fall).
            min(end - history.first_s, WINDOW_S),
            lost_s,
            float(np.mean(motion)) if motion else 0.0,
            max((m for _, m in self._motion), default=0.0),
            float(people),
            side_speed,
            last.aspect / float(np.median(aspects)),
            last.edge,
            # Feet cut off by the picture's edge are not where the box ends: unknown then.
            ((last.mid_y - ref_y) - (last.foot_y - ref_foot)) / ref_h if refs and not feet_cut else _NAN,
            (stance.mid_y - before[0].mid_y) / ref_h / (stance.time_s - before[0].time_s) if before else _NAN,
            float(np.median(steps)) if steps else _NAN,
            float(np.median(resize)) if resize else 0.0,
            float(np.mean([s.keypoints_seen for s in recent])),
            float(np.mean([s.pose_score for s in recent])),
            math.log(last.aspect) - usual.log_aspect,
            math.log(last.height) - usual.log_height,
            last.torso_deg - usual.torso_deg,
        )
        return Row(
            track_id=track_id,
            time_s=t,
            values=np.array(values, np.float32),
            onset_s=onset,
            box=last.box,
            lost=lost_s > 0,
        )
