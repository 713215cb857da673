"""GET/PUT /v1/cameras/{camera}/zones over real HTTP: behind the token, every bad value a clear problem, only a
camera a watcher registered in the history, and what is saved is what a separate `watch` process reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the API needs the api extra: pip install 'sitewatch[api]'")

from test_api import TOKEN, Server, assert_problem

from sitewatch.schema import ZoneKind
from sitewatch.settings import Settings
from sitewatch.store import Store

CRANE = {"name": "크레인 아래", "kind": "danger", "points": [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6], [0.1, 0.6]],
         "dwell_s": 1.5}
MAT = {"name": "mat", "kind": "ignore", "points": [[0.6, 0.6], [0.9, 0.6], [0.9, 0.9]]}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Settings]]:
    """`serve` with a token over a history in which a `watch` process registered camera dock-1."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("zones-api") / "data")
    store = Store.open(settings)
    store.watch_camera("dock-1", "plant-3", None)
    store.close()
    server = Server(settings.data_dir, None, SITEWATCH_API_TOKEN=TOKEN).start()
    yield server, settings
    server.stop()


def _put(server: Server, body: Any, camera: str = "dock-1") -> Any:
    with server.client(TOKEN) as api:
        return api.put(f"/v1/cameras/{camera}/zones", json=body)


def test_zones_need_the_token(served: tuple[Server, Settings]) -> None:
    server, _ = served
    with server.client() as anonymous:
        assert_problem(anonymous.get("/v1/cameras/dock-1/zones"), 401, "needs a bearer token")
        assert_problem(anonymous.put("/v1/cameras/dock-1/zones", json={"zones": []}), 401, "needs a bearer token")
    with server.client("wrong") as guessing:
        assert_problem(guessing.put("/v1/cameras/dock-1/zones", json={"zones": [CRANE]}), 401, "token is wrong")
    with server.client(TOKEN) as api:
        assert api.get("/v1/cameras/dock-1/zones").json()["zones"] == [], "nothing was saved by those"


@pytest.mark.parametrize(("body", "says"), [
    ({"zones": [{**CRANE, "points": [[0.1, 0.1], [0.5, 0.5]]}]}, "zones.0.points: List should have at least 3"),
    ({"zones": [{**CRANE, "points": [[0.1, 0.1], [0.5, -0.1], [0.5, 0.6]]}]},
     "zones.0.points.1.1: Input should be greater than or equal to 0"),
    ({"zones": [{**CRANE, "points": [[0.1, 0.1]] * 30 + [[0.2, 0.3]] * 35}]}, "List should have at most 64"),
    ({"zones": [{**CRANE, "points": [[0.1, 0.1], [0.2, 0.2], [0.3, 0.3]]}]}, "the points enclose no area"),
    ({"zones": [{**CRANE, "kind": "exclusion"}]}, "zones.0.kind: Input should be 'danger' or 'ignore'"),
    ({"zones": [{**CRANE, "dwell_s": -1}]}, "zones.0.dwell_s: Input should be greater than or equal to 0"),
    ({"zones": [{**CRANE, "dwell_s": 3601}]}, "zones.0.dwell_s: Input should be less than or equal to 600"),
    ({"zones": [{**CRANE, "name": "x" * 65}]}, "zones.0.name: String should have at most 64"),
    ({"zones": [{**CRANE, "name": ""}]}, "zones.0.name: String should have at least 1"),
    ({"zones": [CRANE, {**MAT, "name": CRANE["name"]}]}, "zone names must be unique per camera"),
    ({"zones": [{**MAT, "name": f"z{i}"} for i in range(33)]}, "zones: List should have at most 32"),
    ({"zones": [{**CRANE, "model": "/etc/passwd"}]}, "zones.0.model: Extra inputs are not permitted"),
    ({"zones": [CRANE], "url": "http://elsewhere"}, "url: Extra inputs are not permitted"),
    ({"zones": [CRANE], "by": "<script>"}, "by: String should match pattern"),
    ([CRANE], "Input should be a valid dictionary"),
])
def test_bad_zones_are_refused_with_what_is_wrong(served: tuple[Server, Settings], body: Any, says: str) -> None:
    server, _ = served
    assert_problem(_put(server, body), 422, says)


def test_only_a_registered_camera_has_zones(served: tuple[Server, Settings]) -> None:
    server, _ = served
    assert_problem(_put(server, {"zones": [CRANE]}, camera="dock-9"), 404, "no watched camera named 'dock-9'")
    with server.client(TOKEN) as api:
        assert_problem(api.get("/v1/cameras/dock-9/zones"), 404, "no watched camera named 'dock-9'")
        assert api.get("/v1/cameras/..%2Fetc/zones").status_code in (404, 422)
        assert_problem(api.get("/v1/cameras/" + "a" * 65 + "/zones"), 422, "name: String should have at most 64")


def test_saved_zones_are_read_back_and_by_a_separate_watcher(served: tuple[Server, Settings]) -> None:
    server, settings = served
    saved = _put(server, {"zones": [CRANE, MAT], "by": "kim"})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert [z["name"] for z in body["zones"]] == sorted([CRANE["name"], "mat"])
    assert body["updated_by"] == "kim" and all(z["updated_by"] == "kim" for z in body["zones"])
    with server.client(TOKEN) as api:
        assert api.get("/v1/cameras/dock-1/zones").json() == body
    # What a `watch` process sharing the history sees: the change time it polls, then the zones themselves.
    store = Store.open(settings)
    try:
        assert store.zones_changed_at(["dock-1"])["dock-1"] is not None
        zones = {z.name: z for z in store.camera_zones("dock-1").plain()}
        assert zones["mat"].kind is ZoneKind.ignore and zones["mat"].dwell_s == 2.0, "dwell defaults"
        assert zones[CRANE["name"]].points[2] == (0.5, 0.6) and zones[CRANE["name"]].dwell_s == 1.5
    finally:
        store.close()
    # Deleting one is saving the set without it.
    remaining = _put(server, {"zones": [MAT]}).json()
    assert [z["name"] for z in remaining["zones"]] == ["mat"] and remaining["updated_by"] == "operator"
