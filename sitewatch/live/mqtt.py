"""MQTT channel (paho-mqtt 2), Frigate-style topics: sitewatch/<camera>/events and sitewatch/<camera>/status."""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote, urlsplit

from sitewatch.errors import SettingsError
from sitewatch.live.alerts import Alert
from sitewatch.live.urls import mask_url
from sitewatch.optional import require

log = logging.getLogger(__name__)

TOPIC_PREFIX = "sitewatch"
PUBLISH_WAIT_S = 5.0


def events_topic(camera: str) -> str:
    """Where a camera's alerts are published."""
    return f"{TOPIC_PREFIX}/{camera}/events"


def status_topic(camera: str) -> str:
    """Where a camera's state (up, down, ...) is published, retained."""
    return f"{TOPIC_PREFIX}/{camera}/status"


class Mqtt:
    """One broker connection (reconnected by paho in the background); credentials come from its URL only."""

    def __init__(self, url: str) -> None:
        mqtt = require("paho.mqtt.client", "live")
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise SettingsError(f"--mqtt: expected mqtt://[user:pass@]host[:port] or mqtts://..., got {mask_url(url)}")
        self.name = f"mqtt {mask_url(url)}"
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="", protocol=mqtt.MQTTv311)
        if parts.username:
            # The password is sent to this broker only: it is part of this broker's own URL.
            self._client.username_pw_set(unquote(parts.username), unquote(parts.password or "") or None)
        if parts.scheme == "mqtts":
            self._client.tls_set()
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.connect_async(parts.hostname, parts.port or (8883 if parts.scheme == "mqtts" else 1883))
        self._client.loop_start()

    def send(self, alert: Alert) -> None:
        """Publish the alert (QoS 1) on the camera's events topic."""
        info = self._client.publish(events_topic(alert.camera), alert.model_dump_json(), qos=1)
        info.wait_for_publish(PUBLISH_WAIT_S)

    def status(self, camera: str, state: dict) -> None:
        """Publish a camera's status (retained, so a new subscriber sees it at once)."""
        self._client.publish(status_topic(camera), json.dumps(state, default=str), qos=1, retain=True)

    def close(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
