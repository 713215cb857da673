"""The console's pages over real HTTP (`sitewatch serve` on loopback): login by cookie, both languages, escaping,
validated filters, and no Korean outside the text layer (templates and script included)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi", reason="the console needs the api extra: pip install 'sitewatch[api]'")

from test_api import TOKEN, Server, assert_problem  # noqa: E402

from sitewatch.schema import Event, EventKind  # noqa: E402
from sitewatch.settings import Settings  # noqa: E402
from sitewatch.store import IncidentRecord, ReviewRequest, ReviewVerdict, Store  # noqa: E402
from sitewatch.store.records import Tier  # noqa: E402

CONSOLE = Path(__file__).resolve().parents[1] / "sitewatch" / "console"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
HOSTILE_SITE = '<script>alert("x")</script>'
START = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a token over a history of three incidents, one reviewed with a note that is markup."""
    data = tmp_path_factory.mktemp("console") / "data"
    store = Store.open(Settings(data_dir=data))
    try:
        kept = (("old", "plant-3", Tier.alarm), ("mid", HOSTILE_SITE, Tier.alarm), ("new", "plant-3", Tier.possible))
        for n, (incident_id, site, tier) in enumerate(kept):
            at = START + timedelta(days=n)
            event = Event(kind=EventKind.fall, start_s=1.0, end_s=2.0, confidence=0.8, keyframe_s=1.5)
            store.add_incident(IncidentRecord(id=incident_id, camera="dock-1", site=site, kind=EventKind.fall,
                                              confidence=0.8, tier=tier, started_at=at, detected_at=at, stream_s=1.0,
                                              event=event, updated_at=at), lambda _: [])
        store.review_incident("old", ReviewRequest(verdict=ReviewVerdict.confirmed, note="<b>slipped</b>"))
    finally:
        store.close()
    running = Server(data, None, SITEWATCH_API_TOKEN=TOKEN, SITEWATCH_LANG="ko").start()
    yield running
    running.stop()


def csrf_of(client: httpx.Client, path: str = "/console/login") -> str:
    """The CSRF token a console page hands this client (its cookie, repeated in the page)."""
    page = client.get(path)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token and client.cookies.get("sitewatch_csrf") == token[1], page.text[:500]
    return token[1]


@contextmanager
def _logged_in(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post("/console/login", data={"token": TOKEN, "csrf": csrf_of(client)})
        assert response.status_code == 303 and response.headers["location"] == "/console"
        yield client


def test_login_keeps_the_token_in_a_strict_httponly_cookie_never_in_a_url(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as anonymous:
        redirect = anonymous.get("/console/queue")
        assert redirect.status_code == 303 and redirect.headers["location"] == "/console/login"
        assert_problem(anonymous.get("/v1/incidents"), 401)
        assert anonymous.get("/console/login").status_code == 200
        assert anonymous.get("/console/static/console.js").status_code == 200
        wrong = anonymous.post("/console/login", data={"token": "guess", "csrf": csrf_of(anonymous)})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        anonymous.cookies.set("sitewatch_token", "guess")
        assert_problem(anonymous.get("/v1/incidents"), 401)
    with httpx.Client(base_url=server.url, timeout=30) as fresh:
        response = fresh.post("/console/login", data={"token": TOKEN, "csrf": csrf_of(fresh)})
    cookie = response.headers.get_list("set-cookie")[0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert TOKEN not in response.headers["location"]
    with _logged_in(server) as client:
        assert client.get("/v1/incidents").json()["total"] == 3, "the gate takes the cookie on the API too"
        page = client.get("/console/queue")
        assert page.status_code == 200 and TOKEN not in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert client.post("/console/logout", data={"csrf": csrf_of(client, "/console")}).status_code == 303
        assert client.get("/console/queue").status_code == 303, "logged out"
    assert TOKEN not in server.log()


def test_pages_speak_korean_by_default_and_english_when_switched(server: Server) -> None:
    with _logged_in(server) as client:
        for path in ("/console", "/console/queue", "/console/analyses", "/console/incidents/new"):
            korean = client.get(path)
            assert korean.status_code == 200 and HANGUL.search(korean.text), path
        assert "검토 대기열" in client.get("/console/queue").text
        client.cookies.set("sitewatch_lang", "en")
        for path in ("/console", "/console/queue", "/console/analyses", "/console/incidents/new"):
            english = client.get(path)
            # The switch names each language in itself (한국어); everything else is English.
            words = re.sub(r'<span class="switch".*?</span>', "", english.text, flags=re.S)
            assert english.status_code == 200 and not HANGUL.search(words), path
        assert "Review queue" in client.get("/console/queue").text
        client.cookies.set("sitewatch_lang", "xx")  # not a language: the server's own
        assert "검토 대기열" in client.get("/console/queue").text


def test_the_queue_filters_escapes_and_walks_newest_first(server: Server) -> None:
    with _logged_in(server) as client:
        client.cookies.set("sitewatch_lang", "en")
        page = client.get("/console/queue").text
        assert page.index('data-incident-row="new"') < page.index('data-incident-row="mid"') < page.index(
            'data-incident-row="old"')
        assert HOSTILE_SITE not in page and "&lt;script&gt;" in page
        unreviewed = client.get("/console/queue", params={"reviewed": "no"}).text
        assert 'data-incident-row="old"' not in unreviewed and 'data-incident-row="new"' in unreviewed
        one_day = client.get("/console/queue", params={"since": "2026-11-04", "until": "2026-11-04"}).text
        assert one_day.count("data-incident-row=") in (1, 2)  # local days: one, or two across the date line
        assert client.get("/console/queue", params={"site": "plant-3"}).text.count("data-incident-row=") == 2
        # A possible accident (nobody was paged) is marked, and the tier filter keeps or leaves it.
        assert page.count("possible (not paged)") == 1 + 1  # the row's mark and the filter's option
        possible = client.get("/console/queue", params={"tier": "possible"}).text
        assert possible.count("data-incident-row=") == 1 and 'data-incident-row="new"' in possible
        assert client.get("/console/queue", params={"tier": "alarm"}).text.count("data-incident-row=") == 2
        for bad in ({"kind": "trip"}, {"reviewed": "maybe"}, {"since": "yesterday"}, {"camera": "../x"},
                    {"tier": "maybe"}):
            refused = client.get("/console/queue", params=bad)
            assert refused.status_code == 422 and "not valid" in refused.text, bad

        incident = client.get("/console/incidents/mid", params={"reviewed": "no"}).text
        # Within the unreviewed queue "mid" is the oldest: no next, and the way back keeps the filter.
        assert "data-next=" not in incident and 'data-previous="/console/incidents/new?reviewed=no"' in incident
        walked = client.get("/console/incidents/mid").text
        assert 'data-next="/console/incidents/old"' in walked and 'data-previous="/console/incidents/new"' in walked
        reviewed = client.get("/console/incidents/old").text
        assert "<b>slipped</b>" not in reviewed and "&lt;b&gt;slipped&lt;/b&gt;" in reviewed
        assert 'data-review-state="confirmed"' in reviewed
        assert client.get("/console/incidents/none").status_code == 404


def test_no_korean_outside_the_text_layer_in_templates_or_script() -> None:
    files = [p for p in CONSOLE.rglob("*") if p.suffix in (".html", ".js", ".css", ".py")]
    assert len(files) >= 8
    assert [str(p) for p in files if HANGUL.search(p.read_text(encoding="utf-8"))] == []
