"""The falling-object detector on a stream that stalls: no NaN, no warning, and a stall is not a still scene."""

from __future__ import annotations

import warnings

import numpy as np

from sitewatch.detect.objects import FallingObjects


def test_a_stalled_stream_is_not_a_quiet_scene_and_warns_nothing() -> None:
    detector = FallingObjects()
    frame = np.full((96, 160, 3), 90, np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" would fail the test
        # 3 s of a still scene at 5 fps: quiet, armed.
        for i in range(15):
            detector.update(i * 0.2, frame, [])
        assert detector._was_quiet(2.8)
        # No frame for 2.2 s (a stalled camera): the last ones lie between quiet_s and quiet_s + 0.5 ago.
        assert not detector._was_quiet(5.0)
        assert np.isfinite(detector.update(5.0, frame, []))
