"""Synthetic people for training: bodies that stand and fall as bodies do, cameras that see them, and
scenes that are fitted on in every fold and never scored."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sitewatch.detect.features import FEATURES
from sitewatch.detect.learned import recording_rows
from sitewatch.training.synth import GROUP, Pose3, body_points, random_camera, synthetic_clip, synthetic_set

NOSE, LEFT_HIP, LEFT_ANKLE = 0, 11, 15


def test_a_standing_body_has_its_head_over_its_hips_over_its_feet() -> None:
    points = body_points(Pose3(0.0, 0.0, 0.3), 1.75)
    assert points[NOSE, 2] > points[LEFT_HIP, 2] > points[LEFT_ANKLE, 2] >= 0.0
    assert 1.4 < points[NOSE, 2] - points[LEFT_ANKLE, 2] < 1.75
    assert np.ptp(points[:, 0]) < 0.6 and np.ptp(points[:, 1]) < 0.6  # upright: narrow from above


def test_a_body_toppled_to_the_ground_lies_on_it_never_under_it() -> None:
    fallen = body_points(Pose3(0.0, 0.0, 0.0, topple=math.radians(88), topple_dir=math.pi / 2), 1.75)
    assert fallen[:, 2].min() >= -1e-9 and fallen[:, 2].max() < 0.5
    assert np.hypot(*(fallen[NOSE, :2] - fallen[LEFT_ANKLE, :2])) > 1.2  # stretched out along the floor


def test_a_camera_sees_a_person_standing_in_front_of_it_upright() -> None:
    rng = np.random.default_rng(0)
    camera = random_camera(rng, (2.5, 2.5), (8.0, 8.0), fisheye=False)
    pixels, front = camera.project(body_points(Pose3(0.0, 0.0, 0.0), 1.75))
    assert front.all()
    assert pixels[NOSE, 1] < pixels[LEFT_HIP, 1] < pixels[LEFT_ANKLE, 1]  # image y grows downward


def test_a_synthetic_fall_teaches_fallen_rows_and_a_scene_is_the_same_for_the_same_seed() -> None:
    pytest.importorskip("sklearn")
    from sitewatch.training.fit import label_rows

    scenes = synthetic_set(4)
    assert {c.group for c, _ in scenes} == {GROUP}  # together they weigh like one real source
    assert {c.name.split("-")[1] for c, _ in scenes} == {"level", "high", "fisheye"}
    falls = [(c, r) for c, r in scenes if c.label == "fall"]
    assert falls and any(c.label == "no_fall" for c, _ in scenes)
    taught = 0
    for clip, recording in falls:
        rows = recording_rows(recording, 6.0)
        y, _ = label_rows(rows, clip)
        down = [r.values[FEATURES.index("down_now")] for r, label in zip(rows, y, strict=True) if label == 1]
        taught += bool(down) and max(down) >= 0.5
    assert taught >= len(falls) // 2
    again = synthetic_clip(0, 0)
    first = synthetic_clip(0, 0)
    assert again is not None and first is not None
    assert [len(o.people) for o in again[1].observations] == [len(o.people) for o in first[1].observations]


def test_synthetic_scenes_are_fitted_in_every_fold_and_never_scored() -> None:
    """`Dataset.extra` joins every fit (its rows change the trees) but no fold holds it out or scores it."""
    pytest.importorskip("sklearn")
    from dataclasses import replace

    from sitewatch.training.fit import Dataset, Member, TreeParams, build_dataset, fit_members
    from sitewatch.training.nested import SETTINGS, held_out

    scenes = synthetic_set(4)
    real = [(replace(c, group="a camera"), r) for c, r in scenes if "-level-" in c.name]
    extra = [(c, r) for c, r in scenes if "-level-" not in c.name]
    data = build_dataset([c for c, _ in real], {c.name: {"orig": r} for c, r in real}, 6.0)
    plain = fit_members(data, None, (Member(TreeParams(max_iter=10, min_samples_leaf=5)),), 0)
    data.extra = build_dataset([c for c, _ in extra], {c.name: {"orig": r} for c, r in extra}, 6.0).samples
    mixed = fit_members(data, None, (Member(TreeParams(max_iter=10, min_samples_leaf=5)),), 0)
    x, _, _ = Dataset(data.samples).arrays()
    assert not np.allclose(plain.decision_function(x), mixed.decision_function(x))
    scored = held_out(data, {"a camera"}, {"a camera", GROUP}, SETTINGS[0], 0)
    assert {s.clip.group for s in scored} == {"a camera"}
