"""The console's hardening over real HTTP (`sitewatch serve` on loopback): wrong tokens are slowed down per address
(429 with Retry-After, bearer, cookie and login form together), and every changing request riding on the console's
cookie needs the page's CSRF token (403 without it), while programs with the bearer header need none."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi", reason="the console needs the api extra: pip install 'sitewatch[api]'")

from test_api import TOKEN, Server, assert_problem  # noqa: E402
from test_console import csrf_of  # noqa: E402

from sitewatch.api.login_limit import LoginLimiter  # noqa: E402
from sitewatch.request import AnalysisRequest  # noqa: E402
from sitewatch.schema import Event, EventKind, ModelVersion, Report, Source, Verdict  # noqa: E402
from sitewatch.service.save import save_analysis  # noqa: E402
from sitewatch.settings import Settings  # noqa: E402
from sitewatch.store import IncidentRecord, Store  # noqa: E402
from sitewatch.video.probe import probe  # noqa: E402

AT = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)
CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos" / "dev06_cwlroda_c.mp4"


def _server(tmp_path: Path) -> Server:
    data = tmp_path / "data"
    store = Store.open(Settings(data_dir=data))
    try:
        event = Event(kind=EventKind.fall, start_s=1.0, end_s=2.0, confidence=0.8, keyframe_s=1.5)
        store.add_incident(IncidentRecord(id="fall-1", camera="dock-1", kind=EventKind.fall, confidence=0.8,
                                          started_at=AT, detected_at=AT, stream_s=1.0, event=event, updated_at=AT),
                           lambda _: [])
        if CLIP.is_file():
            # Its clip was judged by the site's own model: the incident page says so.
            report = Report(verdict=Verdict.accident, confidence=0.8, events=[event], detector="pose (fps 6)",
                            video=probe(CLIP), detector_model=ModelVersion(name="site-plant-3", trained_at=AT))
            analysis = save_analysis(store, CLIP, report, AnalysisRequest(lang="en"), Source.camera)
            store.link_incident("fall-1", analysis, lambda _: [], report)
    finally:
        store.close()
    return Server(data, None, SITEWATCH_API_TOKEN=TOKEN, SITEWATCH_LANG="en").start()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = _server(tmp_path)
    yield running
    running.stop()


def test_a_changing_request_on_the_console_cookie_needs_the_pages_csrf_token(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert browser.post("/console/login", data={"token": TOKEN}).status_code == 403, "a login form needs it too"
        assert browser.post("/console/login", data={"token": TOKEN, "csrf": csrf_of(browser)}).status_code == 303
        page = browser.get("/console/incidents/fall-1").text
        token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page)
        assert token and token[1] == browser.cookies.get("sitewatch_csrf"), "the page repeats the browser's token"
        if CLIP.is_file():
            assert "Decided by the model trained for site plant-3 on 2026-11-0" in page
        review = {"verdict": "false_alarm"}
        assert_problem(browser.post("/v1/incidents/fall-1/review", json=review), 403, "CSRF")
        assert_problem(browser.post("/v1/incidents/fall-1/review", json=review,
                                    headers={"X-CSRF-Token": "forged"}), 403, "CSRF")
        assert_problem(browser.put("/v1/cameras/dock-1/zones", json={"zones": []}), 403, "CSRF")
        done = browser.post("/v1/incidents/fall-1/review", json=review, headers={"X-CSRF-Token": token[1]})
        assert done.status_code == 200 and done.json()["review"]["verdict"] == "false_alarm"
        assert browser.get("/v1/incidents/fall-1").status_code == 200, "reading needs no token"
        assert_problem(browser.post("/console/logout"), 403, "CSRF")
        assert browser.get("/console").status_code == 200, "still logged in"
    with server.client(TOKEN) as program:
        # A program's bearer header is not something a browser adds by itself: no CSRF token needed.
        assert program.post("/v1/incidents/fall-1/review", json={"verdict": "confirmed"}).status_code == 200


def test_five_wrong_tokens_a_minute_then_the_address_waits(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as guesser:
        csrf = csrf_of(guesser)
        for n in range(4):
            assert guesser.post("/console/login", data={"token": f"guess-{n}", "csrf": csrf}).status_code == 401
        with server.client("guess-bearer") as bearer:
            assert_problem(bearer.get("/v1/incidents"), 401, "wrong")  # the fifth, by another door
            refused = bearer.get("/v1/incidents")
            assert_problem(refused, 429, "too many wrong tokens")
            assert 1 <= int(refused.headers["retry-after"]) <= 60
        page = guesser.post("/console/login", data={"token": TOKEN, "csrf": csrf})
        assert page.status_code == 429, "even the right token waits: a guess must not learn it was right"
        assert 1 <= int(page.headers["retry-after"]) <= 60 and "Too many wrong tokens" in page.text
        guesser.cookies.set("sitewatch_token", TOKEN)
        assert_problem(guesser.get("/v1/incidents"), 429, "try again in")
    with server.client() as anonymous:
        assert anonymous.get("/healthz").status_code == 200, "what needs no token is not refused"
    assert "guess-" not in server.log() and TOKEN not in server.log()


def test_the_wait_ends_a_window_after_the_first_wrong_token() -> None:
    now = [1000.0]
    limiter = LoginLimiter(failures=5, window_s=60.0, clock=lambda: now[0])
    for _ in range(5):
        assert limiter.retry_after("10.0.0.7") is None
        limiter.failed("10.0.0.7")
        now[0] += 1.0
    assert limiter.retry_after("10.0.0.7") == 55 and limiter.retry_after("10.0.0.8") is None
    now[0] += 55.0
    assert limiter.retry_after("10.0.0.7") is None, "the oldest guess left the window"
