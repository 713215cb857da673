"""Each watched camera's learned normal, kept in the history so a restart does not forget it."""

from __future__ import annotations

import logging

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from sitewatch.detect.scene import SceneState
from sitewatch.store import Store

log = logging.getLogger(__name__)


class SceneBook:
    """Loads and keeps cameras' normals; without a history (None) it keeps nothing and every camera starts fresh."""

    def __init__(self, store: Store | None) -> None:
        self._store = store

    def load(self, camera: str) -> SceneState | None:
        """The normal the camera's last run left, or None (none kept, or kept by an incompatible version)."""
        if self._store is None:
            return None
        try:
            kept = self._store.camera_scene(camera)
            return SceneState.model_validate(kept) if kept is not None else None
        except (SQLAlchemyError, ValidationError) as exc:
            log.warning("camera %s: its kept normal cannot be read, it starts afresh: %s", camera, exc)
            return None

    def keep(self, camera: str, state: SceneState | None) -> None:
        """Write the camera's normal (a failure is logged: watching goes on without it)."""
        if self._store is None or state is None:
            return
        try:
            self._store.keep_camera_scene(camera, state.model_dump(mode="json"))
        except SQLAlchemyError as exc:
            log.warning("camera %s: its normal could not be kept: %s", camera, exc)
