"""`sitewatch watch` and `sitewatch serve` as two processes sharing one history and data folder: the API and the
console show the cameras the watch publishes (state, counters, snapshot), and say when their watcher went quiet."""

from __future__ import annotations

import io
import json
import signal
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

from PIL import Image
from test_api import TOKEN, Server
from test_live import FALL_CLIP, needs_clip, wait_until
from test_live_crash import WatchProcess

from sitewatch.live.camera import CameraState
from sitewatch.live.published import QUIET_AFTER, heard
from sitewatch.store.records import PublishedStatus

NOW = datetime(2026, 11, 3, 8, 0, tzinfo=timezone.utc)


def _published(state: str, written_s_ago: float, every_s: float = 2.0) -> PublishedStatus:
    status = {"camera": "dock-1", "url": "rtsp://***@cam/1", "state": state, "since": NOW.isoformat(),
              "frames_analysed": 42}
    return PublishedStatus(camera="dock-1", worker="host-a:17", status=status, every_s=every_s,
                           updated_at=NOW - timedelta(seconds=written_s_ago))


def test_a_camera_is_quiet_only_once_its_watcher_missed_several_writes_and_never_after_its_last_word() -> None:
    assert heard(_published("up", QUIET_AFTER * 2.0 - 0.5), NOW).state is CameraState.up  # type: ignore[union-attr]
    quiet = heard(_published("up", QUIET_AFTER * 2.0 + 0.5), NOW)
    assert quiet is not None and quiet.state is CameraState.quiet and quiet.frames_analysed == 42
    assert quiet.since == NOW - timedelta(seconds=QUIET_AFTER * 2.0 + 0.5)
    assert quiet.error is not None and quiet.error.startswith("no word from its watcher (host-a:17) since 2026-11-03")
    # A slower publisher is given its own intervals.
    assert heard(_published("down", 30, every_s=10), NOW).state is CameraState.down  # type: ignore[union-attr]
    # A watcher that stopped or played its file out said so; its silence since is expected.
    assert heard(_published("stopped", 3600), NOW).state is CameraState.stopped  # type: ignore[union-attr]
    assert heard(_published("ended", 3600), NOW).state is CameraState.ended  # type: ignore[union-attr]
    assert heard(_published("exploded", 0), NOW) is None


def _camera(api: Any, state: str, more_than: int = 0) -> dict | None:
    """dock-1 as /v1/cameras lists it, once it is in `state` with more than `more_than` frames analysed."""
    listed = api.get("/v1/cameras")
    assert listed.status_code == 200, listed.text
    found = [c for c in listed.json() if c["camera"] == "dock-1"]
    return found[0] if found and found[0]["state"] == state and found[0]["frames_analysed"] > more_than else None


@pytest.mark.slow
@needs_clip
def test_a_separate_serve_shows_the_watchs_camera_its_snapshot_and_when_it_went_quiet(tmp_path: Path) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text(json.dumps({"cameras": [{"name": "dock-1", "url": str(FALL_CLIP), "loop": True}],
                                  "pre_roll_s": 2, "post_roll_s": 2}))
    data = tmp_path / "data"
    # A picture planted where an unregistered camera's would be: no request can read it.
    (data / "snapshots").mkdir(parents=True)
    (data / "snapshots" / "intruder.jpg").write_bytes(b"\xff\xd8\xff not for you")
    watch = WatchProcess(tmp_path, config, 1)
    server = Server(data, None, SITEWATCH_API_TOKEN=TOKEN).start()
    try:
        with server.client(TOKEN) as api:
            api.cookies.set("sitewatch_lang", "en")
            up = wait_until(lambda: _camera(api, "up"), 60, "the watch's camera up with frames analysed")
            assert up["url"] == str(FALL_CLIP)
            grown = wait_until(lambda: _camera(api, "up", up["frames_analysed"]), 15, "frames analysed growing")
            snapshot = wait_until(lambda: (r := api.get("/v1/cameras/dock-1/snapshot.jpg")).status_code == 200 and r,
                                  15, "the published snapshot")
            assert snapshot.headers["content-type"] == "image/jpeg"
            assert snapshot.headers["cache-control"] == "no-store"
            picture = Image.open(io.BytesIO(snapshot.content))
            assert picture.format == "JPEG" and max(picture.size) <= 640
            for name in ("intruder", "nobody", "..%2F..%2Fcameras.yaml", ".."):
                assert api.get(f"/v1/cameras/{name}/snapshot.jpg").status_code in (404, 422), name
            grid = api.get("/console")
            assert grid.status_code == 200
            assert 'data-camera="dock-1"' in grid.text and 'data-state="up"' in grid.text
            assert 'src="/v1/cameras/dock-1/snapshot.jpg"' in grid.text
            editor = api.get("/console/cameras/dock-1")
            assert editor.status_code == 200 and 'data-zones-editor="dock-1"' in editor.text

            watch.stop(signal.SIGKILL)
            quiet = wait_until(lambda: _camera(api, "quiet"), 30, "the camera shown quiet")
            assert quiet["frames_analysed"] >= grown["frames_analysed"]
            assert quiet["error"].startswith("no word from its watcher (") and " since " in quiet["error"]
            grid = api.get("/console").text
            assert 'data-state="quiet"' in grid and "no word from its watcher since" in grid
            # Its last picture is still there to draw zones on.
            assert api.get("/v1/cameras/dock-1/snapshot.jpg").status_code == 200

            # Started again it is up again; stopped cleanly it says so, and that is not quiet.
            watch = WatchProcess(tmp_path, config, 2)
            wait_until(lambda: _camera(api, "up"), 60, "the camera up again")
            told = time.monotonic()
            watch.stop(signal.SIGTERM)
            assert watch.proc.returncode == 0
            # Cameras stopped, clips finished, outbox flushed: seconds, not the 30 s of a status line.
            assert time.monotonic() - told < 10, "SIGTERM stops the watch at once"
            stopped = wait_until(lambda: _camera(api, "stopped"), 10, "the camera shown stopped")
            assert stopped["error"] is None
    finally:
        watch.stop(signal.SIGKILL)
        server.stop()
