"""Guessing the token is slowed down: a few wrong tokens a minute per client address, then it waits (429)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

FAILURES = 5  # wrong tokens an address may send within WINDOW_S
WINDOW_S = 60.0
MAX_ADDRESSES = 10_000  # addresses remembered at once: a spray of addresses cannot grow memory without end


class LoginLimiter:
    """Wrong tokens per client address over a sliding window; past the limit the address waits its turn."""

    def __init__(self, failures: int = FAILURES, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.failures = failures
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._wrong: dict[str, deque[float]] = {}

    def retry_after(self, address: str) -> int | None:
        """Whole seconds until `address` may send a token again; None when it may now."""
        with self._lock:
            times = self._recent(address)
            if len(times) < self.failures:
                return None
            return max(1, math.ceil(times[0] + self.window_s - self._clock()))

    def failed(self, address: str) -> None:
        """Count one wrong token from `address`."""
        with self._lock:
            times = self._recent(address)
            if address not in self._wrong and len(self._wrong) >= MAX_ADDRESSES:
                self._wrong.pop(next(iter(self._wrong)))  # the address remembered longest
            times.append(self._clock())
            self._wrong[address] = times

    def _recent(self, address: str) -> deque[float]:
        times = self._wrong.get(address, deque())
        while times and times[0] <= self._clock() - self.window_s:
            times.popleft()
        if not times:
            self._wrong.pop(address, None)
        return times
