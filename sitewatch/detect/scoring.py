"""How the detector turns a measurement into a 0..1 score."""

from __future__ import annotations


def ramp(value: float, low: float, high: float) -> float:
    """0 at or below `low`, 1 at or above `high`, linear between (high < low ramps downward)."""
    return float(min(1.0, max(0.0, (value - low) / (high - low))))
