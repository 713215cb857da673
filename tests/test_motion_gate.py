"""Motion gating: a still picture with nobody followed gets no pose pass, and nothing the detector finds changes."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ai_edge_litert", reason="the detector needs the detect extra")

from media import SHARED_VIDEOS

from sitewatch.detect.learned import LearnedDetector
from sitewatch.detect.observe import LOOK_EVERY_S, Observer
from sitewatch.detect.pose import MoveNet

EMPTY_PLAZA = SHARED_VIDEOS.parent / "normal" / "nm008_harisfariyano.mp4"  # top-down plaza, often empty for seconds


def test_a_still_picture_is_looked_at_every_two_seconds_and_a_moving_one_every_frame() -> None:
    rng = np.random.default_rng(0)
    floor = rng.integers(90, 110, (360, 640, 3), dtype=np.uint8)
    observer = Observer(MoveNet(long_side=320))
    times = [i / 6 for i in range(36)]  # 6 s at 6 frames a second
    for t in times:
        observer(floor, t, may_skip=True)
    looked = len(times) - observer.skipped
    assert looked == pytest.approx(6 / LOOK_EVERY_S, abs=1), "a pass every LOOK_EVERY_S, none in between"
    moving = Observer(MoveNet(long_side=320))
    for i, t in enumerate(times):
        frame = floor.copy()
        x = 40 + 15 * i  # a dark block walking across: a far person's worth of change in one cell
        frame[200:260, x:x + 20] = 20
        moving(frame, t, may_skip=True)
    assert moving.skipped == 0
    followed = Observer(MoveNet(long_side=320))
    for t in times:
        followed(floor, t, may_skip=False)
    assert followed.skipped == 0, "while someone is followed, every frame gets its pose pass"


@pytest.mark.skipif(not EMPTY_PLAZA.is_file(), reason=f"{EMPTY_PLAZA} is not here")
def test_gating_an_empty_plaza_saves_pose_passes_and_changes_no_event(caplog: pytest.LogCaptureFixture) -> None:
    from sitewatch.service.assess import run_detector
    from sitewatch.settings import get_settings
    from sitewatch.video.probe import probe

    info, settings = probe(Path(EMPTY_PLAZA)), get_settings()
    with caplog.at_level(logging.INFO, logger="sitewatch.detect.learned"):
        runs = {g: run_detector(EMPTY_PLAZA, info, LearnedDetector(motion_gate=g), settings) for g in (False, True)}
    plain, gated = (runs[g].detection for g in (False, True))
    skipped = [int(n) for n in re.findall(r"\((\d+) without a pose pass", caplog.text)]
    assert skipped[0] == 0 and skipped[1] > gated.frames_seen // 4, skipped
    assert [(e.kind, e.start_s, e.confidence) for e in gated.events] == [
        (e.kind, e.start_s, e.confidence) for e in plain.events
    ]
    assert gated.frames_seen == plain.frames_seen
