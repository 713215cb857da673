"""`sitewatch watch` killed with `kill -9` mid-incident, while its webhook is failing, then started again.

A real RTSP server plays the fall clip, a loopback receiver answers 503 until told otherwise, mosquitto
carries MQTT. After the kill the incident has no clip analysis yet, the webhook alert is still pending and
the camera's retained MQTT status reads `offline`; after the restart the alert and the update each
arrive once, the update with the analysis of the clip the killed process had written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

import test_live
from test_live import (
    FALL_CLIP,
    SECRET,
    LoopbackReceiver,
    QuietHandler,
    RtspServer,
    needs_clip,
    serve_loopback,
    wait_until,
)

from sitewatch.settings import Settings
from sitewatch.store import IncidentQuery, Store
from sitewatch.store.records import DeliveryState

# The real servers' fixtures, shared with test_live.py.
rtsp, mosquitto = test_live.rtsp, test_live.mosquitto


class FlakyReceiver(LoopbackReceiver):
    """A loopback webhook receiver that answers 503 while `failing`; records every attempt and what it took."""

    def __init__(self) -> None:
        self.failing = True
        self.attempts: list[tuple[str, int]] = []  # (Idempotency-Key, status answered)
        self.accepted: list[dict] = []
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                key = self.headers.get("Idempotency-Key", "")
                if not hmac.compare_digest(self.headers.get("X-Sitewatch-Signature", ""), expected):
                    code = 401
                elif receiver.failing:
                    code = 503
                else:
                    code = 204
                    receiver.accepted.append(json.loads(body))
                receiver.attempts.append((key, code))
                self.send_response(code)
                self.end_headers()

        self._server, self.url = serve_loopback(Handler)


def _retained(broker: str, topic: str) -> dict:
    """The message the broker keeps on `topic`, as a new subscriber gets it."""
    import paho.mqtt.client as mqtt

    got: list[dict] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, m: got.append(json.loads(m.payload))
    host, port = broker.removeprefix("mqtt://").split(":")
    client.connect(host, int(port))
    client.subscribe(topic, qos=1)
    client.loop_start()
    try:
        return wait_until(lambda: got and got[-1], 10, f"the retained message on {topic}")
    finally:
        client.loop_stop()
        client.disconnect()


class WatchProcess:
    """`python -m sitewatch watch --config` in a subprocess, its logs in a file."""

    def __init__(self, tmp_path: Path, config: Path, run: int) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
        env.update(SITEWATCH_DATA_DIR=str(tmp_path / "data"), SITEWATCH_WEBHOOK_SECRET=SECRET,
                   SITEWATCH_WEBHOOK_RETRIES="10", SITEWATCH_LANG="en")
        self.log = tmp_path / f"run{run}.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "sitewatch", "-v", "watch", "--config", str(config), "--duration", "120"],
                stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=env,
            )

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@needs_clip
def test_kill_9_mid_incident_and_mid_retry_then_restart_delivers_new_and_update_once(
    tmp_path: Path, rtsp: Callable[..., RtspServer], mosquitto: str
) -> None:
    server = rtsp(fall=FALL_CLIP)
    receiver = FlakyReceiver()
    config = tmp_path / "cameras.yaml"
    # A long post-roll: the kill comes while the clip is still being recorded.
    config.write_text(json.dumps({"cameras": [{"name": "dock", "url": server.url("fall")}],
                                  "webhooks": [receiver.url], "mqtt": mosquitto,
                                  "pre_roll_s": 2, "post_roll_s": 12, "stall_s": 2}))
    clips = tmp_path / "data" / "incident-clips"
    first = WatchProcess(tmp_path, config, 1)
    try:
        wait_until(lambda: len(receiver.attempts) >= 2, 40, "two failed attempts of the webhook")
        wait_until(lambda: any(p.stat().st_size > 20_000 for p in clips.glob("*.mp4")), 15, "a second of clip")
        assert _retained(mosquitto, "sitewatch/dock/status")["state"] == "up"
    finally:
        first.stop(signal.SIGKILL)
    key = receiver.attempts[0][0]
    assert {k for k, _ in receiver.attempts} == {key} and not receiver.accepted

    # The broker published the dead connection's will.
    wait_until(lambda: _retained(mosquitto, "sitewatch/dock/status")["state"] == "offline", 15, "the will")
    store = Store.open(Settings(data_dir=tmp_path / "data"))
    try:
        [incident] = store.incidents(IncidentQuery(camera="dock")).items
        assert incident.analysis_id is None and incident.verdict is None and incident.error is None
        pending = [d for d in store.deliveries(incident.id) if d.channel.startswith("webhook")]
        assert [(d.type, d.state, d.alert_id) for d in pending] == [("new", DeliveryState.pending, key)]

        receiver.failing = False
        second = WatchProcess(tmp_path, config, 2)
        try:
            # The new connection's birth message replaces the will.
            wait_until(lambda: _retained(mosquitto, "sitewatch/dock/status")["state"] != "offline", 30,
                       "the camera's status published again")
            update = wait_until(
                lambda: [a for a in receiver.accepted if a["id"] == incident.id and a["type"] == "update"], 90,
                "the update of the killed process's incident")[0]
        finally:
            second.stop()
        mine = [a for a in receiver.accepted if a["id"] == incident.id]
        assert [a["type"] for a in mine] == ["new", "update"], "each arrives once, the new one first"
        assert mine[0]["alert_id"] == key, "the same alert, under the same idempotency key"
        assert update["analysis_id"] and update["verdict"], "the clip the killed process wrote was analysed"
        assert store.get_incident(incident.id).analysis_id == update["analysis_id"]
        assert all(d.state is DeliveryState.sent for d in store.deliveries(incident.id))
        assert not list(clips.glob(f"*_{incident.id}.mp4")), "the clip moved into the history"
    finally:
        store.close()
        receiver.close()
