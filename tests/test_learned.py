"""The learned detector's parts: features, numpy trees against scikit-learn, alarms, augmentation, and LOGO CV."""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pytest

from sitewatch.detect.alarms import END_CONFIDENCE, LOST_LOOK_CONFIDENCE, LOST_MAX_DROP, SLOW_DESCENT, AlarmBook
from sitewatch.detect.features import FEATURES, LOST_AFTER_S, Row
from sitewatch.detect.forest import MODEL_FILE, load_model
from sitewatch.detect.learned import recording_rows
from sitewatch.detect.observe import Observation, Recording
from sitewatch.detect.pose import Person
from sitewatch.schema import Event, EventKind
from sitewatch.training.augment import AUGMENTATIONS

if TYPE_CHECKING:
    from sitewatch.training.fit import Dataset
    from sitewatch.training.nested import Setting

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


def test_a_fall_reads_the_same_however_long_the_person_was_followed_before() -> None:
    """A camera watched for minutes and a clip that starts a few seconds before the fall give the same rows:
    the time since a track began says when the watch started, not what the body did."""
    def rows(fall_s: float) -> list[Row]:
        # Eighths of a second: exact in binary, so both windows hold the very same samples.
        ticks = [k / 8 for k in range(int((fall_s + 4.0) * 8))]
        obs = [Observation(t, [standing(0.5, 0.2) if t < fall_s else lying(0.5, 0.62)], 2.0) for t in ticks]
        return recording_rows(Recording(640, 360, obs), 8.0)

    early, late = rows(3.0), rows(9.0)
    after = {r.time_s: r.values for r in early if r.time_s >= 3.0}
    shifted = {r.time_s - 6.0: r.values for r in late if r.time_s >= 9.0}
    assert after.keys() == shifted.keys() and len(after) > 10
    for t, values in after.items():
        np.testing.assert_allclose(values, shifted[t], rtol=1e-5, atol=1e-5, equal_nan=True, err_msg=str(t))


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
    assert set(model.forest.features) <= set(FEATURES)  # read by name: a model may predate newer features
    assert np.all(np.diff(model.calibration.probabilities) >= 0)
    assert 0.0 < model.calibration.probabilities[0] < model.calibration.probabilities[-1] < 1.0
    assert json.loads(text)["meta"]["seed"] == 0
    fall = max(model.probability(np.stack([r.values for r in recording_rows(fall_recording(), FPS)])))
    walk = max(model.probability(np.stack([r.values for r in recording_rows(walk_recording(), FPS)])))
    assert fall >= 0.5 > walk


def test_numpy_trees_match_scikit_learn() -> None:
    pytest.importorskip("sklearn")
    from sitewatch.detect.forest import forest_from_dict
    from sitewatch.training.fit import TreeParams, export_trees, fit_trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(3000, len(FEATURES))).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan  # missing values take their learned side
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 4]) * x[:, 7] ** 2) > 0.5).astype(int)
    model = fit_trees(x, y, np.ones(len(y)), TreeParams(max_iter=40, min_samples_leaf=20), seed=0)
    forest = forest_from_dict(json.loads(json.dumps(export_trees(model))))
    assert np.allclose(forest.margin(x), model.decision_function(x), atol=1e-4)


def test_averaged_trees_export_as_one_forest_with_the_mean_margin() -> None:
    """Members fitted with and without the scene columns, exported as one forest the detector reads unchanged."""
    pytest.importorskip("sklearn")
    from pathlib import Path

    from sitewatch.detect.features import SCENE_FEATURES
    from sitewatch.detect.forest import forest_from_dict
    from sitewatch.training.corpus import Clip
    from sitewatch.training.fit import Dataset, Member, Sample, TreeParams, export_average, fit_members

    rng = np.random.default_rng(2)
    x = rng.normal(size=(3000, len(FEATURES))).astype(np.float32)
    scene = FEATURES.index(SCENE_FEATURES[0])
    y = ((x[:, 0] + x[:, scene]) > 0.3).astype(float)
    clip = Clip(Path("a.mp4"), "fall", 1.0, "g", "person_fall", "home", 8.0)
    data = Dataset([Sample(clip, "orig/as is", [], x, y, np.ones(len(y)))])
    params = TreeParams(max_iter=30, min_samples_leaf=20)
    model = fit_members(data, None, (Member(params, True), Member(params, False)), seed=0)
    with_scene, without = (m.decision_function(x) for m in model.models)
    assert not np.allclose(with_scene, without, atol=0.1)  # the member without the scene cannot split on it
    forest = forest_from_dict(json.loads(json.dumps(export_average(model))))
    assert len(forest.roots) == 60
    assert np.allclose(forest.margin(x), (with_scene + without) / 2, atol=1e-4)
    assert np.allclose(model.decision_function(x), (with_scene + without) / 2)


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


def test_a_person_seen_down_for_a_second_is_worth_a_look_even_when_no_moment_looked_like_a_fall() -> None:
    """The falls missed out of fold are mostly ones the pose pass saw badly while the person fell and well
    once they lay there: a second down, not ruled out by the model, goes to the review list, never a page."""
    from sitewatch.detect.alarms import DOWN_LOOK_LEVEL, DOWN_LOOK_S

    def events(rows: list[tuple[float, float, float]]) -> list[Event]:
        book = AlarmBook(possible=0.45)
        for t, upright, probability in rows:
            row = _row(upright_now=upright)
            book.add(Row(1, t, row.values, t, row.box, False), probability)
        return book.events

    steps = [k / 6 for k in range(int((DOWN_LOOK_S + 0.5) * 6))]
    (event,) = events([(t, 0.2, 0.1) for t in steps])
    assert event.kind is EventKind.person_down and event.confidence == 0.1 < 0.45
    assert event.start_s == 0.0 and event.details["down_s"] >= DOWN_LOOK_S - 1e-6
    assert event.description.endswith("for a second or more")  # no end-of-file advice
    assert events([(t, 0.2, 0.1) for t in steps if t < DOWN_LOOK_S - 0.2]) == []  # down too briefly
    assert events([(t, 0.8, 0.1) for t in steps]) == []  # upright: a walker
    assert events([(t, 0.2, DOWN_LOOK_LEVEL / 2) for t in steps]) == []  # ruled out by the model (lying on purpose)
    stood_up = [(t, 1.0 if abs(t - 0.5) < 0.01 else 0.2, 0.1) for t in steps]
    assert events(stood_up) == []  # got up halfway: the clock starts over
    (paged,) = events([*[(t, 0.2, 0.1) for t in steps], (steps[-1] + 0.2, 0.0, 0.9)])
    assert paged.kind is EventKind.fall and paged.confidence == 0.9 and paged.start_s == 0.0  # promoted


def test_a_lying_person_the_pose_pass_loses_for_a_moment_is_still_seen_down() -> None:
    """A lying body flickers out of the pose pass: a "lost" row between two sightings down, under DOWN_GAP_S
    apart, does not restart the clock (a person seen down for 0.8 s, lost, then down again, gets the look);
    a longer absence does, and so does standing up while out of the clock's sight."""
    from sitewatch.detect.alarms import DOWN_GAP_S, DOWN_LOOK_S

    def events(rows: list[tuple[float, bool, float]]) -> list[Event]:
        book = AlarmBook(possible=0.45)
        for t, lost, upright in rows:
            row = _row(upright_now=upright, lost_s=0.8 if lost else 0.0)
            book.add(Row(1, t, row.values, t, row.box, lost), 0.15)
        return book.events

    flicker = [(0.0, False, 0.0), (0.8, True, 0.0), (0.95, False, 0.0), (1.3, False, 0.2)]
    (event,) = events(flicker)
    assert event.kind is EventKind.person_down and event.start_s == 0.0
    assert event.details["down_s"] == 1.3 >= DOWN_LOOK_S
    away = DOWN_GAP_S + 0.3
    assert events([(0.0, False, 0.0), (0.8, True, 0.0), (away, False, 0.0), (away + 0.5, False, 0.0)]) == []
    stood = [(0.0, False, 0.0), (0.5, False, 1.0), (0.95, False, 0.0), (1.3, False, 0.2)]
    assert events(stood) == []
    book = AlarmBook(possible=0.45)  # a camera watched for long: people seen down, then gone for good
    for person in range(100):
        t = 10.0 * person
        seen, gone = _row(upright_now=0.0), _row(upright_now=0.0, lost_s=0.8)
        book.add(Row(person, t, seen.values, t, seen.box, False), 0.15)
        book.add(Row(person, t + 0.8, gone.values, t, gone.box, True), 0.15)
    assert len(book._down_since) == 1  # only the one whose gap is still open


def test_a_likely_fall_after_which_the_person_stays_down_pages() -> None:
    """A fall the model rates at the review level, followed by STAYED_DOWN_S on the ground, is confirmed: an
    alarm by rule from the same onset, which says how long they stayed down; getting up or staying at the
    look's level (never a likely fall) does not page."""
    from sitewatch.detect.alarms import STAYED_DOWN_S

    def events(rows: list[tuple[float, float, float]]) -> list[Event]:
        book = AlarmBook(possible=0.45)
        for t, upright, probability in rows:
            row = _row(upright_now=upright, fall_speed=1.0)
            book.add(Row(1, t, row.values, 1.0, row.box, False), probability)
        return book.events

    steps = [1.0 + k / 6 for k in range(int((STAYED_DOWN_S + 0.5) * 6))]
    likely = [(t, 0.2, 0.47 if t < 1.4 else 0.2) for t in steps]
    (paged,) = events(likely)
    assert paged.kind is EventKind.fall and paged.confidence == 0.5 and paged.start_s == 1.0
    assert paged.details["stayed_down_s"] >= STAYED_DOWN_S - 1e-6 and paged.description.endswith("not up again")
    (briefly,) = events([r for r in likely if r[0] < 1.0 + STAYED_DOWN_S - 0.3])
    assert briefly.confidence == 0.47  # down, but not yet long enough: still only a possible accident
    got_up = [(t, 1.0 if abs(t - 2.5) < 0.09 else u, p) for t, u, p in likely]
    assert all(e.confidence < 0.5 for e in events(got_up))  # got up in between: not confirmed
    assert all(e.confidence < 0.5 for e in events([(t, 0.2, 0.2) for t in steps]))  # never a likely fall
    from sitewatch.schema import Report, Verdict, VideoInfo
    from sitewatch.text import describe

    info = VideoInfo(path="clip.mp4", size_bytes=1, container="mp4", codec="h264", width=640, height=360,
                     fps=25.0, duration_s=10.0, frame_count=250, frame_count_exact=True)
    report = Report(video=info, verdict=Verdict.accident, confidence=0.5, events=[paged], detector="pose",
                    people_max=1)
    said = {lang: describe(report, lang).summary for lang in ("en", "ko")}
    assert "stayed down for at least 3.0 s" in said["en"] and "3.0초 넘게 일어나지 않았습니다" in said["ko"]


def test_a_person_walking_out_of_view_is_not() -> None:
    book = AlarmBook()
    book.add(_row(lost_s=0.8, upright_now=1.0, fall_speed=0.3), 0.1)
    book.add(_row(lost_s=0.8, upright_now=0.6, aspect_change=3.0, fall_speed=0.1, drop_heights=float("nan")), 0.1)
    assert book.events == []


def test_a_walker_going_down_a_high_cameras_picture_gets_no_look() -> None:
    """Hips more than a body height below the stance: the person walked down the picture, no body falls so far."""
    walker = _row(lost_s=0.8, upright_now=0.5, aspect_change=3.0, fall_speed=1.5, drop_heights=LOST_MAX_DROP + 0.3)
    faller = _row(lost_s=0.8, upright_now=0.5, aspect_change=3.0, fall_speed=1.5, drop_heights=LOST_MAX_DROP - 0.3)
    for row, kinds in ((walker, []), (faller, [EventKind.person_lost_after_fall])):
        book = AlarmBook()
        book.add(row, 0.2)
        assert [e.kind for e in book.events] == kinds


def test_a_slow_descent_that_goes_out_of_view_before_it_is_confirmed_is_a_possible_accident() -> None:
    """Out of sight before the wait for a slow descent ends: evidence cut off, like a file that ends first."""

    def feed(fall_speed: float) -> list[tuple[EventKind, float]]:
        book = AlarmBook(possible=0.3)
        fallen = _row(fall_speed=fall_speed, upright_now=0.0, down_now=1.0)
        book.add(Row(1, 4.0, fallen.values, 3.8, fallen.box, False), 0.9)
        lost = _row(fall_speed=fall_speed, upright_now=0.0, down_now=1.0, lost_s=0.8)
        book.add(Row(1, 4.8, lost.values, 3.8, lost.box, True), 0.9)
        return [(e.kind, e.confidence) for e in book.events]

    assert feed(SLOW_DESCENT / 2) == [(EventKind.person_lost_after_fall, END_CONFIDENCE)]
    assert feed(SLOW_DESCENT * 2) == [(EventKind.fall, 0.9)]  # a fast drop alarms at once, lost or not


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
    def feed(times: list[float], probabilities: list[float], upright: float = 1.0) -> list[float]:
        book = AlarmBook()
        for t, p in zip(times, probabilities, strict=True):
            # Rows scored low are of someone standing again (`upright`); the high ones look fallen.
            row = _row(fall_speed=SLOW_DESCENT / 2, upright_now=upright if p < 0.5 else 0.0)
            book.add(Row(1, t, row.values, 3.8, row.box, False), p)
        return [e.start_s for e in book.events]

    assert feed([4.0, 4.2, 4.4], [0.3, 0.9, 0.3]) == []  # one frame that looks fallen: a sit-down
    assert feed([4.0, 4.2, 4.4, 4.6], [0.9, 0.3, 0.9, 0.3]) == []  # up again in between: the wait starts again
    assert feed([4.0, 4.2, 4.4], [0.9, 0.9, 0.9]) == [3.8]  # stayed fallen: the event starts at the onset
    # A lying body's score flickers while it stays down: the wait goes on through the dip.
    assert feed([4.0, 4.2, 4.4], [0.9, 0.3, 0.9], upright=0.0) == [3.8]


def test_augmentations_mirror_and_rescale_time() -> None:
    from sitewatch.training.augment import Augmentation, augment

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


def synthetic_corpus() -> tuple[list, dict]:
    """Four groups of two falls and two walks each, as clips with their recorded observations."""
    from pathlib import Path

    from sitewatch.training.corpus import Clip

    clips, recordings = [], {}
    for g in range(4):
        for k in range(2):
            fall = Clip(Path(f"f{g}{k}.mp4"), "fall", 2.0 + k, f"g{g}", "person_fall", "home", 8.0)
            walk = Clip(Path(f"w{g}{k}.mp4"), "no_fall", None, f"g{g}", "none", "home", 8.0)
            clips += [fall, walk]
            recordings[fall.name] = {"orig": fall_recording(2.0 + k, x=0.3 + 0.1 * g)}
            recordings[walk.name] = {"orig": walk_recording(x0=0.1 + 0.05 * g)}
    return clips, recordings


def test_leave_one_group_out_on_synthetic_clips() -> None:
    """The CV loop holds a group out, fits on the rest, calibrates, and scores clips it never fitted on."""
    pytest.importorskip("sklearn")

    from sitewatch.training.augment import AUGMENTATIONS
    from sitewatch.training.cv import cross_validate
    from sitewatch.training.fit import TreeParams, build_dataset

    clips, recordings = synthetic_corpus()
    data = build_dataset(clips, recordings, FPS, AUGMENTATIONS[:2])
    cv = cross_validate(data, TreeParams(max_iter=20, min_samples_leaf=5), seed=0, manifest="synthetic")
    s = cv.result.summary
    assert (s.scored, s.f1) == (16, 1.0)
    assert s.on_time_fraction == 1.0
    assert {c.group for c in cv.result.clips} == {"g0", "g1", "g2", "g3"}
    assert 0.0 <= cv.report.brier < 0.1


def test_the_possible_tier_opens_early_and_becomes_an_alarm_from_the_same_onset() -> None:
    book = AlarmBook(possible=0.2)
    for t, p in [(4.0, 0.3), (4.2, 0.35), (4.4, 0.9)]:
        row = _row(upright_now=0.0, fall_speed=1.0)
        book.add(Row(1, t, row.values, 3.8, row.box, False), p)
        if t == 4.2:
            (possible,) = book.events
            assert possible.confidence == 0.35  # a possible accident: on the review list, no page
    (alarm,) = book.events  # promoted: a live camera, which hands events out as they open, pages for it
    assert (alarm.start_s, alarm.end_s, alarm.confidence) == (3.8, 4.4, 0.9)
    quiet = AlarmBook()  # without a possible level, the same rows open only at the alarm
    for t, p in [(4.0, 0.3), (4.2, 0.35)]:
        row = _row(upright_now=0.0, fall_speed=1.0)
        quiet.add(Row(1, t, row.values, 3.8, row.box, False), p)
    assert quiet.events == []


def test_a_descent_cut_off_by_the_end_of_the_file_is_a_possible_accident_with_its_reason() -> None:
    from sitewatch.detect.alarms import END_CONFIDENCE
    from sitewatch.detect.base import verdict_for
    from sitewatch.schema import CLIP_END, Verdict

    book = AlarmBook()
    row = _row(fall_speed=SLOW_DESCENT / 2, down_now=0.9)
    book.add(Row(1, 9.8, row.values, 9.0, row.box, False), 0.9)  # one fallen-looking frame, then the file ends
    assert book.events == []
    book.finish(9.8)
    (event,) = book.events
    assert event.details[CLIP_END] == 1.0 and event.confidence == END_CONFIDENCE and event.start_s == 9.0
    assert verdict_for(book.events) is Verdict.uncertain
    early = AlarmBook()  # the same frame long before the end is a sit-down that never stayed down
    early.add(Row(1, 3.0, row.values, 2.5, row.box, False), 0.9)
    early.add(Row(1, 3.2, _row(upright_now=1.0).values, 2.5, row.box, False), 0.05)
    early.finish(9.8)
    assert early.events == []


def test_a_track_that_vanishes_in_the_last_frames_gets_a_lost_row_at_the_end() -> None:
    obs = [Observation(t, [standing(0.5, 0.2)], 2.0) for t in times(0, 3)]
    obs += [Observation(t, [], 2.0) for t in times(3, 3.4)]  # gone for less than LOST_AFTER_S
    rows = recording_rows(Recording(640, 360, obs), FPS)
    (lost,) = [r for r in rows if r.lost]
    assert 0 < lost.values[FEATURES.index("lost_s")] < LOST_AFTER_S and lost.time_s == obs[-1].time_s


def test_the_scene_reference_makes_a_top_down_walker_ordinary() -> None:
    """Short, wide walkers seen from above: wide for a side view, usual for this camera."""
    from sitewatch.detect.scene import MIN_SAMPLES, SceneNorm

    scene = SceneNorm()
    assert np.isnan(scene.usual(0.5).log_aspect)  # nothing seen yet: unknown, never a guess
    for k in range(MIN_SAMPLES * 3):
        scene.add(0.5 + 0.001 * k, aspect=1.1, height=0.12, torso_deg=40.0)
    usual = scene.usual(0.55)
    assert usual.log_aspect == pytest.approx(np.log(1.1)) and usual.torso_deg == pytest.approx(40.0)
    assert scene.usual(0.95).log_height == pytest.approx(np.log(0.12))  # an empty band falls back to all
    rows = recording_rows(walk_recording(), FPS)
    scene_aspect = [r.values[FEATURES.index("scene_aspect")] for r in rows]
    assert np.isnan(scene_aspect[0]) and abs(scene_aspect[-1]) < 0.05  # a side-view walker is usual here too


def test_each_group_weighs_the_same() -> None:
    from pathlib import Path

    from sitewatch.training.corpus import Clip
    from sitewatch.training.fit import build_dataset

    clips = [Clip(Path(f"a{k}.mp4"), "no_fall", None, "big", "none", "home", 8.0) for k in range(4)]
    clips.append(Clip(Path("b.mp4"), "no_fall", None, "small", "none", "street", 8.0))
    recordings = {c.name: {"orig": walk_recording()} for c in clips}
    data = build_dataset(clips, recordings, FPS, AUGMENTATIONS[:1])
    _, _, w = data.arrays()
    sizes = [len(s.y) for s in data.samples]
    big, small = w[: sum(sizes[:4])].sum(), w[sum(sizes[:4]) :].sum()
    assert big == pytest.approx(small)


def small_nested_corpus(monkeypatch: pytest.MonkeyPatch) -> tuple[Dataset, str, tuple[Setting, ...]]:
    """The synthetic corpus with 40 s of normal footage as its own group, and two small tree settings."""
    from pathlib import Path

    from sitewatch.training import nested
    from sitewatch.training.corpus import Clip
    from sitewatch.training.fit import Member, TreeParams, build_dataset

    clips, recordings = synthetic_corpus()
    normal = Clip(Path("n.mp4"), "no_fall", None, "street-cam", "none", "street", 40.0)
    clips.append(normal)
    recordings[normal.name] = {"orig": walk_recording(end_s=40.0)}
    small = TreeParams(max_iter=20, min_samples_leaf=5)
    settings = (
        nested.Setting("small trees, scene", (Member(small, True),)),
        nested.Setting("small trees with and without the scene, averaged", (Member(small, True), Member(small, False))),
    )
    monkeypatch.setattr(nested, "SETTINGS", settings)
    return build_dataset(clips, recordings, FPS, AUGMENTATIONS[:2]), normal.name, settings


def test_nested_leave_one_group_out_chooses_inside_each_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every outer group is scored by a recipe chosen and fitted without it; normal footage counts per hour."""
    pytest.importorskip("sklearn")
    from sitewatch.training import nested

    data, normal, settings = small_nested_corpus(monkeypatch)
    result = nested.nested_cv(data, {normal}, seed=0, manifest="synthetic")
    s = result.alarm.result.summary
    assert (s.scored, s.f1) == (16, 1.0) and result.alarm.weighted.f1 == 1.0
    assert result.alarm.normal.no_fall_hours == pytest.approx(40.0 / 3600, abs=1e-4)
    assert result.alarm.normal.false_alarms == 0
    assert result.possible.result.summary.recall == 1.0
    assert set(result.choices) == {"g0", "g1", "g2", "g3", "street-cam"}
    assert all(c["setting"] in {x.name for x in settings} for c in result.choices.values())
    assert result.lockbox_alarm is None  # too few groups to keep any aside


def test_a_fast_drop_can_be_made_to_stay_down_before_it_alarms() -> None:
    def feed(probabilities: list[float]) -> list[tuple[float, float]]:
        book = AlarmBook(confirm_fast_s=0.5)
        for k, p in enumerate(probabilities):
            row = _row(fall_speed=2.0, upright_now=0.0)
            book.add(Row(1, round(4.0 + 0.2 * k, 3), row.values, 3.8, row.box, False), p)
        return [(e.start_s, e.end_s) for e in book.events]

    assert feed([0.9, 0.1, 0.9, 0.1]) == []  # a glitch of a frame in a crowd
    assert feed([0.9, 0.9, 0.9, 0.9]) == [(3.8, 4.6)]  # stayed down: alarms from the onset


def test_a_possible_accident_at_the_end_of_the_file_says_why() -> None:
    from sitewatch.schema import CLIP_END, Event, Report, Verdict, VideoInfo
    from sitewatch.text import describe, language

    info = VideoInfo(path="clip.mp4", size_bytes=1, container="mp4", codec="h264", width=640, height=360,
                     fps=25.0, duration_s=10.0, frame_count=250, frame_count_exact=True)
    event = Event(kind=EventKind.fall, start_s=9.0, end_s=9.8, confidence=0.45, keyframe_s=9.8, people=[1],
                  details={CLIP_END: 1.0})
    report = Report(video=info, verdict=Verdict.uncertain, confidence=0.45, events=[event], detector="pose",
                    people_max=1)
    for lang in ("en", "ko"):
        assert language(lang).t("advice_clip_end") in describe(report, lang).sentences


def walk_down_recording(end_s: float = 4.0, speed: float = 0.15) -> Recording:
    """A walker seen from above, moving down the picture as a whole at `speed` frames a second."""
    return Recording(
        640, 360, [Observation(t, [standing(0.5, 0.05 + speed * t, height=0.3)], 2.0) for t in times(0, end_s)]
    )


def test_a_walker_moving_down_the_picture_does_not_drop_to_their_feet() -> None:
    """From a high camera walking toward it moves the hips down the picture, but the feet go with them."""
    f = {k: FEATURES.index(k) for k in ("feet_drop", "recent_speed", "prior_descent", "keypoints_seen")}
    walker = [r for r in recording_rows(walk_down_recording(), FPS) if r.time_s >= 2.0]
    assert all(abs(r.values[f["feet_drop"]]) < 0.05 for r in walker)
    assert min(r.values[f["recent_speed"]] for r in walker) > 0.4  # still walking
    assert min(r.values[f["prior_descent"]] for r in walker) > 0.4  # and was already moving down before
    fallen = [r for r in recording_rows(fall_recording(), FPS) if 4.5 <= r.time_s <= 6.0]
    assert min(r.values[f["feet_drop"]] for r in fallen) > 0.3  # the hips came down to the feet
    assert max(r.values[f["recent_speed"]] for r in fallen) < 0.1  # and stayed there
    assert all(r.values[f["keypoints_seen"]] == 1.0 for r in fallen)


def test_feet_cut_off_by_the_bottom_edge_are_unknown() -> None:
    leaving = [r for r in recording_rows(walk_down_recording(end_s=6.0), FPS) if not r.lost]
    at_edge = [r for r in leaving if r.box[3] >= 0.98]
    assert at_edge and all(np.isnan(r.values[FEATURES.index("feet_drop")]) for r in at_edge)


def test_a_tighter_camera_cuts_people_at_its_bottom_edge() -> None:
    from sitewatch.training.augment import MIN_VISIBLE, Augmentation, augment

    rec = walk_down_recording(end_s=6.0)
    cut = augment(rec, Augmentation("c", crop_bottom=0.3), 0)
    assert (cut.width, cut.height) == (640, 252)
    boxes = [o.people[0].box for o in cut.observations if o.people]
    assert any(b[3] == 1.0 and b[3] - b[1] < 0.3 / 0.7 for b in boxes)  # leaving: cut short at the edge
    gone = [o for o, r in zip(cut.observations, rec.observations, strict=True) if r.people[0].box[1] >= 0.7]
    assert gone and all(not o.people for o in gone)
    assert all(o.people for o, r in zip(cut.observations, rec.observations, strict=True)
               if r.people[0].box[1] < 0.7 - MIN_VISIBLE)
    hidden = [p.keypoints for o in cut.observations for p in o.people if p.box[3] == 1.0]
    assert all(k[k[:, 1] >= 1.0, 2].max(initial=0.0) == 0.0 for k in hidden)  # feet out of view: not found


def test_the_lost_person_look_can_be_switched_off() -> None:
    row = _row(lost_s=0.8, upright_now=0.3, aspect_change=3.0, fall_speed=0.9, drop_heights=0.25)
    book = AlarmBook(lost_look=False)
    book.add(row, 0.2)
    assert book.events == []
    book.add(row, 0.9)  # the model itself is sure: an alarm either way
    assert [e.kind for e in book.events] == [EventKind.person_lost_after_fall]


def test_a_model_fitted_on_other_columns_reads_them_by_name() -> None:
    """A model trained on an older or reordered feature set (a site's own model) scores the same rows."""
    pytest.importorskip("sklearn")
    from sitewatch.detect.forest import forest_from_dict
    from sitewatch.errors import ModelLoadError
    from sitewatch.training.fit import TreeParams, export_trees, fit_trees

    names = ["fall_speed", "down_now", "feet_drop"]
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, len(FEATURES))).astype(np.float32)
    columns = [FEATURES.index(n) for n in names]
    y = (x[:, columns[0]] + x[:, columns[2]] > 0.3).astype(int)
    model = fit_trees(x[:, columns], y, np.ones(len(y)), TreeParams(max_iter=20, min_samples_leaf=20), seed=0)
    document = {**export_trees(model), "features": names}
    forest = forest_from_dict(document)
    assert np.allclose(forest.margin(x), model.decision_function(x[:, columns]), atol=1e-4)
    with pytest.raises(ModelLoadError, match="not_a_feature"):
        forest_from_dict({**document, "features": [*names[:2], "not_a_feature"]})


def test_the_wait_for_a_body_cut_by_the_edge_outlasts_a_frame_the_pose_model_fumbles() -> None:
    """A lying body's score dips for a frame; the wait is for the person to stay down, not for unbroken scores."""
    from sitewatch.detect.alarms import PARTIAL_CONFIDENCE

    def feed(rows: list[tuple[float, float, float]]) -> list[tuple]:
        book = AlarmBook(possible=0.3, confirm_partial_s=0.5)
        for t, upright, probability in rows:
            row = _row(fall_speed=2.0, upright_now=upright, cut=1.0)
            book.add(Row(1, t, row.values, 3.8, row.box, row.lost), probability)
        return [(e.kind, e.start_s, e.confidence) for e in book.events]

    fumbled = [(4.0, 0.0, 0.9), (4.2, 0.0, 0.1), (4.4, 0.0, 0.9), (4.6, 0.0, 0.9)]
    assert feed(fumbled) == [(EventKind.fall, 3.8, 0.9)]  # still down after 0.5 s: an alarm from the onset
    stood_up = [(4.0, 0.0, 0.9), (4.2, 1.0, 0.1), (4.4, 0.0, 0.9), (4.6, 0.0, 0.9)]
    assert all(confidence <= PARTIAL_CONFIDENCE for _, _, confidence in feed(stood_up))  # the wait started over


def test_the_wait_for_a_body_cut_by_the_edge_confirms_the_fall_it_started_on() -> None:
    """After the wait, a body still down is judged for staying down, not scored at the alarm level again: lying
    cut by the edge scores lower than the fall into it, and a refit moved one such row from 0.58 to 0.48."""
    from sitewatch.detect.alarms import PARTIAL_CONFIDENCE, STAY_DOWN

    def feed(rows: list[tuple[float, float, float]]) -> list[tuple]:
        book = AlarmBook(possible=0.3, confirm_partial_s=0.3)
        for t, upright, probability in rows:
            row = _row(fall_speed=2.0, upright_now=upright, cut=1.0)
            book.add(Row(1, t, row.values, 3.8, row.box, row.lost), probability)
        return [e.confidence for e in book.events]

    fell = [(3.5, 0.3, 0.42), (3.67, 0.0, 0.75)]
    assert feed([*fell, (4.0, 0.0, STAY_DOWN + 0.03)]) == [0.75]  # stayed down: the fall it started on pages
    assert feed([*fell, (4.0, 0.0, STAY_DOWN - 0.1)]) == [PARTIAL_CONFIDENCE]  # faded: a possible accident
    assert feed([*fell, (4.0, 1.0, 0.6)]) == [PARTIAL_CONFIDENCE]  # stood up: no page


def test_evidence_cut_off_by_the_edge_of_the_picture_waits_or_stays_possible() -> None:
    """Walking out at the bottom of a high camera's picture looks short and wide, like a fall, for a moment."""
    from sitewatch.detect.alarms import PARTIAL_CONFIDENCE

    def feed(rows: list[tuple[float, dict[str, float]]], confirm_partial_s: float = 0.5) -> list[tuple]:
        book = AlarmBook(possible=0.3, confirm_partial_s=confirm_partial_s)
        for t, values in rows:
            row = _row(**{"fall_speed": 2.0, "upright_now": 0.0, **values})
            book.add(Row(1, t, row.values, 3.8, row.box, row.lost), 0.9)
        return [(e.kind, e.start_s, e.confidence) for e in book.events]

    cut = {"cut": 1.0}
    stays = [(4.0, cut), (4.2, cut), (4.4, cut), (4.6, cut)]
    assert feed(stays) == [(EventKind.fall, 3.8, 0.9)]  # stayed down in view: promoted, from the onset
    leaves = [(4.0, cut), (4.2, cut), (5.0, {**cut, "lost_s": 0.8})]
    assert feed(leaves) == [(EventKind.fall, 3.8, PARTIAL_CONFIDENCE)]  # left the picture: a possible accident
    assert feed(leaves, confirm_partial_s=0.0) == [(EventKind.fall, 3.8, 0.9)]  # the recipe may not wait
    upright = [(5.0, {"lost_s": 0.8, "upright_now": 1.0})]
    assert feed(upright, 0.0) == [(EventKind.person_lost_after_fall, 3.8, PARTIAL_CONFIDENCE)]  # no fall seen


def test_where_the_review_level_sits_does_not_change_what_pages() -> None:
    """The wait for a body cut by the edge counts from the alarm level, whatever the possible tier's level."""

    def alarms(possible: float, rows: list[tuple[float, float]]) -> list[float]:
        book = AlarmBook(possible=possible, confirm_partial_s=0.5)
        for t, probability in rows:
            row = _row(fall_speed=2.0, upright_now=0.0, cut=1.0)
            book.add(Row(1, t, row.values, 3.8, row.box, False), probability)
        return [e.start_s for e in book.events if e.confidence >= 0.5]

    rows = [(4.0, 0.4), (4.2, 0.9), (4.4, 0.9), (4.6, 0.9)]
    assert alarms(0.3, rows) == alarms(0.45, rows) == []  # 0.4 s at the alarm level: still waiting
    assert alarms(0.3, [*rows, (4.8, 0.9)]) == alarms(0.45, [*rows, (4.8, 0.9)]) == [3.8]


def test_a_probability_just_below_the_alarm_level_is_not_rounded_into_a_page() -> None:
    from sitewatch.detect.base import verdict_for
    from sitewatch.schema import Verdict

    for probabilities in ([0.4996], [0.46, 0.4996]):  # a new event, and an open possible one that rises
        book = AlarmBook(possible=0.45)
        for k, probability in enumerate(probabilities):
            row = _row(fall_speed=2.0, upright_now=0.0)
            book.add(Row(1, 4.0 + k / FPS, row.values, 3.8, row.box, False), probability)
        (event,) = book.events
        assert event.confidence == 0.499 and verdict_for(book.events) is not Verdict.accident
    book = AlarmBook()
    book.add(_row(fall_speed=2.0, upright_now=0.0), 0.8004)
    assert book.events[0].confidence == 0.8


def test_kept_margins_rejudge_the_nested_estimate_without_a_fit(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """`rejudge` on a nested run's kept margins (saved and read back) gives that run's result, and makes every
    choice after the trees again with the code as it is now, fitting nothing."""
    pytest.importorskip("sklearn")
    from sitewatch.training import nested
    from sitewatch.training.fit import Dataset
    from sitewatch.training.margins import load_margins, save_margins

    data, normal, _ = small_nested_corpus(monkeypatch)
    ran = nested.nested_cv(data, {normal}, seed=0, manifest="synthetic", keep_margins=True)
    assert [f.test for f in ran.margins] == [[g] for g in sorted(ran.choices)]
    assert all(set(f.inner) == set(f.outer) == {s.name for s in nested.SETTINGS} for f in ran.margins)

    def no_fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("rejudge must not fit trees")

    monkeypatch.setattr(nested, "fit_members", no_fit)
    stamp = nested.fingerprint(data, 0)
    save_margins(ran.margins, tmp_path / "margins.npz", stamp)
    kept = load_margins(tmp_path / "margins.npz", stamp)
    with pytest.raises(ValueError, match="other training rows"):  # one clip copy fewer: other trees
        load_margins(tmp_path / "margins.npz", nested.fingerprint(Dataset(data.samples[1:]), 0))
    for read, written in zip(kept, ran.margins, strict=True):
        assert read.test == written.test and set(read.inner) == set(written.inner)
        for part in ("inner", "outer"):
            for setting, by_clip in getattr(written, part).items():
                assert all(np.array_equal(getattr(read, part)[setting][c], m) for c, m in by_clip.items())
    again = nested.rejudge(data, {normal}, kept, "synthetic")
    assert again.alarm.result.model_dump() == ran.alarm.result.model_dump() and again.choices == ran.choices
    # A rule changed after the fits is measured on the same trees: here, a review tier that only a sure thing reaches.
    monkeypatch.setattr(nested, "POSSIBLE_LEVELS", (0.99,))
    stricter = nested.rejudge(data, {normal}, kept, "synthetic")
    assert {c["possible"] for c in stricter.choices.values()} == {0.99} != {c["possible"] for c in ran.choices.values()}
