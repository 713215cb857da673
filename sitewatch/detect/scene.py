"""Each camera's own normal: how the people it sees usually look at each height of the picture.

A fixed camera sees mostly upright people. From a high or top-down camera a walker looks short and wide,
so "wide box" or "tilted torso" means nothing on its own; relative to the usual person at the same place
in that camera's picture it does. The reference is causal (only what was seen so far) and bounded, so
a file and a live camera use it alike. It lives as long as the detector's feature stream (one file, one
camera session); it is not kept across restarts yet.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

BANDS = 3  # by where the feet are: far, middle and near on a ground plane seen from above
KEEP = 400  # samples per band: the last minute or so of a busy camera
MIN_SAMPLES = 12  # about 2 s of one person at 6 frames/s before a band's reference is trusted


@dataclass(frozen=True, slots=True)
class Usual:
    """The typical person at one place in the picture (medians; NaN when unknown)."""

    log_aspect: float
    log_height: float
    torso_deg: float


_UNKNOWN = Usual(math.nan, math.nan, math.nan)


def _band(foot_y: float) -> int:
    return min(BANDS - 1, max(0, int(foot_y * BANDS)))


class SceneNorm:
    """Running medians of box shape, size and torso angle of everyone seen, per band of the picture."""

    def __init__(self) -> None:
        self._bands: list[deque[tuple[float, float, float]]] = [deque(maxlen=KEEP) for _ in range(BANDS)]
        self._all: deque[tuple[float, float, float]] = deque(maxlen=KEEP)
        self._usual: list[Usual] | None = None

    def add(self, foot_y: float, aspect: float, height: float, torso_deg: float) -> None:
        """One person seen now: box bottom (0..1), width/height in pixels, height in frames, torso angle."""
        sample = (math.log(max(aspect, 1e-3)), math.log(max(height, 1e-3)), torso_deg)
        self._bands[_band(foot_y)].append(sample)
        self._all.append(sample)
        self._usual = None

    def usual(self, foot_y: float) -> Usual:
        """The reference at this height of the picture: its band, else the whole picture, else unknown."""
        if self._usual is None:
            # Once per frame: every row of the frame reads the same medians.
            overall = _median(self._all)
            self._usual = [_median(b) if len(b) >= MIN_SAMPLES else overall for b in self._bands]
        return self._usual[_band(foot_y)]


def _median(samples: deque[tuple[float, float, float]]) -> Usual:
    if len(samples) < MIN_SAMPLES:
        return _UNKNOWN
    values = np.array(samples, np.float64)
    torsos = values[:, 2][~np.isnan(values[:, 2])]
    torso = float(np.median(torsos)) if len(torsos) >= MIN_SAMPLES else math.nan
    return Usual(float(np.median(values[:, 0])), float(np.median(values[:, 1])), torso)
