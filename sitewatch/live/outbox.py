"""The alert outbox: every alert to every channel is a database row first; one thread per channel sends them.

A row is written before anything is sent and marked sent only once the channel took it, so a process
killed at any moment sends on its next start whatever was not confirmed: at least once, and the alert's
`alert_id` lets a receiver drop a repeat. Failed attempts are retried with doubling pauses; the last
failure leaves the row `dead` and a line in the dead-letter file. A channel sends in order, so an
incident's `update` never overtakes its `new`; a slow or dead receiver delays no other channel.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Protocol

from sitewatch.live.alerts import Alert
from sitewatch.store import Store
from sitewatch.store.records import DeliveryRecord

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 0.5
IDLE_CHECK_S = 5.0  # an idle channel looks at its rows this often even when not woken (rows adopted at start)


class DeliveryError(Exception):
    """One attempt failed; `retry` says whether another attempt could succeed."""

    def __init__(self, message: str, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class Channel(Protocol):
    """A way to tell someone: a webhook, an MQTT broker, an apprise service."""

    name: str  # for logs and the outbox's rows: never holds credentials

    def send(self, alert: Alert) -> None:
        """Make one attempt to deliver `alert`; raise DeliveryError when it did not arrive."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Outbox:
    """One channel's sending thread over its rows in the outbox."""

    def __init__(self, channel: Channel, store: Store, worker: str, retries: int, dead_letters: Path) -> None:
        self.channel = channel
        self._store = store
        self._worker = worker
        self._retries = retries
        self._dead_letters = dead_letters
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"send-{channel.name}", daemon=True)

    def start(self) -> None:
        """Start sending (rows adopted from a stopped process first)."""
        self._thread.start()

    def delivery(self, alert: Alert) -> DeliveryRecord:
        """The row that queues `alert` on this channel (the caller writes it with the incident's change)."""
        now = _now()
        return DeliveryRecord(alert_id=alert.alert_id, channel=self.channel.name, incident_id=alert.id,
                              type=alert.type, payload=alert.model_dump(mode="json"), next_at=now,
                              worker=self._worker, created_at=now)

    def wake(self) -> None:
        """New rows were written: look now."""
        self._wake.set()

    def close(self, wait_s: float = 10.0) -> None:
        """Send what is due (for up to `wait_s`), then stop; rows waiting for a retry stay for the next start."""
        self._closing.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(wait_s)
        self.channel.close()

    def _run(self) -> None:
        while True:
            self._wake.clear()  # before looking: a row written after this wakes the wait below
            try:
                delivery = self._store.next_delivery(self.channel.name, self._worker)
                wait_s = IDLE_CHECK_S if delivery is None else (delivery.next_at - _now()).total_seconds()
                if wait_s <= 0 and delivery is not None:
                    self._attempt(delivery)
                    continue
            except Exception:
                # The database is unreachable or locked for long: the rows stay; look again in a while.
                log.exception("%s: the outbox could not be read or updated", self.channel.name)
                wait_s = IDLE_CHECK_S
            if self._closing.is_set():
                return
            self._wake.wait(wait_s)

    def _attempt(self, delivery: DeliveryRecord) -> None:
        alert = Alert.model_validate(delivery.payload)
        try:
            self.channel.send(alert)
            error, retry = None, False
        except DeliveryError as exc:
            error, retry = str(exc), exc.retry
        except Exception as exc:  # a channel's own bug or library error: retried like a network one
            error, retry = f"{type(exc).__name__}: {exc}", True
        attempt = delivery.attempts + 1
        next_at = None
        if error is None:
            log.info("%s: %s alert %s sent", self.channel.name, alert.type, alert.alert_id)
        elif retry and attempt <= self._retries:
            next_at = _now() + timedelta(seconds=BACKOFF_FIRST_S * 2 ** (attempt - 1))
            log.warning("%s: alert %s not delivered (attempt %d): %s; trying again", self.channel.name,
                        alert.alert_id, attempt, error)
        else:
            log.error("%s: alert %s not delivered after %d attempt(s): %s; kept in %s", self.channel.name,
                      alert.alert_id, attempt, error, self._dead_letters)
            self._dead_letter(alert, error)
        self._store.delivery_tried(delivery.alert_id, delivery.channel, error, next_at)

    def _dead_letter(self, alert: Alert, error: str) -> None:
        """Append the undelivered alert to the dead-letter file (one JSON line) for a person or a script."""
        line = json.dumps({"failed_at": _now().isoformat(), "target": self.channel.name, "error": error,
                           "alert": alert.model_dump(mode="json")}, ensure_ascii=False)
        self._dead_letters.parent.mkdir(parents=True, exist_ok=True)
        with self._dead_letters.open("a", encoding="utf-8") as f:
            f.write(line + "\n")
