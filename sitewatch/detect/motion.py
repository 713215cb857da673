"""Frame-to-frame motion energy on a small grey copy of each frame."""

from __future__ import annotations

import numpy as np

from sitewatch.optional import require

_SIDE = 160  # pixels on the long side: enough to see a body or a falling load, cheap to difference
_CELLS = 8  # the picture cut into 8x8 cells for the peak: a far walker fills a good part of one cell


class MotionMeter:
    """Mean absolute grey-level change between consecutive sampled frames (0..255)."""

    def __init__(self) -> None:
        self._cv2 = require("cv2", "detect")
        self._previous: np.ndarray | None = None
        # The last frame's change in its busiest cell: a small moving person is lost in the mean, not here.
        self.peak = 0.0

    def __call__(self, image: np.ndarray) -> float:
        """Motion energy of `image` (RGB uint8) against the previous call's image."""
        cv2 = self._cv2
        height, width = image.shape[:2]
        scale = _SIDE / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        grey = cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        grey = cv2.GaussianBlur(grey, (5, 5), 0)
        previous, self._previous = self._previous, grey
        if previous is None or previous.shape != grey.shape:
            self.peak = 0.0
            return 0.0
        change = cv2.absdiff(grey, previous).astype(np.float32)
        self.peak = float(cv2.resize(change, (_CELLS, _CELLS), interpolation=cv2.INTER_AREA).max())
        return float(change.mean())
