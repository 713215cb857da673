"""The default detector: MoveNet poses and tracks, per-track feature windows, and a learned fall decision.

The decision (boosted trees + calibration, `fall_model.json`) was fitted by `scripts/train_detector.py`
on the training corpus; here it runs with numpy only. Falling objects and struck-by come from
`objects.py` as in the rule detector.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from sitewatch.detect.alarms import AlarmBook
from sitewatch.detect.base import Detection, NewEvents, Seen, Step, StreamInfo, box_of
from sitewatch.detect.features import FEATURES, FeatureStream, Row
from sitewatch.detect.forest import FallModel
from sitewatch.detect.objects import FallingObjects, struck_by
from sitewatch.detect.observe import Glance, Observation, Observer, Recording
from sitewatch.detect.pose import MoveNet, ahead_threads
from sitewatch.detect.scene import SceneNorm, SceneState
from sitewatch.detect.signals import BinnedSignal
from sitewatch.detect.site_models import ChosenModel, ModelSource, shipped
from sitewatch.detect.track import Tracker
from sitewatch.schema import Event, EventKind, ModelVersion, VideoInfo

if TYPE_CHECKING:
    from sitewatch.video.decode import Frame

log = logging.getLogger(__name__)

_DOWN = FEATURES.index("down_now")
# Frames whose whole-frame pose pass may run ahead of the frame being judged. The pass (outside Python's lock)
# then overlaps the tracker, features, trees and second looks of the frames before it: on two cores a file
# is no longer pose, then judgement, then pose. Two smooth out frames that take longer; each held frame is
# one decoded picture (under a megabyte at 640 pixels).
LOOK_AHEAD = 2


def feature_rows(observations: Iterable[Observation], frame_aspect: float, fps: float) -> Iterator[list[Row]]:
    """Track people through the observations and yield each frame's feature rows."""
    tracker = Tracker()
    stream = FeatureStream(frame_aspect, fps)
    for observation in observations:
        yield stream.update(observation, tracker.update(observation.people, observation.time_s))
    yield stream.finish()


def recording_rows(recording: Recording, fps: float) -> list[Row]:
    """All feature rows of a recorded clip (what training and cross-validation score)."""
    return [row for rows in feature_rows(recording.observations, recording.aspect, fps) for row in rows]


class LearnedDetector:
    """Falls, and people lost from view right after moving down fast, from a model fitted on real clips."""

    name = "pose"

    def __init__(
        self,
        fps: float = 6.0,
        input_size: int = 320,
        max_side: int | None = 640,
        threads: int | None = None,
        min_pose_score: float = 0.15,
        motion_gate: bool = True,
        second_look: bool = True,
        model: FallModel | None = None,
        models: ModelSource | None = None,
    ) -> None:
        self.fps = fps
        self.max_side = max_side
        # A fixed `model` (one being evaluated), else what `models` says when a stream starts (a site's own).
        self.models: ModelSource = models or shipped
        if model is not None:
            fixed = ChosenModel(model, ModelVersion(name=str(model.meta.get("name", "given"))))
            self.models = lambda: fixed
        self.pose = MoveNet(long_side=input_size, threads=threads or ahead_threads(), min_score=min_pose_score)
        self.motion_gate = motion_gate  # skip pose on still pictures while nobody is followed (observe.py)
        # A finer pose pass around someone just lost (relook.py). The shipped model was fitted on observations
        # made with it: turning it off saves time on a busy camera, but shows the model fewer people than it learned on.
        self.second_look = second_look

    def start(self, info: StreamInfo) -> LearnedStream:
        """A fresh stream for one video or camera connection."""
        return LearnedStream(self, info)

    def run(self, frames: Iterable[Frame], info: VideoInfo) -> Detection:
        """Analyse the frames of one video in time order, each frame's whole-frame pose pass a little ahead, in a
        helper thread: what it finds is the same as frame by frame."""
        stream = self.start(StreamInfo.of(info))
        waiting: deque[tuple[Frame, Future[Glance]]] = deque()

        def judge_oldest() -> None:
            judged, glance = waiting.popleft()
            stream.feed(judged, glance.result())

        # One worker: glances are taken in time order, as the motion meter needs.
        with ThreadPoolExecutor(1, thread_name_prefix="pose-ahead") as ahead:
            try:
                for frame in frames:
                    waiting.append((frame, ahead.submit(stream.observer.glance, frame.image)))
                    if len(waiting) > LOOK_AHEAD:
                        judge_oldest()
                while waiting:  # the video ended: judge the frames still held
                    judge_oldest()
            except BaseException:
                ahead.shutdown(cancel_futures=True)  # a failed video stops at once, not after its queued passes
                raise
        return stream.finish()


class LearnedStream:
    """The learned decision over one video or camera, a frame at a time.

    Pose + motion observer, tracker, feature windows, the fitted model, the alarm book and falling objects
    are stepped together. A file keeps its events and signals for `finish`; a live stream hands each event
    out once, when it opens, and keeps nothing that grows with time.
    """

    def __init__(self, detector: LearnedDetector, info: StreamInfo) -> None:
        self.models = detector.models
        chosen = self.models()
        self.model, self.version = chosen.model, chosen.version
        self.live = info.live
        self.observer = Observer(detector.pose, detector.second_look)
        self.gated = detector.motion_gate
        self.tracker = Tracker()
        self.features = FeatureStream(info.aspect, detector.fps)
        if info.scene is not None:
            self.features.scene = SceneNorm(info.scene)
        self.alarms = AlarmBook(
            possible=self.model.possible,
            confirm_fast_s=self.model.confirm_fast_s,
            lost_look=self.model.lost_look,
            confirm_partial_s=self.model.confirm_partial_s,
        )
        self.objects = FallingObjects()
        self._new = NewEvents(info.live)
        self._last_s: float | None = None
        self._signals = {
            "fallness": BinnedSignal("fallness"),
            "people": BinnedSignal("people"),
            "motion_energy": BinnedSignal("motion_energy", how="mean"),
            "falling_object": BinnedSignal("falling_object"),
        }
        self._people_max = self._frames = 0
        self._peak = float(self.model.calibration(-np.inf))

    def feed(self, frame: Frame, glance: Glance | None = None) -> Step:
        """Observe one frame (in time order; from its `glance` where one ran ahead), score every track's window,
        and feed the alarms."""
        if self.live:
            self._follow(self.models())
        may_skip = self.gated and not self.tracker.tracks
        observation = self.observer(frame.image, frame.time_s, may_skip=may_skip, glance=glance)
        falling = self.objects.update(frame.time_s, frame.image, [p.box for p in observation.people])
        rows = self.features.update(observation, self.tracker.update(observation.people, observation.time_s))
        probabilities = self._score(rows)
        self._last_s = frame.time_s
        people = len(observation.people)
        self._people_max, self._frames = max(self._people_max, people), self._frames + 1
        if not self.live:
            self._signals["falling_object"].add(frame.time_s, falling)
            self._signals["people"].add(frame.time_s, float(people))
            self._signals["motion_energy"].add(frame.time_s, observation.motion)
            if rows:
                self._signals["fallness"].add(rows[0].time_s, float(probabilities.max()))
        if rows:
            self._peak = max(self._peak, float(probabilities.max()))
        seen = [Seen(r.track_id, box_of(r.box), bool(r.values[_DOWN] >= 0.5)) for r in rows if not r.lost]
        return Step(frame.time_s, self._opened(), seen)

    def finish(self) -> Detection:
        """The file ended: tracks that just vanished and descents not yet confirmed become possible accidents
        with a reason; falling objects are closed and matched to falls."""
        if self._last_s is not None:
            self._score(self.features.finish())
            self.alarms.finish(self._last_s)
        drops = self.objects.finish()
        falls = [e for e in self.alarms.events if e.kind is EventKind.fall]
        events = sorted([*self.alarms.events, *drops, *struck_by(drops, falls)], key=lambda e: e.start_s)
        looks, found = self.observer.second_looks
        log.info("learned detector: %d frames (%d without a pose pass: still and empty; %d second looks around people "
                 "just lost found %d), %d events, up to %d people",
                 self._frames, self.observer.skipped, looks, found, len(events), self._people_max)
        return Detection(
            events=events,
            signals=[s.series() for s in self._signals.values()],
            people_max=self._people_max,
            frames_seen=self._frames,
            accident_probability=round(self._peak, 3),
            model=self.version,
        )

    def _follow(self, chosen: ChosenModel) -> None:
        """A camera runs for days: it moves to a newly trained model at once, without reconnecting."""
        if chosen.version == self.version and chosen.model is self.model:
            return
        log.warning("fall model now %s (was %s)", chosen.version.name, self.version.name)
        self.model, self.version = chosen.model, chosen.version
        self.alarms.possible = min(chosen.model.possible, self.alarms.threshold)
        self.alarms.confirm_fast_s = chosen.model.confirm_fast_s
        self.alarms.lost_look = chosen.model.lost_look
        self.alarms.confirm_partial_s = chosen.model.confirm_partial_s

    def scene(self) -> SceneState:
        """This camera's normal so far (box shape, size and torso angle of its usual person by place)."""
        return self.features.scene.state()

    def _opened(self) -> list[Event]:
        return self._new.take(self.alarms.events, self.objects.events)

    def _score(self, rows: list[Row]) -> np.ndarray:
        probabilities = self.model.probability(np.stack([r.values for r in rows])) if rows else np.zeros(0)
        for row, probability in zip(rows, probabilities, strict=True):
            self.alarms.add(row, float(probability))
        return probabilities
