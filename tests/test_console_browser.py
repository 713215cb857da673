"""The console in the real Debian Chromium: log in with the token, see a live RTSP camera's snapshot, get the
fall's incident in the review queue, play its clip, mark it a false alarm with the `f` key.

The camera is a real RTSP stream (tests/rtsp_server.py) of a real fall clip (dev01) at its real rate; the
server is `sitewatch serve` in a subprocess watching it. With CONSOLE_SCREENSHOTS set to a folder
(docs/ for the README), the Korean and English screenshots are written there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright", reason="the browser tests need playwright (the dev extra)")

from browser import CHROMIUM, chromium
from test_api import TOKEN, Server
from test_live import FALL_CLIP, RtspServer, rtsp_unavailable, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not FALL_CLIP.is_file(), reason=f"the fall clip {FALL_CLIP} is not here"),
]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Server, str]]:
    """`sitewatch serve` with a token, watching the RTSP stream of the fall clip as camera "dock-1"."""
    reason = rtsp_unavailable()
    if reason:
        pytest.skip(reason)
    rtsp = RtspServer({"fall": FALL_CLIP}).start()
    config = tmp_path / "cameras.yaml"
    config.write_text(f"pre_roll_s: 2\npost_roll_s: 2\nstall_s: 3\ncameras:\n"
                      f"  - name: dock-1\n    url: {rtsp.url('fall')}\n    site: plant-3\n")
    server = Server(tmp_path / "data", None, SITEWATCH_API_TOKEN=TOKEN, SITEWATCH_WATCH_CONFIG=str(config),
                    SITEWATCH_LANG="ko")
    try:
        yield server.start(), rtsp.url("fall")
    finally:
        server.stop()
        rtsp.stop()


def _incident_with_clip(server: Server) -> Any:
    with server.client(TOKEN) as api:
        items = api.get("/v1/incidents", params={"camera": "dock-1"}).json()["items"]
    return next((item for item in items if item["analysis_id"]), None)


def test_log_in_watch_review_a_fall_in_chromium(watched: tuple[Server, str], tmp_path: Path) -> None:
    server, _ = watched
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}/console")
        assert page.url.endswith("/console/login"), "no token yet: the login page"
        page.fill("input[name=token]", TOKEN)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{server.url}/console")
        assert TOKEN not in page.url

        # The camera's snapshot loads (and keeps loading as the grid refreshes every 2 s).
        page.wait_for_function("() => { const i = document.querySelector('img[data-snapshot]');"
                               " return i && i.complete && i.naturalWidth > 0; }", timeout=45_000)
        page.wait_for_function("() => document.querySelector('[data-state]').dataset.state === 'up'")
        first = page.get_attribute("img[data-snapshot]", "src")
        page.wait_for_function("(first) => { const i = document.querySelector('img[data-snapshot]');"
                               " return i.src !== first && i.complete && i.naturalWidth > 0; }", arg=first)

        # The fall at 3.7 s raises an incident; its clip is analysed a few seconds after the post-roll.
        incident = wait_until(lambda: _incident_with_clip(server), 120, "the fall's incident with its clip")
        page.click("header nav a[href='/console/queue']")
        row = page.locator(f"[data-incident-row='{incident['id']}'] a")
        row.click()
        page.wait_for_url(f"**/console/incidents/{incident['id']}*")
        page.wait_for_function("() => document.querySelector('video').readyState >= 3", timeout=45_000)
        assert page.evaluate("() => document.querySelector('video').duration") > 3.0

        page.keyboard.press("f")
        page.wait_for_selector("[data-review-state='false_alarm']")
        with server.client(TOKEN) as api:
            review = api.get(f"/v1/incidents/{incident['id']}").json()["review"]
        assert review["verdict"] == "false_alarm" and review["reviewer"] == "operator"

        # Asking about it on its page: the answer streams in, in the page's language, and is kept.
        page.fill(".chat input[name=question]", "사람이 언제 넘어졌나요?")
        page.press(".chat input[name=question]", "Enter")
        page.wait_for_function("() => /초/.test(document.querySelector('.chat .turns li:last-child p').textContent)",
                               timeout=30_000)
        with server.client(TOKEN) as api:
            turns = api.get(f"/v1/analyses/{incident['analysis_id']}/chat").json()
        assert [t["question"] for t in turns] == ["사람이 언제 넘어졌나요?"] and turns[0]["lang"] == "ko"

        # The grid now names the camera's last incident (a screenshot in Korean), then the incident in English.
        page.click("header nav a[href='/console']")
        page.wait_for_function("() => { const i = document.querySelector('img[data-snapshot]');"
                               " return i && i.complete && i.naturalWidth > 0; }")
        assert page.locator(f".last a[href='/console/incidents/{incident['id']}']").count() == 1
        # Its alarm rate over the week, and the share confirmed: the one review was a false alarm.
        assert "검토한 1건 중 0% 확인됨" in page.inner_text("[data-alarms]")
        page.screenshot(path=str(shots / "console-ko.png"))
        page.go_back()
        page.click("[data-lang='en']")
        page.wait_for_selector("html[lang='en']")
        page.wait_for_function("() => document.querySelector('video').readyState >= 2")
        page.screenshot(path=str(shots / "console-en.png"), full_page=True)
        assert "False alarm" in page.inner_text("main")
        page.click("header nav a[href='/console/queue']")
        assert "false alarm" in page.inner_text(f"[data-incident-row='{incident['id']}']")
    for name in ("console-ko.png", "console-en.png"):
        assert (shots / name).read_bytes()[:8] == PNG
