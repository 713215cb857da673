"""Zones in the real Debian Chromium: log in, draw a danger zone with the mouse on a camera's snapshot, save it, and
the worker walking into it (dev01, replayed at its real rate) raises an intrusion seen in the review queue, whose
clip's keyframe shows the zone.

dev01's worker walks with his feet from (0.35, 0.51) to (0.49, 0.79) of the picture in the first 3 s of each
pass; the zone is drawn over the start of that path. With CONSOLE_SCREENSHOTS set to a folder (docs/ for the
README), the camera page with its zone is written there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("playwright", reason="the browser tests need playwright (the dev extra)")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

from browser import CHROMIUM, chromium
from test_api import TOKEN, Server
from test_live import FALL_CLIP, wait_until

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
    pytest.mark.skipif(not FALL_CLIP.is_file(), reason=f"the clip {FALL_CLIP} is not here"),
]
ZONE = "지게차 통로"
CORNERS = [(0.25, 0.40), (0.52, 0.40), (0.52, 0.66), (0.25, 0.66)]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    """`sitewatch serve` with a token, watching dev01 replayed at its real rate as camera "dock-1"."""
    config = tmp_path / "cameras.yaml"
    # No cooldown: the fall of one pass must not hold back the intrusion of the next.
    config.write_text(f"pre_roll_s: 2\npost_roll_s: 2\ncooldown_s: 0\ncameras:\n"
                      f"  - name: dock-1\n    url: {FALL_CLIP}\n    loop: true\n")
    server = Server(tmp_path / "data", None, SITEWATCH_API_TOKEN=TOKEN, SITEWATCH_WATCH_CONFIG=str(config),
                    SITEWATCH_LANG="ko")
    try:
        yield server.start()
    finally:
        server.stop()


def _intrusion(server: Server) -> Any:
    with server.client(TOKEN) as api:
        items = api.get("/v1/incidents", params={"camera": "dock-1", "kind": "intrusion"}).json()["items"]
    return items[0] if items else None


def test_draw_a_danger_zone_with_the_mouse_and_a_walk_into_it_is_an_intrusion(served: Server, tmp_path: Path) -> None:
    server = served
    shots = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}/console")
        page.fill("input[name=token]", TOKEN)
        page.click("form.login button[type=submit]")
        page.wait_for_url(f"{server.url}/console")

        page.click("a.zones-link")
        page.wait_for_url(f"{server.url}/console/cameras/dock-1")
        page.wait_for_function("() => { const i = document.querySelector('img[data-snapshot]');"
                               " return i && i.complete && i.naturalWidth > 0; }", timeout=45_000)
        assert page.locator("[data-zone-row]").count() == 0

        # Corners clicked on the picture, the last one double-clicked to close the polygon.
        box = page.locator("svg[data-overlay]").bounding_box()
        assert box is not None and box["width"] > 300
        at = [(box["x"] + x * box["width"], box["y"] + y * box["height"]) for x, y in CORNERS]
        for x, y in at[:-1]:
            page.mouse.click(x, y)
        page.mouse.dblclick(*at[-1])
        page.wait_for_selector("svg[data-overlay] polygon.unsaved")
        page.fill("input[name=zone-name]", ZONE)
        page.select_option("select[name=zone-kind]", "danger")
        page.fill("input[name=zone-dwell]", "1")
        page.click("[data-zone-action=save]")
        page.wait_for_selector(f"[data-zone-row='{ZONE}']")
        assert "저장했습니다" in page.inner_text(".zone-tools .status")

        with server.client(TOKEN) as api:
            zones = api.get("/v1/cameras/dock-1/zones").json()
        assert zones["updated_by"] == "operator" and len(zones["zones"]) == 1
        saved = zones["zones"][0]
        assert saved["name"] == ZONE and saved["kind"] == "danger" and saved["dwell_s"] == 1.0
        for (x, y), (want_x, want_y) in zip(saved["points"], CORNERS, strict=True):
            assert abs(x - want_x) < 0.01 and abs(y - want_y) < 0.01, saved["points"]
        # Shown over the snapshot: the saved polygon, drawn by the server.
        assert page.locator("svg[data-overlay] polygon.zone-danger").count() == 1
        page.screenshot(path=str(shots / "console-zones-ko.png"))

        # The next pass walks him through the zone: an intrusion, in the review queue.
        incident = wait_until(lambda: _intrusion(server), 60, "the intrusion incident")
        page.click("header nav a[href='/console/queue']")
        row = page.locator(f"[data-incident-row='{incident['id']}']")
        assert "위험구역 진입" in row.inner_text()

        # The grid shows the zone over the camera's snapshot too; the editor deletes it.
        page.click("header nav a[href='/console']")
        assert page.locator("[data-camera='dock-1'] svg polygon.zone-danger").count() == 1
        page.click("a.zones-link")
        page.click(f"[data-zone-delete='{ZONE}']")
        page.wait_for_selector(".zones tr.empty")
        with server.client(TOKEN) as api:
            assert api.get("/v1/cameras/dock-1/zones").json()["zones"] == []

        # The intrusion's clip is judged through the zones in force when it was raised (deleted since): the
        # intrusion found again in it, and its keyframe drawn with the zone, shown on the incident's page.
        analysed = wait_until(lambda: (_intrusion(server) or {}).get("analysis_id"), 60, "the clip's analysis")
        with server.client(TOKEN) as api:
            report = api.get(f"/v1/analyses/{analysed}/report").json()
        assert [z["name"] for z in report["zones"]] == [ZONE]
        assert [e["kind"] for e in report["events"]] == ["intrusion"]
        page.goto(f"{server.url}/console/incidents/{incident['id']}")
        page.wait_for_function("() => { const i = document.querySelector('.keyframes img');"
                               " return i && i.complete && i.naturalWidth > 0; }")
