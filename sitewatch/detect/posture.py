"""Body geometry from one pose: torso angle, box shape and how upright or down the person looks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sitewatch.detect.pose import L_HIP, L_SHOULDER, R_HIP, R_SHOULDER, Person
from sitewatch.detect.scoring import ramp

_KP_MIN = 0.2
_EDGE = 0.02


@dataclass(frozen=True, slots=True)
class Posture:
    """Geometry of one person in one frame, in frame-normalised units unless stated."""

    torso_deg: float | None  # angle of shoulders->hips from vertical; None when not visible
    aspect: float  # box width / height in pixels
    height: float  # box height, in frame heights
    mid_y: float  # hip centre y (box centre when hips are not visible)
    upright: float  # 0..1
    down: float  # 0..1
    cut: bool  # box touches the top or bottom edge: the body may be partly out of view



def _mid(kp: np.ndarray, a: int, b: int) -> np.ndarray | None:
    ok = [i for i in (a, b) if kp[i, 2] >= _KP_MIN]
    return kp[ok, :2].mean(axis=0) if ok else None


def posture(person: Person, frame_aspect: float) -> Posture:
    """Measure a person's posture; `frame_aspect` is frame width / height in pixels."""
    kp, box = person.keypoints, person.box
    width, height = float(box[2] - box[0]), float(box[3] - box[1])
    aspect = width * frame_aspect / max(height, 1e-6)
    shoulders, hips = _mid(kp, L_SHOULDER, R_SHOULDER), _mid(kp, L_HIP, R_HIP)
    torso_deg = None
    if shoulders is not None and hips is not None:
        dx = float(hips[0] - shoulders[0]) * frame_aspect
        dy = float(hips[1] - shoulders[1])
        # A torso shorter than a few percent of the frame gives no reliable angle.
        if math.hypot(dx, dy) > 0.02:
            torso_deg = math.degrees(math.atan2(abs(dx), dy))  # 0 upright, 90 horizontal, 180 upside down
    mid_y = float(hips[1]) if hips is not None else float((box[1] + box[3]) / 2)
    shape_up, shape_down = 1.0 - ramp(aspect, 0.55, 0.9), ramp(aspect, 0.9, 1.5)
    if torso_deg is None:
        upright, down = shape_up * 0.7, shape_down * 0.7
    else:
        angle_up, angle_down = 1.0 - ramp(torso_deg, 25.0, 45.0), ramp(torso_deg, 45.0, 70.0)
        upright = min(angle_up, 0.5 + 0.5 * shape_up)
        down = max(angle_down * (0.5 + 0.5 * ramp(aspect, 0.6, 1.0)), shape_down * 0.8)
    cut = bool(box[1] <= _EDGE or box[3] >= 1.0 - _EDGE)
    return Posture(torso_deg, aspect, height, mid_y, upright, down, cut)
