"""A second pose pass on an enlarged crop around a person the whole-frame pass just lost.

MoveNet at 320 pixels drops people who are lying, small or seen from above: exactly a person who has just
fallen. Someone seen a moment ago and missing now gets one more look, at several times the resolution, on
a crop around where they were (reaching further down: a falling body ends up lower). Only the missing are
looked at again, so a frame in which everyone is found costs nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.detect.pose import MoveNet, Person
from sitewatch.detect.track import iou

RECENT_S = 2.0  # a person seen by the whole-frame pass this recently, and missing now, gets a second look
# ... from the second frame in a row they are missing: a person missing from one frame is mostly the pose
# model flickering, back in the next.
MISSED_FRAMES = 2
GROW = 2.5  # the crop's side, in the missing person's larger box side
MIN_SIDE_PX = 96  # never a crop smaller than this: MoveNet needs some context around a body
# The crop's own input (a square, so about 0.6 of a 16:9 whole-frame pass at 320). A crop seen less than
# MIN_ZOOM times finer than in the whole-frame pass is not worth its cost: a large person is seen well enough.
CROP_INPUT = 192
MIN_ZOOM = 1.5
MIN_SCORE = 0.2  # a person found in a crop must be a little surer than one found in the whole frame
NEAR = 0.75  # a found person's centre must lie within the missing box grown by this much on each side
SAME = 0.3  # a crop's person overlapping a whole-frame person this much (IoU) is that person again


@dataclass
class _Seen:
    box: np.ndarray  # x1, y1, x2, y2, normalised
    seen_s: float  # when the whole-frame pass last found them
    missed: int = 0  # frames in a row the whole-frame pass has not found them


def _grown(box: np.ndarray, by: float) -> np.ndarray:
    w, h = box[2] - box[0], box[3] - box[1]
    return np.array([box[0] - by * w, box[1] - by * h, box[2] + by * w, box[3] + by * h])


def _inside(point: np.ndarray, box: np.ndarray) -> bool:
    return bool(box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3])


def _centre(box: np.ndarray) -> np.ndarray:
    return (box[:2] + box[2:]) / 2


class Relook:
    """Remembers who the whole-frame pass found, and looks again where someone went missing."""

    def __init__(self, pose: MoveNet) -> None:
        self._whole = pose
        self._pose: MoveNet | None = None  # made at the first second look: most videos never need one
        self._seen: list[_Seen] = []
        self.looks = 0  # second passes run (the cost)
        self._looked = False  # whether the last frame had one
        self.found = 0  # people they found

    def __call__(self, image: np.ndarray, time_s: float, people: list[Person]) -> list[Person]:
        """This frame's people: the whole-frame pass's `people`, plus anyone a second look found."""
        missing = [
            s for s in self._seen
            if time_s - s.seen_s <= RECENT_S and not any(_inside(_centre(p.box), _grown(s.box, 0.5)) for p in people)
        ]
        self._seen = [*missing, *(_Seen(p.box, time_s) for p in people)]
        for lost in missing:
            lost.missed += 1
        # One look a frame at most, and none on the frame right after one: in a crowd someone is always
        # missing, and looking every frame cost the 720p busy-square benchmark its 5x. A person the look keeps
        # finding every other frame is still tracked across the gap (track.LOST_AFTER_S).
        due = [] if self._looked else [s for s in missing if s.missed >= MISSED_FRAMES]
        if not due:
            self._looked = False
            return people
        # The most recently lost: they are the ones a fall just took out of the pose model's sight.
        lost = max(due, key=lambda s: s.seen_s)
        found = self._look(image, lost.box, people)
        self._looked = found is not None
        if not found:
            return people
        lost.box = found[0].box  # look where they are now next time, still dated by the whole-frame pass
        self.found += len(found)
        return [*people, *found]

    def _look(self, image: np.ndarray, box: np.ndarray, known: list[Person]) -> list[Person] | None:
        """The people a pass on a crop around `box` finds; None where the crop would not be worth a pass."""
        height, width = image.shape[:2]
        side = max(MIN_SIDE_PX, GROW * max((box[2] - box[0]) * width, (box[3] - box[1]) * height))
        zoom = (CROP_INPUT / side) / (self._whole.long_side / max(width, height))
        if side > min(width, height) or zoom < MIN_ZOOM:
            return None
        if self._pose is None:
            self._pose = self._whole.sized(CROP_INPUT)
        centre_x = (box[0] + box[2]) / 2 * width
        centre_y = ((box[1] + box[3]) / 2 + (box[3] - box[1]) / 4) * height
        x0 = int(np.clip(centre_x - side / 2, 0, width - side))
        y0 = int(np.clip(centre_y - side / 2, 0, height - side))
        s = int(side)
        self.looks += 1
        scale = np.array([s / width, s / height], np.float32)
        offset = np.array([x0 / width, y0 / height], np.float32)
        near = _grown(box, NEAR)
        out = []
        for p in self._pose(np.ascontiguousarray(image[y0 : y0 + s, x0 : x0 + s])):
            if p.score < MIN_SCORE:
                continue
            frame_box = np.concatenate([p.box[:2] * scale + offset, p.box[2:] * scale + offset]).astype(np.float32)
            if not _inside(_centre(frame_box), near) or any(iou(frame_box, k.box) >= SAME for k in known):
                continue
            keypoints = p.keypoints.copy()
            keypoints[:, :2] = keypoints[:, :2] * scale + offset
            out.append(Person(box=np.clip(frame_box, 0, 1), keypoints=np.clip(keypoints, 0, 1), score=p.score))
        return out
