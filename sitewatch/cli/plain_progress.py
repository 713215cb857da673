"""Progress of a long job as plain lines on stderr, for when stderr is a log file and not a terminal.

A rich bar draws nothing into a file, so a two-hour video analysed with `2>job.log` would say nothing
for minutes. These lines start once a job has run a few seconds and come at a steady pace.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

FIRST_AFTER_S = 5.0
EVERY_S = 15.0


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass
class PlainProgress:
    """Writes `label: done/total (pct), elapsed, about N left`, first after `first_after_s`, then every `every_s`."""

    labels: dict[str, str] = field(default_factory=dict)
    out: TextIO = field(default_factory=lambda: sys.stderr)
    first_after_s: float = FIRST_AFTER_S
    every_s: float = EVERY_S
    started: float = field(default_factory=time.monotonic)
    _next: float = 0.0

    def __post_init__(self) -> None:
        self._next = self.started + self.first_after_s

    def update(self, stage: str, done: int, total: int) -> None:
        """Record that `done` of `total` steps of `stage` are finished; print when a line is due."""
        now = time.monotonic()
        if now < self._next or total <= 0:
            return
        self._next = now + self.every_s
        elapsed = now - self.started
        fraction = min(done / total, 1.0)
        left = f", about {_duration(elapsed / fraction - elapsed)} left" if 0 < fraction < 1 else ""
        label = self.labels.get(stage, stage)
        self.out.write(f"{label}: {done:,}/{total:,} ({fraction:.0%}), {_duration(elapsed)} elapsed{left}\n")
        self.out.flush()
