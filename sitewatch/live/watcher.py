"""One process watching several cameras: builds the cameras, the incident desk and the notification channels."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from sitewatch.live.camera import CameraState, CameraStatus, CameraWatch
from sitewatch.live.config import WatchConfig
from sitewatch.live.incidents import IncidentDesk, camera_request
from sitewatch.live.outbox import Channel, Outbox
from sitewatch.live.publisher import Publisher
from sitewatch.live.scenes import SceneBook
from sitewatch.service.jobs import worker_alive
from sitewatch.settings import Settings
from sitewatch.store import Store
from sitewatch.store.database import data_dir
from sitewatch.store.store import worker_name

log = logging.getLogger(__name__)

# What /healthz lists for the operator to fix (codes, not sentences: programs read them).
UNSIGNED_WEBHOOKS = "webhooks_unsigned"
DEAD_LETTERS = "dead-letters.jsonl"  # alerts every attempt failed for, one JSON line each, in the data folder
RING_MARGIN_S = 3.0  # the ring holds pre-roll + post-roll + this, so a clip cut a little late is still whole
# How often the history is asked whether a camera's zones changed (one small read): a zone saved in the
# console applies within about this long, whether `serve` runs the cameras or a separate `watch` does.
ZONES_POLL_S = 1.0


def build_channels(config: WatchConfig, settings: Settings) -> list[Channel]:
    """The notification channels the operator configured (webhooks, MQTT, apprise)."""
    from sitewatch.live.webhook import Webhook

    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    channels: list[Channel] = [Webhook(url, secret, settings.timeout_s) for url in config.webhooks]
    if config.mqtt:
        from sitewatch.live.mqtt import Mqtt

        channels.append(Mqtt(config.mqtt, [c.name for c in config.cameras]))
    if config.notify:
        from sitewatch.live.apprise_push import AppriseChannel

        channels.append(AppriseChannel(config.notify))
    return channels


class Watcher:
    """Cameras read and analysed in their own threads; incidents raised, stored and sent to every channel."""

    def __init__(
        self, config: WatchConfig, settings: Settings, store: Store,
        on_status: Callable[[CameraStatus], None] | None = None,
    ) -> None:
        from sitewatch.service.build import detector_for

        self.config = config
        self._on_status = on_status
        channels = build_channels(config, settings)
        # Channels that also carry camera states (MQTT's retained status topics).
        self._status_channels = [c for c in channels if hasattr(c, "status")]
        self.store = store
        self.worker = worker_name()
        self.warnings = [UNSIGNED_WEBHOOKS] if config.webhooks and settings.webhook_secret is None else []
        dead_letters = data_dir(settings) / DEAD_LETTERS
        self.outboxes = [Outbox(c, store, self.worker, settings.webhook_retries, dead_letters) for c in channels]
        cameras = config.resolved(settings.lang)
        self.desk = IncidentDesk(config, cameras, settings, store, self.outboxes, self.worker)
        ring_s = config.pre_roll_s + config.post_roll_s + RING_MARGIN_S
        scenes = SceneBook(store)
        self.cameras = [
            # One detector (one pose interpreter) per camera, at the camera's rate: cameras run in parallel threads.
            # It decides with the model trained for the camera or its site, and moves to a newer one as it comes.
            CameraWatch(camera, detector_for(camera_request(camera, settings, site=camera.site, camera=camera.name),
                                             threads=1, settings=settings), ring_s, config.stall_s,
                        self.desk.on_event, self._status_changed, camera.down_alert_s or 0.0, scenes)
            for camera in cameras
        ]
        # Their statuses and snapshots in the history and the data folder, for a `serve` in another process.
        self._publisher = Publisher(self.cameras, store, self.worker, data_dir(settings))
        self._done = threading.Event()
        self._stopping = threading.Event()
        self._zones_at: dict[str, datetime | None] = {}
        self._zones_poll = threading.Thread(target=self._poll_zones, name="zones", daemon=True)

    def _status_changed(self, status: CameraStatus) -> None:
        for channel in self._status_channels:
            channel.status(status.camera, status.model_dump(mode="json"))  # type: ignore[attr-defined]
        if self._on_status is not None:
            self._on_status(status)
        self._publisher.changed()
        if all(c.status().state in (CameraState.ended, CameraState.stopped) for c in self.cameras):
            self._done.set()

    def start(self) -> Watcher:
        """Take over what a stopped process left unsent or unfinished, start sending, start every camera."""
        if UNSIGNED_WEBHOOKS in self.warnings:
            log.warning("webhooks go out unsigned: set SITEWATCH_WEBHOOK_SECRET so receivers can check them")
        channels = {outbox.channel.name for outbox in self.outboxes}
        unfinished = self.store.adopt_unfinished(self.worker, worker_alive, channels)
        for outbox in self.outboxes:
            outbox.start()
        self.desk.resume(unfinished)
        for camera in self.cameras:
            # Registered in the history (so the console and the API know it) with the zones that apply to it.
            zones = self.store.watch_camera(camera.name, camera.config.site, camera.config.zones)
            camera.zones.set_zones(zones.plain())
            self._zones_at[camera.name] = zones.updated_at
            log.info("watching %s (%s) with %d zone(s)", camera.name, camera.status().url, len(zones.zones))
            camera.start()
        self._zones_poll.start()
        self._publisher.start()
        return self

    def _poll_zones(self) -> None:
        """Apply zones changed in the history (by the console or the API) to the running cameras."""
        names = [camera.name for camera in self.cameras]
        while not self._stopping.wait(ZONES_POLL_S):
            try:
                changed_at = self.store.zones_changed_at(names)
                for camera in self.cameras:
                    if changed_at.get(camera.name) == self._zones_at.get(camera.name):
                        continue
                    zones = self.store.camera_zones(camera.name)
                    camera.zones.set_zones(zones.plain())
                    self._zones_at[camera.name] = zones.updated_at
                    log.info("camera %s: %d zone(s) now apply (saved by %s)", camera.name, len(zones.zones),
                             zones.updated_by)
            except Exception:
                log.exception("the zones could not be read from the history; the cameras keep theirs")

    def wait(self, timeout_s: float | None = None) -> bool:
        """Block until every camera has ended (files without --loop) or `timeout_s`; True when they all ended."""
        return self._done.wait(timeout_s)

    def statuses(self) -> list[CameraStatus]:
        """Every camera's status now."""
        return [c.status() for c in self.cameras]

    def snapshot_jpeg(self, camera: str) -> bytes | None:
        """The newest frame of the watched camera named `camera` as a JPEG; None when no such camera or frame."""
        watch = next((c for c in self.cameras if c.name == camera), None)
        return watch.snapshot_jpeg() if watch is not None else None

    def stop(self) -> None:
        """Stop the cameras, finish pending incident clips, send what is queued, close the channels."""
        self._stopping.set()
        if self._zones_poll.is_alive():
            self._zones_poll.join()
        for camera in self.cameras:
            camera.stop()
        self._publisher.stop()
        self.desk.close()
        for outbox in self.outboxes:
            outbox.close()
