"""A watched camera's learned normal is kept in the history and carried into its next run."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

from test_live import FALL_CLIP, Watching, _settings, needs_clip, wait_until

from sitewatch.detect.scene import SceneState
from sitewatch.live.camera import CameraState
from sitewatch.live.scenes import SceneBook
from sitewatch.store import Store


def _kept(tmp_path: Path, camera: str) -> SceneState | None:
    """What the history holds for `camera` once its watcher stopped (the last keep is on stopping)."""
    store = Store.open(_settings(tmp_path))
    try:
        return SceneBook(store).load(camera)
    finally:
        store.close()


@needs_clip
def test_a_cameras_normal_survives_a_restart(tmp_path: Path) -> None:
    with Watching(tmp_path, [{"name": "dock-1", "url": str(FALL_CLIP)}]) as w:
        wait_until(lambda: CameraState.ended in w.states("dock-1"), 60, "the clip to end")
    first = _kept(tmp_path, "dock-1")
    assert first is not None and len(first.overall) > 20, "the worker was seen for seconds"
    # The second run starts from the first one's normal and adds to it.
    with Watching(tmp_path, [{"name": "dock-1", "url": str(FALL_CLIP)}]) as w:
        wait_until(lambda: CameraState.ended in w.states("dock-1"), 60, "the clip to end again")
    second = _kept(tmp_path, "dock-1")
    assert second is not None and len(second.overall) > len(first.overall)
    assert second.overall[: len(first.overall)] == first.overall


def test_an_unreadable_kept_normal_is_a_fresh_start(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = Store.open(_settings(tmp_path))
    try:
        store.keep_camera_scene("gate", {"version": 1, "bands": "not a list"})
        with caplog.at_level(logging.WARNING):
            assert SceneBook(store).load("gate") is None
        assert "its kept normal cannot be read" in caplog.text
        SceneBook(store).keep("gate", SceneState())
        assert SceneBook(store).load("gate") == SceneState()
    finally:
        store.close()
    assert SceneBook(None).load("gate") is None
