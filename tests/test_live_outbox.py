"""The alert outbox with real webhook receivers on loopback: a refused alert is dead-lettered, not retried;
rows a killed process left for a channel the operator has since removed are given up, never sent."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

from sqlalchemy import update
from test_live import FALL_CLIP, LoopbackReceiver, QuietHandler, Watching, needs_clip, serve_loopback, wait_until

from sitewatch.store import IncidentQuery
from sitewatch.store.records import DeliveryState
from sitewatch.store.tables import DeliveryRow


class Answering(LoopbackReceiver):
    """A loopback webhook receiver answering every POST with `status`, counting them."""

    def __init__(self, status: int) -> None:
        self.posts = 0
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts += 1
                self.send_response(status)
                self.end_headers()

        self._server, self.url = serve_loopback(Handler)


@needs_clip
def test_a_refused_alert_is_dead_lettered_after_one_attempt(tmp_path: Path) -> None:
    refusing = Answering(400)
    try:
        with Watching(tmp_path, [{"name": "dock", "url": str(FALL_CLIP)}], webhooks=[refusing.url]) as w:
            incident = wait_until(lambda: w.store.incidents(IncidentQuery()).items, 20, "the incident")[0]
            dead = wait_until(lambda: [d for d in w.store.deliveries(incident.id) if d.state is DeliveryState.dead],
                              20, "the refused alert given up")[0]
    finally:
        refusing.close()
    assert dead.attempts == 1 and dead.error == "HTTP 400", "a 400 is not retried"
    letters = [json.loads(line) for line in (tmp_path / "data" / "dead-letters.jsonl").read_text().splitlines()]
    assert (dead.alert_id, "HTTP 400") in {(x["alert"]["alert_id"], x["error"]) for x in letters}


@needs_clip
def test_rows_left_for_a_channel_no_longer_configured_are_given_up(tmp_path: Path) -> None:
    busy = Answering(503)
    try:
        with Watching(tmp_path, [{"name": "dock", "url": str(FALL_CLIP)}], {"webhook_retries": 10},
                      webhooks=[busy.url]) as w:
            wait_until(lambda: busy.posts >= 1, 20, "a first failed attempt")
        # The rows stay pending (waiting for their retry); make their owner a process that has ended, as
        # after a kill -9.
        ended = subprocess.Popen(["true"])
        ended.wait()
        with w.store.engine.begin() as connection:
            connection.execute(update(DeliveryRow).values(worker=f"{socket.gethostname()}:{ended.pid}"))
        posts = busy.posts
        with Watching(tmp_path, [{"name": "dock", "url": str(tmp_path / "no-such-clip.mp4")}]) as again:
            rows = [d for i in again.store.incidents(IncidentQuery()).items for d in again.store.deliveries(i.id)]
    finally:
        busy.close()
    assert rows and all(d.state is DeliveryState.dead for d in rows), rows
    assert {d.error for d in rows} == {"the channel is no longer configured"}
    assert busy.posts == posts, "nothing more went to the removed webhook"
