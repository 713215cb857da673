"""The fisheye lens `benchmarks/detect.py --lens` films footage through: what it does to a frame, and that the
real pose model still finds people through it."""

from __future__ import annotations

import numpy as np
import pytest

from sitewatch.training.corpus import FISHEYE_K, fisheye


def test_a_fisheye_bows_straight_lines_and_keeps_the_corners_and_the_middle() -> None:
    pytest.importorskip("cv2", reason="the lens needs the detect extra (OpenCV)")
    image = np.zeros((360, 640, 3), np.uint8)
    image[100, :] = 255  # a straight line above the middle
    image[179:181, 319:321] = 200  # the middle
    image[0, 0] = image[-1, -1] = 90  # two corners
    bent = fisheye(image)
    rows = [int(np.argmax(bent[:, x, 0])) for x in (0, 160, 320, 480, 639)]
    # The line bows away from the middle there (the centre is magnified) and comes back toward it at the sides.
    assert rows[2] < 100 - 25 and rows[0] > rows[1] > rows[2] < rows[3] < rows[4]
    assert rows[0] == rows[4] and rows[1] == rows[3]  # symmetric
    assert bent[179:181, 319:321].min() == 200
    assert bent[0, 0, 0] == 90 and bent[-1, -1, 0] == 90
    # Magnified in the middle by tan(K) / K: a mark 20 pixels right of it lands about 1.56 times as far out.
    marked = np.zeros_like(image)
    marked[175:185, 339] = 255
    column = int(np.argmax(fisheye(marked)[180, :, 0]))
    assert abs((column - 319.5) / 19.5 - np.tan(FISHEYE_K) / FISHEYE_K) < 0.1


def test_the_pose_model_still_finds_the_worker_through_a_fisheye() -> None:
    pytest.importorskip("ai_edge_litert", reason="the detector needs the detect extra")
    from media import SHARED_VIDEOS

    from sitewatch.detect.pose import MoveNet
    from sitewatch.video.decode import FrameReader, Size
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import fps_plan

    clip = SHARED_VIDEOS / "dev01_sriram2226.mp4"
    if not clip.is_file():
        pytest.skip(f"{clip} is not here")
    pose = MoveNet(long_side=320)
    frames = [f.image for f in FrameReader(clip, fps_plan(probe(clip), 1.0), size=Size(max_side=640))][:6]
    plain = sum(bool(pose(frame)) for frame in frames)
    bent = sum(bool(pose(fisheye(frame))) for frame in frames)
    assert plain >= 5 and bent >= plain - 1
