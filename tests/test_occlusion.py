"""The occluded picture variant: a box painted in front of where a clip's people stand, then pose again."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.detect.observe import Observation, Recording
from sitewatch.detect.pose import Person
from sitewatch.training.corpus import name_seed, occlude, occluder


def _recording(boxes: list[tuple[float, float, float, float]]) -> Recording:
    recording = Recording(640, 360)
    for i, box in enumerate(boxes):
        person = Person(box=np.array(box, np.float32), keypoints=np.zeros((17, 3), np.float32), score=0.5)
        recording.observations.append(Observation(time_s=i / 6, people=[person], motion=0.0))
    return recording


def test_the_box_hides_the_lower_body_where_people_stand_and_is_the_same_for_a_seed() -> None:
    # A person walking from left to right, standing 0.4 to 0.9 of the picture's height.
    recording = _recording([(0.1 + 0.02 * i, 0.4, 0.2 + 0.02 * i, 0.9) for i in range(30)])
    cover = occluder(recording, seed=7)
    assert cover is not None and cover == occluder(recording, seed=7)
    x1, y1, x2, y2 = cover.box
    assert 0.1 <= x1 < x2 <= 0.8  # within where they walked
    assert 0.9 - 0.65 * 0.5 - 1e-6 <= y1 <= 0.9 - 0.35 * 0.5 + 1e-6  # from mid-body down ...
    assert y2 >= 0.9  # ... to below their feet, so a body on the floor there is hidden
    others = {occluder(recording, seed=s).box for s in range(5)}  # type: ignore[union-attr]
    assert len(others) == 5  # each clip gets its own


def test_nobody_seen_means_no_box() -> None:
    assert occluder(Recording(640, 360), seed=1) is None


def test_painting_the_box_leaves_the_rest_of_the_frame_and_the_original_alone() -> None:
    image = np.zeros((360, 640, 3), np.uint8)
    cover = occluder(_recording([(0.4, 0.2, 0.6, 0.8)] * 5), seed=3)
    assert cover is not None
    out = occlude(image, cover)
    assert image.max() == 0  # a copy
    x1, y1, x2, y2 = cover.box
    inside = out[round(y1 * 360) : round(y2 * 360), round(x1 * 640) : round(x2 * 640)]
    assert inside.size and (inside == np.array(cover.colour, np.uint8)).all()
    painted = (out != 0).any(axis=2)
    assert painted.sum() == inside.shape[0] * inside.shape[1]


def test_the_pose_model_sees_less_of_the_worker_behind_the_box(tmp_path, monkeypatch) -> None:
    pytest.importorskip("ai_edge_litert", reason="the detector needs the detect extra")
    from media import SHARED_VIDEOS

    from sitewatch.detect.pose import MoveNet
    from sitewatch.training.corpus import DEFAULT_INPUT, OCCLUDED, Clip, cached_recording

    monkeypatch.setenv("SITEWATCH_FEATURES", str(tmp_path))
    path = SHARED_VIDEOS / "dev10_cwlroda_d.mp4"
    if not path.exists():
        pytest.skip(f"needs the shared dev clips beside the repository ({path})")
    clip = Clip(path, "fall", 2.0, "dev", "person_fall", "other", 5.03)
    pose = MoveNet(long_side=DEFAULT_INPUT)
    orig = cached_recording(clip, "orig", 6.0, pose)
    hidden = cached_recording(clip, OCCLUDED, 6.0, pose)
    assert orig is not None and hidden is not None
    assert len(hidden.observations) == len(orig.observations)  # the same frames, posed again

    def inside(recording: Recording, box: tuple[float, float, float, float]) -> int:
        x1, y1, x2, y2 = box
        return sum(
            int(((k[:, 2] > 0.3) & (k[:, 0] > x1) & (k[:, 0] < x2) & (k[:, 1] > y1) & (k[:, 1] < y2)).sum())
            for o in recording.observations
            for k in (p.keypoints for p in o.people)
        )

    placed = occluder(orig, name_seed(clip.name))
    assert placed is not None
    assert inside(orig, placed.box) > 0  # the box was put where the worker's keypoints were ...
    assert inside(hidden, placed.box) < inside(orig, placed.box)  # ... and the pose model now finds fewer there
