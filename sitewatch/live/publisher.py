"""What a watcher publishes for a separate `serve`: each camera's status in the history and its newest frame as a
JPEG file in the data folder, on every change of state and every few seconds."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from sitewatch.live.camera import CameraWatch
from sitewatch.store import Store

log = logging.getLogger(__name__)

# The console refreshes its snapshots every 2 s: a fresher file would not be seen, a staler one would.
PUBLISH_EVERY_S = 2.0
SNAPSHOTS = "snapshots"


def snapshot_file(data: Path, camera: str) -> Path:
    """Where a watched camera's newest frame is published (`camera` is a configured or registered camera's name)."""
    return data / SNAPSHOTS / f"{camera}.jpg"


class Publisher:
    """A thread writing the cameras' statuses and snapshots every `every_s`, and at once when a state changes."""

    def __init__(self, cameras: list[CameraWatch], store: Store, worker: str, data: Path,
                 every_s: float = PUBLISH_EVERY_S) -> None:
        self._cameras = cameras
        self._store = store
        self._worker = worker
        self._data = data
        self._every_s = every_s
        self._changed = threading.Event()
        self._stopping = threading.Event()
        self._written: dict[str, bytes] = {}  # each camera's last published picture
        self._failing: set[str] = set()  # cameras whose snapshot could not be written (warned about once)
        self._thread = threading.Thread(target=self._loop, name="publish", daemon=True)

    def start(self) -> None:
        """Start publishing."""
        self._thread.start()

    def changed(self) -> None:
        """A camera's state changed: publish now rather than at the next tick."""
        self._changed.set()

    def stop(self) -> None:
        """Stop the thread, then publish the cameras' last words (stopped or ended) once more."""
        self._stopping.set()
        self._changed.set()
        if self._thread.is_alive():
            self._thread.join()
        self.publish()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._changed.clear()
            self.publish()
            self._changed.wait(self._every_s)

    def publish(self) -> None:
        """Write every camera's status into the history and each new frame over its snapshot file."""
        try:
            statuses = {camera.name: camera.status().model_dump(mode="json") for camera in self._cameras}
            self._store.publish_statuses(self._worker, self._every_s, statuses)
        except Exception:
            log.exception("the cameras' statuses could not be written to the history; a separate serve shows them "
                          "as quiet until they are")
        for camera in self._cameras:
            self._write_snapshot(camera)

    def _write_snapshot(self, camera: CameraWatch) -> None:
        jpeg = camera.snapshot_jpeg()
        if jpeg is None or jpeg is self._written.get(camera.name):
            return
        target = snapshot_file(self._data, camera.name)
        # Written aside and renamed over the old one, so a reader never gets half a picture.
        partial = target.with_name(f".{camera.name}.{os.getpid()}.partial")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(jpeg)
            os.replace(partial, target)
        except OSError as exc:
            if camera.name not in self._failing:
                log.warning("camera %s: its snapshot could not be written to %s: %s", camera.name, target, exc)
            self._failing.add(camera.name)
            return
        self._failing.discard(camera.name)
        self._written[camera.name] = jpeg
