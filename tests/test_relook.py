"""The second pose pass around a person the whole-frame pass just lost, on real frames with the real model."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="the detector needs the detect extra")

from media import SHARED_VIDEOS

from sitewatch.detect.observe import Observer
from sitewatch.detect.pose import MoveNet, Person
from sitewatch.detect.relook import MISSED_FRAMES, RECENT_S, Relook
from sitewatch.detect.track import iou
from sitewatch.video.decode import FrameReader, Size
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan

CLIP = SHARED_VIDEOS / "dev01_sriram2226.mp4"  # one worker, large and in plain view
pytestmark = pytest.mark.skipif(not CLIP.is_file(), reason=f"{CLIP} is not here")
SHRINK = 5


@pytest.fixture(scope="module")
def pose() -> MoveNet:
    return MoveNet(long_side=320)


def _frames(fps: float) -> list[np.ndarray]:
    info = probe(CLIP)
    return [f.image for f in FrameReader(CLIP, fps_plan(info, fps), size=Size(max_side=640))]


def _far_away(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame shrunk SHRINK times and set into a grey picture: the worker as a far camera sees them."""
    import cv2

    h, w = image.shape[:2]
    canvas = np.full_like(image, 120)
    y0, x0 = h // 2, w // 3
    canvas[y0 : y0 + h // SHRINK, x0 : x0 + w // SHRINK] = cv2.resize(
        image, (w // SHRINK, h // SHRINK), interpolation=cv2.INTER_AREA
    )
    return canvas, np.array([x0 / w, y0 / h, x0 / w, y0 / h], np.float32)


def _person(box: np.ndarray) -> Person:
    return Person(box=box.astype(np.float32), keypoints=np.zeros((17, 3), np.float32), score=0.5)


def test_a_far_person_is_found_where_they_are_and_better_than_by_the_whole_frame_pass(pose: MoveNet) -> None:
    whole_fit, second_fit = [], []
    for image in _frames(1.0)[1:10]:
        near = max(pose(image), key=lambda p: p.score)
        canvas, offset = _far_away(image)
        where = offset + near.box / SHRINK  # where the worker is in the far picture
        whole_fit.append(max([iou(p.box, where) for p in pose(canvas)], default=0.0))
        relook = Relook(pose)
        relook(canvas, 0.0, [_person(where)])  # seen a moment ago...
        for step in range(1, MISSED_FRAMES + 1):  # ...and missing from the whole-frame pass since
            again = relook(canvas, step / 6, [])
            assert relook.looks == (step == MISSED_FRAMES), "no look before MISSED_FRAMES frames missing"
        assert len(again) == 1 and iou(again[0].box, where) > 0.8, (again, where)
        inside = again[0].keypoints[:, :2]
        assert ((inside >= where[:2] - 0.02) & (inside <= where[2:] + 0.02)).mean() > 0.8, "keypoints mapped back"
        second_fit.append(iou(again[0].box, where))
    assert min(whole_fit) < 0.3, "the whole-frame pass was meant to lose this far worker at least once"
    assert np.mean(second_fit) > np.mean(whole_fit) + 0.1


def test_second_looks_are_bounded_and_stop_when_nobody_was_seen_lately(pose: MoveNet) -> None:
    empty = np.full((360, 640, 3), 120, np.uint8)
    relook = Relook(pose)
    people = [_person(np.array([0.1 + 0.2 * i, 0.4, 0.14 + 0.2 * i, 0.55])) for i in range(3)]
    relook(empty, 0.0, people)
    times = [i / 6 for i in range(1, 25)]  # 4 s of an empty picture after three people were seen
    for t in times:
        assert relook(empty, t, []) == [], "nobody is made up in an empty picture"
    due = [i for i, t in enumerate(times) if t <= RECENT_S and i + 1 >= MISSED_FRAMES]
    # From the MISSED_FRAMES-th missing frame: a look on every other frame, never on the frame after one.
    assert relook.looks == len(due[::2]), "at most one look every other frame, none after RECENT_S"


def test_a_frame_in_which_everyone_is_found_costs_no_second_look(pose: MoveNet) -> None:
    observer = Observer(pose)
    for i, image in enumerate(_frames(6.0)[:30]):
        observer(image, i / 6)
    assert observer.second_looks == (0, 0)
