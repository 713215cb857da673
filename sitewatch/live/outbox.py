"""Each notification channel sends from its own thread, so a slow or dead receiver delays no other."""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

from sitewatch.live.alerts import Alert

log = logging.getLogger(__name__)

OUTBOX_SIZE = 100  # alerts waiting per channel; past that the oldest is the one a dead receiver loses


class Channel(Protocol):
    """A way to tell someone: a webhook, an MQTT broker, an apprise service."""

    name: str  # for logs: never holds credentials

    def send(self, alert: Alert) -> None:
        """Deliver one alert (retrying as the channel sees fit); raise when it finally cannot."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class Outbox:
    """A channel with its queue and sending thread."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._queue: queue.Queue[Alert | None] = queue.Queue(OUTBOX_SIZE)
        self._thread = threading.Thread(target=self._run, name=f"send-{channel.name}", daemon=True)
        self._thread.start()

    def put(self, alert: Alert) -> None:
        """Queue an alert without waiting."""
        while True:
            try:
                self._queue.put_nowait(alert)
                return
            except queue.Full:
                try:
                    dropped = self._queue.get_nowait()
                    log.error("%s: outbox full, alert %s not sent", self.channel.name, getattr(dropped, "id", ""))
                except queue.Empty:
                    pass

    def close(self, wait_s: float = 10.0) -> None:
        """Send what is queued (for up to `wait_s`), then stop."""
        self._queue.put(None)
        self._thread.join(wait_s)
        self.channel.close()

    def _run(self) -> None:
        while (alert := self._queue.get()) is not None:
            try:
                self.channel.send(alert)
            except Exception as exc:
                log.error("%s: alert %s not delivered: %s", self.channel.name, alert.id, exc)
