"""MQTT channel (paho-mqtt 2), Frigate-style topics: sitewatch/<camera>/events and sitewatch/<camera>/status.

Each camera has its own broker connection, whose last will is its status topic saying `offline`
(retained): a process that dies, even by `kill -9`, leaves no camera shown `up`. On every (re)connect the
camera's current status is published again (the birth message), replacing a will the broker sent while
the connection was down.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

from sitewatch.errors import SettingsError
from sitewatch.live.alerts import Alert
from sitewatch.live.outbox import DeliveryError
from sitewatch.live.urls import mask_url
from sitewatch.optional import require

log = logging.getLogger(__name__)

TOPIC_PREFIX = "sitewatch"
PUBLISH_WAIT_S = 5.0
OFFLINE = "offline"  # the state the will publishes: the process watching the camera is gone


def events_topic(camera: str) -> str:
    """Where a camera's alerts are published."""
    return f"{TOPIC_PREFIX}/{camera}/events"


def status_topic(camera: str) -> str:
    """Where a camera's state (up, down, ..., offline) is published, retained."""
    return f"{TOPIC_PREFIX}/{camera}/status"


class Mqtt:
    """A broker connection per camera (reconnected by paho in the background); credentials come from its URL only."""

    def __init__(self, url: str, cameras: list[str]) -> None:
        self._mqtt = require("paho.mqtt.client", "live")
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise SettingsError(f"--mqtt: expected mqtt://[user:pass@]host[:port] or mqtts://..., got {mask_url(url)}")
        self.name = f"mqtt {mask_url(url)}"
        self._url = parts
        self._lock = threading.Lock()
        # The latest status of each camera: the birth message of its next (re)connect.
        self._latest: dict[str, str] = {c: json.dumps({"camera": c, "state": "connecting"}) for c in cameras}
        self._clients = {camera: self._connect(camera) for camera in cameras}

    def _connect(self, camera: str) -> Any:
        mqtt, parts = self._mqtt, self._url
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
        if parts.username:
            # The password is sent to this broker only: it is part of this broker's own URL.
            client.username_pw_set(unquote(parts.username), unquote(parts.password or "") or None)
        if parts.scheme == "mqtts":
            client.tls_set()
        client.will_set(status_topic(camera), json.dumps({"camera": camera, "state": OFFLINE}), qos=1, retain=True)
        client.on_connect = lambda c, _userdata, _flags, reason, _props: self._birth(c, camera, reason)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.connect_async(parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883))
        client.loop_start()
        return client

    def _birth(self, client: Any, camera: str, reason: Any) -> None:
        if reason.is_failure:
            log.warning("%s: camera %s not connected: %s", self.name, camera, reason)
            return
        with self._lock:
            payload = self._latest[camera]
        client.publish(status_topic(camera), payload, qos=1, retain=True)

    def send(self, alert: Alert) -> None:
        """Publish the alert (QoS 1) on the camera's events topic; not confirmed by the broker in time is a failure."""
        info = self._clients[alert.camera].publish(events_topic(alert.camera), alert.model_dump_json(), qos=1)
        try:
            info.wait_for_publish(PUBLISH_WAIT_S)
        except (RuntimeError, ValueError) as exc:
            raise DeliveryError(f"not published: {exc}") from None
        if not info.is_published():
            raise DeliveryError(f"the broker did not confirm within {PUBLISH_WAIT_S:g} s")

    def status(self, camera: str, state: dict) -> None:
        """Publish a camera's status (retained, so a new subscriber sees it at once)."""
        payload = json.dumps(state, default=str)
        with self._lock:
            self._latest[camera] = payload
        self._clients[camera].publish(status_topic(camera), payload, qos=1, retain=True)

    def close(self) -> None:
        """Disconnect every camera's connection (the last status sent, `stopped`, stays retained)."""
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()
