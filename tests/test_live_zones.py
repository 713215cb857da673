"""Zones on a live camera: a real clip (dev01: a worker carries a box across a warehouse floor, slips at ~3.7 s and
stays down) played at its real rate.

The detector sees his feet go from (0.35, 0.51) to (0.49, 0.79) of the picture while he walks, and lie around
(0.56, 0.76) once he is down; the zones below are drawn over those places.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

import test_live
from test_api import TOKEN, Server
from test_live import FALL_CLIP, Watching, WebhookReceiver, needs_clip, wait_until

from sitewatch.live.camera import CameraState

webhook = test_live.webhook
pytestmark = [pytest.mark.slow, needs_clip]

WALK = {"name": "forklift lane", "kind": "danger", "dwell_s": 1.0,
        "points": [[0.25, 0.40], [0.52, 0.40], [0.52, 0.66], [0.25, 0.66]]}
# Where he goes down: the fall's box ends at 0.68 of the picture's height, give or take a frame's jitter.
MAT = {"name": "mat", "kind": "ignore", "points": [[0.42, 0.62], [0.85, 0.62], [0.85, 0.98], [0.42, 0.98]]}
WHERE_HE_LIES = {"name": "bay", "kind": "danger", "dwell_s": 1.0,
                 "points": [[0.45, 0.62], [0.75, 0.62], [0.75, 0.95], [0.45, 0.95]]}


def test_a_walk_into_a_danger_zone_is_an_intrusion_and_a_fall_on_the_mat_is_no_alarm(
    tmp_path: Path, webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sitewatch.live.zones")
    camera = {"name": "dock-1", "url": str(FALL_CLIP), "zones": [WALK, MAT]}
    with Watching(tmp_path, [camera], webhooks=[webhook.url]) as w:
        new = wait_until(lambda: webhook.of("new"), 15, "the intrusion alert")[0]
        assert new["kind"] == "intrusion" and new["camera"] == "dock-1"
        assert new["stream_s"] < 2.5, "he is in the lane from the start; the dwell is 1 s"
        update = wait_until(lambda: webhook.of("update"), 40, "the intrusion's clip analysed")[0]
        wait_until(lambda: w.watcher.statuses()[0].state is CameraState.ended, 20, "the clip to play out")
        report = w.store.report(update["analysis_id"])
        folder = w.store.report_folder(update["analysis_id"])
    # The fall at 3.7 s came within the cooldown: it would have made the incident a fall. On the mat it did not.
    assert [a["kind"] for a in webhook.of("new")] == ["intrusion"]
    assert [a["kind"] for a in webhook.of("update")] == ["intrusion"]
    assert any("fall" in r.getMessage() and "ignore zone 'mat'" in r.getMessage() for r in caplog.records)
    # The clip is judged through the camera's zones: the intrusion found again, the zones drawn on its keyframes.
    assert [z.name for z in report.zones] == ["forklift lane", "mat"]
    assert any(e.kind.value == "intrusion" for e in report.events), report.events
    assert not any(e.kind.value == "fall" for e in report.events)
    assert list((folder / "keyframes").glob("*intrusion*.jpg"))


def test_a_zone_saved_through_a_separate_serve_applies_to_a_running_watch(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    camera = {"name": "dock-1", "url": str(FALL_CLIP), "loop": True}
    with Watching(tmp_path, [camera], webhooks=[webhook.url], cooldown_s=0) as w:
        server = Server(w.settings.data_dir, None, SITEWATCH_API_TOKEN=TOKEN).start()
        try:
            fall = wait_until(lambda: webhook.of("new"), 20, "the fall, with no zone yet")[0]
            assert fall["kind"] in ("fall", "person_lost_after_fall")
            # He now lies in the bay until the clip loops at 11.3 s: a danger zone drawn over him now.
            with server.client(TOKEN) as api:
                saved = api.put("/v1/cameras/dock-1/zones", json={"zones": [WHERE_HE_LIES]})
            put_at = time.time()
            assert saved.status_code == 200, saved.text
            arrived = wait_until(lambda: [a for t, a in webhook.alerts if a["type"] == "new"
                                          and a["kind"] == "intrusion"] and time.time(), 10, "the intrusion")
        finally:
            server.stop()
        applied_s = arrived - put_at
        assert applied_s < 5.0, f"the saved zone took {applied_s:.1f} s to raise its intrusion"
        assert w.watcher.cameras[0].zones.zones[0].name == "bay"
    print(f"zone saved -> intrusion alert: {applied_s:.2f} s (a poll of at most 1 s, then the 1 s dwell)")
