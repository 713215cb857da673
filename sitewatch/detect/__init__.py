"""Accident detection on the CPU: pose, motion and tracks -> events."""

from sitewatch.detect.base import Detection, Detector
from sitewatch.detect.registry import DEFAULT_DETECTOR, detector_names, get_detector

__all__ = ["DEFAULT_DETECTOR", "Detection", "Detector", "detector_names", "get_detector"]
