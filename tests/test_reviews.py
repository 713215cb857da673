"""Reviews of incidents through `sitewatch serve` over real HTTP, on SQLite and PostgreSQL: store, filters, problems."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi", reason="the API needs the api extra: pip install 'sitewatch[api]'")

from test_api import TOKEN, Server, assert_problem  # noqa: E402

from sitewatch.schema import Event, EventKind  # noqa: E402
from sitewatch.settings import Settings  # noqa: E402
from sitewatch.store import IncidentRecord, Store  # noqa: E402
from sitewatch.store.records import ReviewRequest  # noqa: E402

START = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)
# (id, camera, site, kind): four incidents a few minutes apart, the last one newest.
INCIDENTS = [
    ("inc-a", "dock-1", "plant-3", EventKind.fall),
    ("inc-b", "dock-1", "plant-3", EventKind.person_down),
    ("inc-c", "gate", "plant-7", EventKind.fall),
    ("inc-d", "gate", "plant-7", EventKind.struck_by),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a token over a history holding the four incidents (none reviewed)."""
    database = None if request.param == "sqlite" else request.getfixturevalue("postgres").new_database()
    data = tmp_path_factory.mktemp("reviews") / "data"
    store = Store.open(Settings(data_dir=data, database_url=database))
    try:
        for n, (incident_id, camera, site, kind) in enumerate(INCIDENTS):
            at = START + timedelta(minutes=n)
            event = Event(kind=kind, start_s=10.0, end_s=12.0, confidence=0.9, keyframe_s=11.0)
            store.add_incident(IncidentRecord(id=incident_id, camera=camera, site=site, kind=kind, confidence=0.9,
                                              started_at=at, detected_at=at, stream_s=10.0, event=event,
                                              updated_at=at), lambda _: [])
    finally:
        store.close()
    running = Server(data, database, SITEWATCH_API_TOKEN=TOKEN).start()
    yield running
    running.stop()


@pytest.fixture
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client(TOKEN) as c:
        yield c


def _ids(c: httpx.Client, **filters: str) -> list[str]:
    response = c.get("/v1/incidents", params=filters)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == len(page["items"])
    return [item["id"] for item in page["items"]]


def test_a_review_is_stored_with_who_and_when_and_filters_find_it(client: httpx.Client) -> None:
    assert _ids(client, reviewed="false") == ["inc-d", "inc-c", "inc-b", "inc-a"]
    before = datetime.now(timezone.utc)
    response = client.post("/v1/incidents/inc-c/review", json={"verdict": "false_alarm", "note": "a bag fell"})
    assert response.status_code == 200, response.text
    review = response.json()["review"]
    assert review["reviewer"] == "operator" and review["verdict"] == "false_alarm" and review["note"] == "a bag fell"
    when = datetime.fromisoformat(review["reviewed_at"])
    assert when.utcoffset() == timedelta(0) and before - timedelta(seconds=5) <= when <= datetime.now(timezone.utc)

    named = client.post("/v1/incidents/inc-a/review", json={"verdict": "confirmed", "reviewer": "kim.j@site"})
    assert named.json()["review"]["reviewer"] == "kim.j@site"
    assert client.get("/v1/incidents/inc-c").json()["review"]["verdict"] == "false_alarm"

    assert _ids(client, reviewed="true") == ["inc-c", "inc-a"]
    assert _ids(client, reviewed="false") == ["inc-d", "inc-b"]
    assert _ids(client, verdict="false_alarm") == ["inc-c"]
    assert _ids(client, verdict="confirmed", site="plant-3") == ["inc-a"]
    assert _ids(client, site="plant-7") == ["inc-d", "inc-c"]
    assert _ids(client, site="plant-7", reviewed="false", kind="struck_by") == ["inc-d"]


def test_a_later_review_replaces_the_verdict_and_a_note_alone_keeps_it(client: httpx.Client) -> None:
    client.post("/v1/incidents/inc-b/review", json={"verdict": "false_alarm", "note": "shadow"}).raise_for_status()
    changed = client.post("/v1/incidents/inc-b/review", json={"verdict": "confirmed"}).json()["review"]
    assert changed["verdict"] == "confirmed" and changed["note"] == "shadow", "a verdict alone keeps the note"
    noted = client.post("/v1/incidents/inc-b/review", json={"note": "he slipped on oil"}).json()["review"]
    assert noted["verdict"] == "confirmed" and noted["note"] == "he slipped on oil"
    assert _ids(client, verdict="confirmed", camera="dock-1")[:1] == ["inc-b"]
    assert "inc-b" not in _ids(client, verdict="false_alarm")


def test_bad_reviews_are_problems_and_change_nothing(server: Server, client: httpx.Client) -> None:
    assert_problem(client.post("/v1/incidents/nope/review", json={"verdict": "confirmed"}), 404, "no incident")
    assert_problem(client.post("/v1/incidents/inc-d/review", json={"verdict": "maybe"}), 422, "verdict")
    assert_problem(client.post("/v1/incidents/inc-d/review", json={"verdict": "confirmed", "note": "x" * 2001}),
                   422, "note")
    for reviewer in ("", "<script>", "a" * 101, "../etc"):
        assert_problem(client.post("/v1/incidents/inc-d/review", json={"verdict": "confirmed", "reviewer": reviewer}),
                       422, "reviewer")
    assert_problem(client.post("/v1/incidents/inc-d/review", json={"verdict": "confirmed", "extra": 1}), 422, "extra")
    assert_problem(client.post("/v1/incidents/inc-d/review", json={"note": "only a note"}), 422, "needs a verdict")
    assert_problem(client.post("/v1/incidents/inc-d/review", content=b"not json",
                               headers={"content-type": "application/json"}), 422)
    assert_problem(client.get("/v1/incidents", params={"verdict": "maybe"}), 422, "verdict")
    assert_problem(client.get("/v1/incidents", params={"reviewed": "perhaps"}), 422, "reviewed")
    with server.client() as anonymous:
        assert_problem(anonymous.post("/v1/incidents/inc-d/review", json={"verdict": "confirmed"}), 401)
    assert client.get("/v1/incidents/inc-d").json()["review"] is None


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_cameras_alarm_rate_and_confirmed_share_count_its_recent_reviewed_incidents(
    request: pytest.FixtureRequest, tmp_path, database: str
) -> None:
    url = None if database == "sqlite" else request.getfixturevalue("postgres").new_database()
    store = Store.open(Settings(data_dir=tmp_path / "data", database_url=url))
    now = datetime.now(timezone.utc)
    try:
        # Three recent on the dock (one confirmed, one false alarm, one not reviewed), one old, one elsewhere.
        for incident_id, camera, age in (("r1", "dock", 1), ("r2", "dock", 2), ("r3", "dock", 3),
                                         ("old", "dock", 24 * 9), ("g1", "gate", 1)):
            at = now - timedelta(hours=age)
            event = Event(kind=EventKind.fall, start_s=1.0, end_s=2.0, confidence=0.9, keyframe_s=1.5)
            store.add_incident(IncidentRecord(id=incident_id, camera=camera, kind=EventKind.fall, confidence=0.9,
                                              started_at=at, detected_at=at, stream_s=1.0, event=event,
                                              updated_at=at), lambda _: [])
        store.review_incident("r1", ReviewRequest(verdict="confirmed"))
        store.review_incident("r2", ReviewRequest(verdict="false_alarm"))
        store.review_incident("old", ReviewRequest(verdict="confirmed"))
        stats = store.alarm_stats("dock", days=7)
        assert (stats.incidents, stats.reviewed, stats.confirmed) == (3, 2, 1)
        assert stats.per_day == pytest.approx(3 / 7) and stats.confirmed_share == 0.5
        quiet = store.alarm_stats("bench", days=7)
        assert quiet.incidents == 0 and quiet.confirmed_share is None
    finally:
        store.close()
