"""Zones without a camera: the polygon and dwell logic, the ignore filter, the zone model's checks, the cameras
file's `zones:`, and the history's rule between the cameras file and the console."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from sitewatch.detect.base import Seen, Step
from sitewatch.errors import SettingsError
from sitewatch.live.zones import LEAVE_S, ZoneJudge, contains, foot
from sitewatch.schema import Box, Event, EventKind, Zone, ZoneKind, Zones

SQUARE = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]
DANGER = Zone(name="crane", kind=ZoneKind.danger, points=SQUARE, dwell_s=1.0)
MAT = Zone(name="mat", kind=ZoneKind.ignore, points=[(0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)])


def _box(x: float, y: float) -> Box:
    """A person's box whose foot point (bottom centre) is at (x, y)."""
    return Box(x1=x - 0.05, y1=y - 0.3, x2=x + 0.05, y2=y)


def _step(t: float, *people: tuple[int, float, float]) -> Step:
    return Step(t, [], [Seen(track, _box(x, y), lying=False) for track, x, y in people])


def _walk(judge: ZoneJudge, path: list[tuple[float, float, float]], track: int = 1) -> list[Event]:
    """Feed one person along (time, x, y); every event raised."""
    return [e for t, x, y in path for e in judge.judge(_step(t, (track, x, y)), [])]


def test_a_point_is_inside_a_polygon_by_the_even_odd_rule() -> None:
    assert contains(SQUARE, (0.4, 0.4)) and not contains(SQUARE, (0.7, 0.4)) and not contains(SQUARE, (0.4, 0.1))
    concave = [(0, 0), (1, 0), (1, 1), (0.5, 0.3), (0, 1)]  # a notch cut down from the top edge's far side
    assert contains(concave, (0.1, 0.5)) and not contains(concave, (0.5, 0.6))
    assert foot(Box(x1=0.2, y1=0.1, x2=0.4, y2=0.9)) == pytest.approx((0.3, 0.9))


def test_a_person_inside_longer_than_the_dwell_raises_one_intrusion_per_entry() -> None:
    judge = ZoneJudge([DANGER], "test")
    path = [(t / 10, 0.4, 0.4) for t in range(0, 30)]  # inside for 3 s
    events = _walk(judge, path)
    assert len(events) == 1, "one intrusion for one stay, however long"
    intrusion = events[0]
    assert intrusion.kind is EventKind.intrusion and intrusion.people == [1]
    assert intrusion.start_s == pytest.approx(1.0), "raised when the dwell is reached"
    assert intrusion.end_s == pytest.approx(2.9), "and it grows while the person stays"
    assert intrusion.box is not None and foot(intrusion.box) == pytest.approx((0.4, 0.4))
    # Out for longer than LEAVE_S, then back in: a new entry, a new intrusion after the dwell again.
    out = [(3.0 + t / 10, 0.9, 0.9) for t in range(int(LEAVE_S * 10) + 2)]
    back = [(4.5 + t / 10, 0.4, 0.4) for t in range(15)]
    again = _walk(judge, out + back)
    assert [e.start_s for e in again] == [pytest.approx(5.5)]


def test_a_short_stay_or_an_edge_flicker_raises_nothing_more() -> None:
    judge = ZoneJudge([DANGER], "test")
    assert _walk(judge, [(t / 10, 0.4, 0.4) for t in range(8)]) == [], "0.7 s inside: below the dwell"
    judge = ZoneJudge([DANGER], "test")
    # On the edge: in, out for a moment, in again: still one stay, one intrusion.
    flicker = [(t / 10, 0.4 if t % 4 else 0.65, 0.4) for t in range(40)]
    assert len(_walk(judge, flicker)) == 1


def test_each_person_is_timed_on_their_own() -> None:
    judge = ZoneJudge([DANGER], "test")
    raised = []
    for i in range(20):
        t = i / 10
        people = [(1, 0.3, 0.3)] + ([(2, 0.5, 0.5)] if t >= 0.5 else [])
        raised += judge.judge(_step(t, *people), [])
    assert [(e.people, e.start_s) for e in raised] == [([1], pytest.approx(1.0)), ([2], pytest.approx(1.5))]


def test_an_ignore_zone_drops_falls_and_lying_people_but_not_a_falling_load() -> None:
    judge = ZoneJudge([MAT], "test")
    on_mat, off_mat = Box(x1=0.6, y1=0.6, x2=0.9, y2=0.8), Box(x1=0.1, y1=0.1, x2=0.3, y2=0.4)

    def event(kind: EventKind, box: Box | None) -> Event:
        return Event(kind=kind, start_s=1.0, end_s=2.0, confidence=0.9, keyframe_s=1.5, box=box)

    events = [event(EventKind.fall, on_mat), event(EventKind.person_down, on_mat),
              event(EventKind.person_lost_after_fall, on_mat), event(EventKind.object_drop, on_mat),
              event(EventKind.fall, off_mat), event(EventKind.fall, None)]
    kept = judge.judge(Step(2.0, events, []), events)
    assert [(e.kind, e.box) for e in kept] == [(EventKind.object_drop, on_mat), (EventKind.fall, off_mat),
                                               (EventKind.fall, None)]


def test_changed_zones_apply_from_the_next_step_and_unchanged_ones_keep_the_time_inside() -> None:
    judge = ZoneJudge([], "test")
    assert _walk(judge, [(t / 10, 0.4, 0.4) for t in range(5)]) == []
    judge.set_zones([DANGER])
    assert [e.start_s for e in _walk(judge, [(0.5 + t / 10, 0.4, 0.4) for t in range(15)])] == [pytest.approx(1.5)]
    judge.set_zones([DANGER, MAT])  # the danger zone did not change: its stay (already reported) goes on
    assert _walk(judge, [(2.0 + t / 10, 0.4, 0.4) for t in range(15)]) == []
    judge.set_zones([DANGER.model_copy(update={"dwell_s": 0.5})])  # changed: timed afresh
    assert [e.start_s for e in _walk(judge, [(3.5 + t / 10, 0.4, 0.4) for t in range(10)])] == [pytest.approx(4.0)]


@pytest.mark.parametrize(("zone", "says"), [
    ({"points": [[0.1, 0.1], [0.2, 0.2]]}, "at least 3"),
    ({"points": [[0.1, 0.1], [1.2, 0.1], [0.5, 0.5]]}, "less than or equal to 1"),
    ({"points": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]}, "no area"),
    ({"points": [[i / 100, (i % 2) / 2] for i in range(65)]}, "at most 64"),
    ({"kind": "forbidden"}, "'danger' or 'ignore'"),
    ({"dwell_s": 601}, "less than or equal to 600"),
    ({"dwell_s": float("nan")}, "finite number"),
    ({"name": " "}, "at least 1"),
    ({"name": "x" * 65}, "at most 64"),
    ({"name": "a\nb"}, "pattern"),
    ({"colour": "red"}, "Extra inputs"),
])
def test_a_zone_is_checked(zone: dict, says: str) -> None:
    data = {"name": "crane", "kind": "danger", "points": SQUARE, **zone}
    with pytest.raises(ValidationError, match=says):
        Zone.model_validate(data)


def test_a_cameras_zones_have_unique_names_and_a_bound() -> None:
    zones = TypeAdapter(Zones)
    with pytest.raises(ValidationError, match="unique per camera: crane"):
        zones.validate_python([DANGER, DANGER])
    with pytest.raises(ValidationError, match="at most 32"):
        zones.validate_python([DANGER.model_copy(update={"name": f"z{i}"}) for i in range(33)])


def test_the_cameras_file_lists_zones_per_camera(tmp_path: Path) -> None:
    pytest.importorskip("yaml", reason="the cameras file needs the live extra")
    from sitewatch.live.config import load_config

    config = tmp_path / "cameras.yaml"
    config.write_text("cameras:\n  - name: dock-1\n    url: a.mp4\n    zones:\n"
                      "      - {name: crane, kind: danger, points: [[0.2, 0.2], [0.6, 0.2], [0.6, 0.6]], dwell_s: 1}\n"
                      "  - name: dock-2\n    url: b.mp4\n")
    cameras = load_config(config, []).cameras
    assert cameras[0].zones == [Zone(name="crane", kind=ZoneKind.danger, points=SQUARE[:3], dwell_s=1)]
    assert cameras[1].zones is None, "no zones: the history's stay as they are"
    config.write_text("cameras:\n  - name: dock-1\n    url: a.mp4\n    zones:\n"
                      "      - {name: crane, kind: danger, points: [[0.2, 0.2], [0.6, 0.2], [1.6, 0.6]], shape: x}\n")
    with pytest.raises(SettingsError, match=r"cameras\.0\.zones\.0\.points\.2\.0: input should be less than or equal "
                                            r"to 1; cameras\.0\.zones\.0\.shape: extra inputs are not permitted"):
        load_config(config, [])


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    pytest.importorskip("sqlalchemy", reason="the history needs the api extra")
    from sitewatch.settings import get_settings, updated
    from sitewatch.store import Store

    url = None if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()
    opened = Store.open(updated(get_settings(), data_dir=tmp_path / "data", database_url=url))
    yield opened
    opened.close()


def test_the_cameras_file_writes_zones_until_an_operator_saves_them(store: object) -> None:
    from sitewatch.store import AnalysisNotFoundError, Store
    from sitewatch.store.records import CAMERAS_FILE

    assert isinstance(store, Store)
    with pytest.raises(AnalysisNotFoundError, match="no watched camera named 'dock-1'"):
        store.put_zones("dock-1", [DANGER])
    first = store.watch_camera("dock-1", "plant-3", [DANGER])
    assert first.plain() == [DANGER] and first.updated_by == CAMERAS_FILE
    assert store.zones_changed_at(["dock-1", "other"]) == {"dock-1": first.updated_at}

    # The same file again changes nothing (a running watcher sees no change); an edited file applies.
    assert store.watch_camera("dock-1", "plant-3", [DANGER]).updated_at == first.updated_at
    wider = DANGER.model_copy(update={"dwell_s": 3.0})
    assert store.watch_camera("dock-1", "plant-3", [wider, MAT]).plain() == [wider, MAT]

    # An operator's save wins from then on: the file's zones are no longer written.
    saved = store.put_zones("dock-1", [MAT], by="kim")
    assert saved.plain() == [MAT] and saved.updated_by == "kim"
    assert saved.zones[0].updated_by == CAMERAS_FILE, "an unchanged zone keeps who last changed it"
    assert store.watch_camera("dock-1", "plant-3", [DANGER]).plain() == [MAT]
    assert store.watch_camera("dock-1", "plant-3", None).plain() == [MAT]
    emptied = store.put_zones("dock-1", [])
    assert emptied.zones == [] and emptied.updated_by == "operator"
    assert store.zones_changed_at(["dock-1"])["dock-1"] == emptied.updated_at > saved.updated_at  # type: ignore[operator]
