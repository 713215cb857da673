"""Detectors by name: adding one is a new module plus one line in `_DETECTORS`."""

from __future__ import annotations

import importlib
from typing import Any

from sitewatch.detect.base import Detector

DEFAULT_DETECTOR = "pose"

# name -> "module:class"; imported on demand so listing names costs nothing.
_DETECTORS: dict[str, str] = {
    "pose": "sitewatch.detect.learned:LearnedDetector",
    "pose-rules": "sitewatch.detect.pose_detector:PoseDetector",
}

# Detectors that decide with a fitted model, and so take a site's own (`models=`, see site_models.py).
_LEARNED = frozenset({"pose"})


def learns(name: str) -> bool:
    """Whether the detector `name` decides with a fitted model that a site's own model can replace."""
    return name in _LEARNED


def detector_names() -> list[str]:
    """Names accepted by `get_detector`."""
    return sorted(_DETECTORS)


def get_detector(name: str = DEFAULT_DETECTOR, **options: Any) -> Detector:
    """Build the detector registered under `name` with its keyword options."""
    try:
        target = _DETECTORS[name]
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; choose from {', '.join(detector_names())}") from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)(**options)
