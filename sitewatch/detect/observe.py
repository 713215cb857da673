"""What the detector sees in each frame (people and motion energy), kept in a compact form for training."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sitewatch.detect.motion import MotionMeter
from sitewatch.detect.pose import MoveNet, Person
from sitewatch.detect.relook import Relook


@dataclass(frozen=True, slots=True)
class Observation:
    """One sampled frame: when, who the pose model found, and how much the picture changed."""

    time_s: float
    people: list[Person]
    motion: float


@dataclass
class Recording:
    """All observations of one clip and the frame size they were made at."""

    width: int
    height: int
    observations: list[Observation] = field(default_factory=list)

    @property
    def aspect(self) -> float:
        """Frame width / height in pixels."""
        return self.width / max(self.height, 1)

    def save(self, path: Path) -> None:
        """Write the recording as one small .npz file."""
        people = [p for o in self.observations for p in o.people]
        np.savez_compressed(
            path,
            size=np.array([self.width, self.height]),
            times=np.array([o.time_s for o in self.observations], np.float64),
            motion=np.array([o.motion for o in self.observations], np.float32),
            counts=np.array([len(o.people) for o in self.observations], np.int32),
            boxes=np.array([p.box for p in people], np.float32).reshape(-1, 4),
            keypoints=np.array([p.keypoints for p in people], np.float32).reshape(-1, 17, 3),
            scores=np.array([p.score for p in people], np.float32),
        )

    @classmethod
    def load(cls, path: Path) -> Recording:
        """Read a recording written by `save`."""
        data = np.load(path)
        width, height = (int(v) for v in data["size"])
        offsets = np.concatenate([[0], np.cumsum(data["counts"])])
        observations = [
            Observation(
                float(t),
                [
                    Person(box=data["boxes"][k], keypoints=data["keypoints"][k], score=float(data["scores"][k]))
                    for k in range(offsets[i], offsets[i + 1])
                ],
                float(m),
            )
            for i, (t, m) in enumerate(zip(data["times"], data["motion"], strict=True))
        ]
        return cls(width, height, observations)


# Motion gating, as NVRs do before running a detector: a picture in which no cell changed by this many grey
# levels (0..255) since the last frame, with nobody being followed, gets no pose pass. Compression noise on
# still CCTV stays under 1-2; a walker, even a far one, moves a cell by 5 or more.
STILL_PEAK = 2.0
# A still, empty-looking picture still gets a pose pass this often: someone lying still from the start has no
# motion to be found by.
LOOK_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class Glance:
    """A frame's motion, and the whole-frame pose pass's people where the picture moved (None: a still picture,
    which gets its pass only if the tracker needs one)."""

    motion: float
    people: list[Person] | None


class Observer:
    """Pose and motion for one frame at a time; one per video (the motion meter keeps the previous frame)."""

    def __init__(self, pose: MoveNet, second_look: bool = True) -> None:
        self._pose = pose
        self._relook = Relook(pose) if second_look else None
        self._motion = MotionMeter()
        self._looked_s: float | None = None
        self.skipped = 0  # pose passes saved by motion gating

    def glance(self, image: np.ndarray) -> Glance:
        """Motion, and the whole-frame pass where the picture moved: all that needs no tracker, so it may run
        ahead of the frames being judged. Every frame is glanced at once, in time order (the motion meter)."""
        motion = self._motion(image)
        return Glance(motion, None if self._motion.peak < STILL_PEAK else self._pose(image))

    def __call__(
        self, image: np.ndarray, time_s: float, may_skip: bool = False, glance: Glance | None = None
    ) -> Observation:
        """Observe one RGB frame, from its `glance` where one was taken; with `may_skip` (nobody is being
        followed) a still picture gets no pose pass."""
        seen = glance or self.glance(image)
        people = seen.people
        if people is None:
            if may_skip and self._looked_s is not None and time_s - self._looked_s < LOOK_EVERY_S:
                self.skipped += 1
                return Observation(time_s, [], seen.motion)
            people = self._pose(image)
        self._looked_s = time_s
        return Observation(time_s, self._relook(image, time_s, people) if self._relook else people, seen.motion)

    @property
    def second_looks(self) -> tuple[int, int]:
        """Second pose passes run around people the whole-frame pass lost, and the people they found."""
        return (self._relook.looks, self._relook.found) if self._relook else (0, 0)
