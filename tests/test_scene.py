"""Each camera's own normal survives a restart: its state round-trips through JSON into the next stream."""

from __future__ import annotations

import math

import pytest

from sitewatch.detect.base import StreamInfo
from sitewatch.detect.scene import KEEP, MIN_SAMPLES, SceneNorm, SceneState


def _seen(norm: SceneNorm, n: int) -> None:
    for i in range(n):
        # Near people (feet low in the picture) are tall; far ones short; every third torso unseen.
        norm.add(0.9, 0.4, 0.5 + 0.001 * i, math.nan if i % 3 == 0 else 5.0)
        norm.add(0.1, 1.2, 0.1, 20.0)


def test_a_scene_round_trips_through_json_with_unseen_torsos() -> None:
    norm = SceneNorm()
    _seen(norm, MIN_SAMPLES * 2)
    state = SceneState.model_validate_json(norm.state().model_dump_json())
    again = SceneNorm(state)
    for foot_y in (0.1, 0.5, 0.9):
        before, after = norm.usual(foot_y), again.usual(foot_y)
        assert after.log_height == pytest.approx(before.log_height, abs=1e-3)
        assert after.torso_deg == pytest.approx(before.torso_deg, abs=0.01)
    assert again.usual(0.9).log_height > again.usual(0.1).log_height, "the bands stay apart"


def test_a_kept_scene_stays_bounded() -> None:
    norm = SceneNorm()
    _seen(norm, KEEP * 3)
    state = norm.state()
    assert len(state.overall) == KEEP and all(len(b) <= KEEP for b in state.bands)
    assert len(state.model_dump_json()) < 60_000, "a camera's row in the history stays small"


def test_the_next_stream_of_a_camera_starts_from_its_kept_normal() -> None:
    pytest.importorskip("ai_edge_litert", reason="the learned detector needs the detect extra")
    from sitewatch.detect.learned import LearnedDetector

    norm = SceneNorm()
    _seen(norm, MIN_SAMPLES * 2)
    detector = LearnedDetector()
    fresh = detector.start(StreamInfo(640, 480, live=True)).scene()
    resumed = detector.start(StreamInfo(640, 480, live=True, scene=norm.state())).scene()
    assert fresh.overall == [] and resumed == norm.state()
