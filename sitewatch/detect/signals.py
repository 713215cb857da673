"""Per-frame detector signals binned to a fixed time step, so their size grows slowly with length."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from sitewatch.schema import SignalSeries


class BinnedSignal:
    """Aggregates samples into `step_s` bins (max or mean) for the report's timeline."""

    def __init__(self, name: str, step_s: float = 0.5, how: Literal["max", "mean"] = "max") -> None:
        self.name = name
        self.step_s = step_s
        self._reduce: Callable[[list[float]], float] = max if how == "max" else (lambda v: sum(v) / len(v))
        self._bin: int | None = None
        self._values: list[float] = []
        self.times_s: list[float] = []
        self.values: list[float] = []

    def add(self, time_s: float, value: float) -> None:
        """Record one sample."""
        index = math.floor(time_s / self.step_s)
        if index != self._bin:
            self._flush()
            self._bin = index
        self._values.append(value)

    def _flush(self) -> None:
        if self._bin is not None and self._values:
            self.times_s.append(round(self._bin * self.step_s, 3))
            self.values.append(round(self._reduce(self._values), 4))
        self._values = []

    def series(self) -> SignalSeries:
        """The finished series."""
        self._flush()
        self._bin = None
        return SignalSeries(name=self.name, times_s=list(self.times_s), values=list(self.values))
