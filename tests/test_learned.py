"""The learned detector's parts: features, numpy trees against scikit-learn, alarms, augmentation, and LOGO CV."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from sitewatch.detect.alarms import LOST_LOOK_CONFIDENCE, SLOW_DESCENT, AlarmBook
from sitewatch.detect.features import FEATURES, LOST_AFTER_S, Row
from sitewatch.detect.forest import MODEL_FILE, load_model
from sitewatch.detect.learned import recording_rows
from sitewatch.detect.observe import Observation, Recording
from sitewatch.detect.pose import Person
from sitewatch.schema import EventKind

FPS = 6.0


def standing(x: float, top: float, height: float = 0.45) -> Person:
    """A synthetic upright person whose box starts at `top`."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    kp[:, 0] = x
    kp[:, 1] = np.linspace(top + 0.02, top + height - 0.02, 17)
    kp[[5, 6], 1], kp[[11, 12], 1] = top + 0.1 * height / 0.45, top + 0.22 * height / 0.45
    kp[[5, 11], 0], kp[[6, 12], 0] = x - 0.02, x + 0.02
    return Person(box=np.array([x - 0.05, top, x + 0.05, top + height], np.float32), keypoints=kp, score=0.6)


def lying(x: float, y: float) -> Person:
    """A synthetic person lying horizontally around height `y`."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    kp[:, 0] = np.linspace(x - 0.18, x + 0.18, 17)
    kp[:, 1] = y
    kp[[5, 6], 0], kp[[11, 12], 0] = x - 0.1, x + 0.02
    return Person(box=np.array([x - 0.2, y - 0.05, x + 0.2, y + 0.05], np.float32), keypoints=kp, score=0.5)


def times(start: float, end: float) -> list[float]:
    return [round(start + k / FPS, 3) for k in range(int((end - start) * FPS))]


def fall_recording(fall_s: float = 3.0, end_s: float = 8.0, x: float = 0.5) -> Recording:
    """Standing, then lying on the floor from `fall_s` + 0.3 s on."""
    obs = [Observation(t, [standing(x, 0.2)], 2.0) for t in times(0, fall_s)]
    obs += [Observation(t, [lying(x, 0.62)], 6.0) for t in times(fall_s + 0.3, end_s)]
    return Recording(640, 360, obs)


def walk_recording(end_s: float = 8.0, x0: float = 0.2) -> Recording:
    """Someone walking slowly across the frame, upright throughout."""
    return Recording(640, 360, [Observation(t, [standing(x0 + 0.05 * t, 0.2)], 2.0) for t in times(0, end_s)])


def test_rows_describe_a_fall() -> None:
    rows = recording_rows(fall_recording(), FPS)
    assert all(r.values.shape == (len(FEATURES),) for r in rows)
    after = [r for r in rows if 3.5 <= r.time_s <= 4.5]
    before = [r for r in rows if r.time_s < 2.5]
    f = {k: FEATURES.index(k) for k in ("down_now", "drop_heights", "upright_now", "since_upright_s")}
    assert min(r.values[f["down_now"]] for r in after) > 0.5
    assert max(r.values[f["drop_heights"]] for r in after) > 0.3
    assert all(r.values[f["upright_now"]] == 1.0 and r.values[f["down_now"]] == 0.0 for r in before)
    assert all(2.5 <= r.onset_s <= 3.0 for r in after)


def test_a_vanished_track_gets_one_lost_row() -> None:
    obs = [Observation(t, [standing(0.5, 0.2)], 2.0) for t in times(0, 3)]
    obs += [Observation(t, [], 2.0) for t in times(3, 5)]
    lost = [r for r in recording_rows(Recording(640, 360, obs), FPS) if r.lost]
    assert len(lost) == 1
    assert lost[0].values[FEATURES.index("lost_s")] >= LOST_AFTER_S


def test_the_shipped_model_loads_and_separates_a_fall_from_walking() -> None:
    text = (resources.files("sitewatch.detect") / MODEL_FILE).read_text("utf-8")
    assert len(text) < 3_000_000  # a few MB at most, shipped inside the package
    model = load_model()
    assert model.forest.features == FEATURES
    assert np.all(np.diff(model.calibration.probabilities) >= 0)
    assert 0.0 < model.calibration.probabilities[0] < model.calibration.probabilities[-1] < 1.0
    assert json.loads(text)["meta"]["seed"] == 0
    fall = max(model.probability(np.stack([r.values for r in recording_rows(fall_recording(), FPS)])))
    walk = max(model.probability(np.stack([r.values for r in recording_rows(walk_recording(), FPS)])))
    assert fall >= 0.5 > walk


def test_numpy_trees_match_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    from sitewatch.detect.forest import forest_from_dict
    from sitewatch.detect.train.fit import TreeParams, export_trees, fit_trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, len(FEATURES))).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values take their learned side
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 4]) * x[:, 7] ** 2) > 0.5).astype(int)
    model = fit_trees(x, y, np.ones(len(y)), TreeParams(max_iter=40, min_samples_leaf=20), seed=0)
    forest = forest_from_dict(json.loads(json.dumps(export_trees(model))))
    assert np.allclose(forest.margin(x), model.decision_function(x), atol=1e-4)


def _row(**values: float) -> Row:
    v = np.zeros(len(FEATURES), np.float32)
    v[FEATURES.index("age_s")] = 5.0
    v[FEATURES.index("aspect_change")] = 1.0
    for key, value in values.items():
        v[FEATURES.index(key)] = value
    return Row(1, 5.0, v, onset_s=4.5, box=np.array([0.4, 0.4, 0.6, 0.9]), lost=values.get("lost_s", 0.0) > 0)


def test_a_person_lost_while_tilting_down_is_worth_a_look() -> None:
    book = AlarmBook()
    book.add(_row(lost_s=0.8, upright_now=0.6, aspect_change=3.0, fall_speed=0.9, drop_heights=0.25), 0.2)
    (event,) = book.events
    assert event.kind is EventKind.person_lost_after_fall and event.confidence == LOST_LOOK_CONFIDENCE
    assert event.start_s == 4.5


def test_a_person_walking_out_of_view_is_not() -> None:
    book = AlarmBook()
    book.add(_row(lost_s=0.8, upright_now=1.0, fall_speed=0.3), 0.1)
    book.add(_row(lost_s=0.8, upright_now=0.6, aspect_change=3.0, fall_speed=0.1, drop_heights=float("nan")), 0.1)
    assert book.events == []


def test_one_event_per_episode_until_upright_again() -> None:
    book = AlarmBook()
    for t, p, up in [(4.0, 0.9, 0.0), (4.2, 0.95, 0.0), (4.4, 0.3, 0.1), (6.0, 0.1, 1.0), (8.0, 0.8, 0.0)]:
        row = _row(upright_now=up, fall_speed=1.0)
        book.add(Row(1, t, row.values, 3.8, row.box, False), p)
    assert [(e.kind, e.start_s, e.end_s, e.confidence) for e in book.events] == [
        (EventKind.fall, 3.8, 4.4, 0.95),
        (EventKind.fall, 3.8, 8.0, 0.8),
    ]


def test_a_slow_descent_alarms_only_once_it_stays_fallen() -> None:
    def feed(times: list[float], probabilities: list[float]) -> list[float]:
        book = AlarmBook()
        for t, p in zip(times, probabilities, strict=True):
            row = _row(fall_speed=SLOW_DESCENT / 2)
            book.add(Row(1, t, row.values, 3.8, row.box, False), p)
        return [e.start_s for e in book.events]

    assert feed([4.0, 4.2, 4.4], [0.3, 0.9, 0.3]) == []  # one frame that looks fallen: a sit-down
    assert feed([4.0, 4.2, 4.4, 4.6], [0.9, 0.3, 0.9, 0.3]) == []  # the wait starts again
    assert feed([4.0, 4.2, 4.4], [0.9, 0.9, 0.9]) == [3.8]  # stayed fallen: the event starts at the onset


def test_augmentations_mirror_and_rescale_time() -> None:
    from sitewatch.detect.train.augment import Augmentation, augment

    rec = fall_recording()
    twice = augment(augment(rec, Augmentation("m", mirror=True), 0), Augmentation("m", mirror=True), 0)
    assert np.allclose(twice.observations[0].people[0].keypoints, rec.observations[0].people[0].keypoints, atol=1e-6)
    mirrored = augment(rec, Augmentation("m", mirror=True), 0).observations[0].people[0]
    assert mirrored.keypoints[5, 0] == pytest.approx(1 - rec.observations[0].people[0].keypoints[6, 0])
    fast = augment(rec, Augmentation("f", speed=2.0), 0)
    assert fast.observations[-1].time_s == pytest.approx(rec.observations[-1].time_s / 2)
    dropped = augment(rec, Augmentation("d", drop_frames=0.5), 1)
    assert 0.3 * len(rec.observations) < len(dropped.observations) < 0.7 * len(rec.observations)


def test_recordings_round_trip(tmp_path) -> None:
    rec = fall_recording()
    rec.save(tmp_path / "r.npz")
    again = Recording.load(tmp_path / "r.npz")
    assert (again.width, again.height, len(again.observations)) == (640, 360, len(rec.observations))
    assert np.allclose(again.observations[-1].people[0].box, rec.observations[-1].people[0].box)


def test_leave_one_group_out_on_synthetic_clips() -> None:
    """The CV loop holds a group out, fits on the rest, calibrates, and scores clips it never fitted on."""
    pytest.importorskip("sklearn")
    from pathlib import Path

    from sitewatch.detect.train.augment import AUGMENTATIONS
    from sitewatch.detect.train.corpus import Clip
    from sitewatch.detect.train.cv import cross_validate
    from sitewatch.detect.train.fit import TreeParams, build_dataset

    clips, recordings = [], {}
    for g in range(4):
        for k in range(2):
            fall = Clip(Path(f"f{g}{k}.mp4"), "fall", 2.0 + k, f"g{g}", "person_fall", "home", 8.0)
            walk = Clip(Path(f"w{g}{k}.mp4"), "no_fall", None, f"g{g}", "none", "home", 8.0)
            clips += [fall, walk]
            recordings[fall.name] = {"orig": fall_recording(2.0 + k, x=0.3 + 0.1 * g)}
            recordings[walk.name] = {"orig": walk_recording(x0=0.1 + 0.05 * g)}
    data = build_dataset(clips, recordings, FPS, AUGMENTATIONS[:2])
    cv = cross_validate(data, TreeParams(max_iter=20, min_samples_leaf=5), seed=0, manifest="synthetic")
    s = cv.result.summary
    assert (s.scored, s.f1) == (16, 1.0)
    assert s.on_time_fraction == 1.0
    assert {c.group for c in cv.result.clips} == {"g0", "g1", "g2", "g3"}
    assert 0.0 <= cv.report.brier < 0.1
