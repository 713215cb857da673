"""Honest copies of a recording: mirrored, faster or slower, jittered poses, dropped frames and people.

They act on observations (after the pose model), so a copy costs no pose pass; picture variants that
change what the pose model sees (far, small, portrait) are made in `corpus` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.detect.observe import Observation, Recording
from sitewatch.detect.pose import Person

# COCO keypoints swapped by a mirror: eyes, ears, shoulders, elbows, wrists, hips, knees, ankles.
MIN_VISIBLE = 0.03  # a person with less than this much of the picture's height left in view is gone
_MIRROR = np.array([0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15])


@dataclass(frozen=True)
class Augmentation:
    """One way of copying a recording; `speed` > 1 plays it faster (times shrink)."""

    name: str
    mirror: bool = False
    speed: float = 1.0
    jitter: float = 0.0  # keypoint noise in body heights
    drop_frames: float = 0.0  # fraction of frames lost
    drop_people: float = 0.0  # fraction of detections lost
    # Fraction of the picture cut off at the bottom: a tighter camera, where people walking toward it
    # leave through the bottom edge, their boxes cut short and wide as they go.
    crop_bottom: float = 0.0


AUGMENTATIONS: tuple[Augmentation, ...] = (
    Augmentation("as is"),
    Augmentation("mirror", mirror=True),
    Augmentation("fast, jitter", speed=1.3, jitter=0.03),
    Augmentation("slow, drops", speed=0.75, drop_frames=0.2, drop_people=0.1),
    Augmentation("mirror, jitter, drops", mirror=True, jitter=0.05, drop_frames=0.3, drop_people=0.15),
    Augmentation("bottom cut off", crop_bottom=0.3),
)
# The copies made of the other picture variants (far, small, portrait) and of long normal footage: the
# unaltered one and the most altered one keep the rows, and so every nested fit, affordable on 2 cores.
LIGHT: tuple[Augmentation, ...] = (AUGMENTATIONS[0], AUGMENTATIONS[4])


def _person(p: Person, aug: Augmentation, rng: np.random.Generator) -> Person:
    box, kp = p.box.copy(), p.keypoints.copy()
    if aug.mirror:
        box = np.array([1 - box[2], box[1], 1 - box[0], box[3]], np.float32)
        kp = kp[_MIRROR]
        kp[:, 0] = 1 - kp[:, 0]
    if aug.jitter:
        height = float(box[3] - box[1])
        kp[:, :2] += rng.normal(0.0, aug.jitter * height, (17, 2)).astype(np.float32)
        box = box + rng.normal(0.0, aug.jitter * height / 2, 4).astype(np.float32)
        box = np.array([min(box[0], box[2]), min(box[1], box[3]), max(box[0], box[2]), max(box[1], box[3])])
    return Person(box=np.clip(box, 0, 1).astype(np.float32), keypoints=np.clip(kp, 0, 1), score=p.score)


def _cropped(p: Person, keep: float) -> Person | None:
    """The person as a camera seeing only the top `keep` of the picture would: None when out of it."""
    if p.box[1] >= keep - MIN_VISIBLE:
        return None
    box = p.box / np.array([1, keep, 1, keep], np.float32)
    kp = p.keypoints / np.array([1, keep, 1], np.float32)
    kp[kp[:, 1] > 1.0, 2] = 0.0
    return Person(box=np.clip(box, 0, 1), keypoints=np.clip(kp, 0, 1), score=p.score)


def augment(recording: Recording, aug: Augmentation, seed: int) -> Recording:
    """A copy of `recording` under `aug`; the same seed gives the same copy."""
    rng = np.random.default_rng(seed)
    keep = 1.0 - aug.crop_bottom
    out = Recording(recording.width, max(1, round(recording.height * keep)))
    for obs in recording.observations:
        if aug.drop_frames and rng.random() < aug.drop_frames:
            continue
        people = [_person(p, aug, rng) for p in obs.people if not (aug.drop_people and rng.random() < aug.drop_people)]
        if aug.crop_bottom:
            people = [c for c in (_cropped(p, keep) for p in people) if c is not None]
        out.observations.append(Observation(obs.time_s / aug.speed, people, obs.motion))
    return out
