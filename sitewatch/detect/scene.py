"""Each camera's own normal: how the people it sees usually look at each height of the picture.

A fixed camera sees mostly upright people. From a high or top-down camera a walker looks short and wide,
so "wide box" or "tilted torso" means nothing on its own; relative to the usual person at the same place
in that camera's picture it does. The reference is causal (only what was seen so far) and bounded, so
a file and a live camera use it alike. A file's lives as long as the file; a watched camera's is kept in
the history (`SceneState`) and given back to the camera's next stream, so a restart does not forget it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

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

# One person seen once: log box aspect, log height, torso angle (None when not visible).
Sample = tuple[float, float, float | None]


class SceneState(BaseModel):
    """A camera's normal as kept between runs: the samples of each band of the picture, oldest first."""

    version: int = 1
    bands: list[list[Sample]] = Field(default_factory=lambda: [[] for _ in range(BANDS)])
    overall: list[Sample] = Field(default_factory=list)


def _band(foot_y: float) -> int:
    return min(BANDS - 1, max(0, int(foot_y * BANDS)))


class SceneNorm:
    """Running medians of box shape, size and torso angle of everyone seen, per band of the picture."""

    def __init__(self, state: SceneState | None = None) -> None:
        self._bands: list[deque[tuple[float, float, float]]] = [deque(maxlen=KEEP) for _ in range(BANDS)]
        self._all: deque[tuple[float, float, float]] = deque(maxlen=KEEP)
        self._usual: list[Usual] | None = None
        if state is not None and len(state.bands) == BANDS:
            for band, samples in zip(self._bands, state.bands, strict=True):
                band.extend(_unpack(s) for s in samples)
            self._all.extend(_unpack(s) for s in state.overall)

    def state(self) -> SceneState:
        """What to keep so the next stream of the same camera starts from this normal."""
        bands = [[_pack(s) for s in band] for band in self._bands]
        return SceneState(bands=bands, overall=[_pack(s) for s in self._all])

    def __len__(self) -> int:
        return len(self._all)

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


def _pack(sample: tuple[float, float, float]) -> Sample:
    # JSON has no NaN: an unseen torso is kept as None.
    return (round(sample[0], 4), round(sample[1], 4), None if math.isnan(sample[2]) else round(sample[2], 2))


def _unpack(sample: Sample) -> tuple[float, float, float]:
    return (sample[0], sample[1], math.nan if sample[2] is None else sample[2])


def _median(samples: deque[tuple[float, float, float]]) -> Usual:
    if len(samples) < MIN_SAMPLES:
        return _UNKNOWN
    values = np.array(samples, np.float64)
    torsos = values[:, 2][~np.isnan(values[:, 2])]
    torso = float(np.median(torsos)) if len(torsos) >= MIN_SAMPLES else math.nan
    return Usual(float(np.median(values[:, 0])), float(np.median(values[:, 1])), torso)
