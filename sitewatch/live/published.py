"""The cameras other processes watch, as their watchers published them: statuses from the history (quiet once a
watcher stops writing) and newest frames from the data folder."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path

from pydantic import ValidationError

from sitewatch.live.camera import CameraState, CameraStatus
from sitewatch.live.publisher import snapshot_file
from sitewatch.store import Store
from sitewatch.store.records import PublishedStatus
from sitewatch.text.clock import local_time

log = logging.getLogger(__name__)

# Intervals without a word before a watcher counts as quiet: a busy machine can hold a write back a few seconds,
# and a camera flickering to quiet would teach the operator to ignore it.
QUIET_AFTER = 5
# A watcher that stopped or played its file out said so last; its silence since is expected.
LAST_WORDS = (CameraState.stopped, CameraState.ended)


def heard(published: PublishedStatus, now: datetime) -> CameraStatus | None:
    """The status as published, or quiet (since its last word, saying so) when its watcher has gone silent."""
    try:
        status = CameraStatus.model_validate(published.status)
    except ValidationError as exc:
        log.warning("camera %s: its published status cannot be read: %s", published.camera, exc)
        return None
    silent = now - published.updated_at > timedelta(seconds=QUIET_AFTER * published.every_s)
    if status.state in LAST_WORDS or not silent:
        return status
    said = local_time(published.updated_at, seconds=True)
    return status.model_copy(update={
        "state": CameraState.quiet, "since": published.updated_at,
        "error": f"no word from its watcher ({published.worker}) since {said}",
    })


def published_statuses(store: Store, skip: set[str]) -> list[CameraStatus]:
    """Every camera a watcher published, but those in `skip` (the ones this process watches itself)."""
    now = datetime.now(timezone.utc)
    statuses = [heard(p, now) for p in store.published_statuses() if p.camera not in skip]
    return [s for s in statuses if s is not None]


def published_snapshot(store: Store, data: Path, camera: str) -> bytes | None:
    """A registered camera's newest published frame (JPEG), or None: no such camera, or no frame published."""
    if store.published_status(camera) is None:
        return None
    try:
        return snapshot_file(data, camera).read_bytes()
    except FileNotFoundError:
        return None
