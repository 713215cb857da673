"""The learned fall decision at inference: boosted trees and a calibration curve read from JSON, numpy only."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from sitewatch.detect.features import FEATURES
from sitewatch.errors import ModelLoadError

MODEL_FILE = "fall_model.json"


@dataclass(frozen=True)
class Forest:
    """Gradient-boosted trees flattened into node arrays; predicts a log-odds margin per row.

    Nodes name their feature by its column in the detector's rows (FEATURES), whatever order or subset the
    trees were fitted on, so a model trained on an older feature set keeps working when features are added.
    """

    features: tuple[str, ...]  # the columns the trees were fitted on, in their order
    baseline: float
    roots: np.ndarray  # (trees,) index of each tree's root node
    feature: np.ndarray  # per node
    threshold: np.ndarray  # go left when x <= threshold
    missing_left: np.ndarray  # where NaN goes
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    depth: int

    def margin(self, rows: np.ndarray) -> np.ndarray:
        """Raw log-odds for rows (n, features)."""
        rows = np.atleast_2d(rows)
        node = np.broadcast_to(self.roots, (len(rows), len(self.roots))).copy()
        index = np.arange(len(rows))[:, None]
        for _ in range(self.depth):
            x = rows[index, self.feature[node]]
            go_left = np.where(np.isnan(x), self.missing_left[node], x <= self.threshold[node])
            node = np.where(self.leaf[node], node, np.where(go_left, self.left[node], self.right[node]))
        return self.baseline + self.value[node].sum(axis=1)


@dataclass(frozen=True)
class Calibration:
    """A monotone map from a clip's highest margin to the probability that it holds an accident."""

    margins: np.ndarray
    probabilities: np.ndarray

    def __call__(self, margin: np.ndarray | float) -> np.ndarray:
        """Calibrated probability for margins."""
        return np.interp(margin, self.margins, self.probabilities)


@dataclass(frozen=True)
class FallModel:
    """The shipped decision: trees, their calibration, the "possible accident" level (calibrated
    probability; the alarm level is ACCIDENT_CONFIDENCE) and the provenance printed when it was trained."""

    forest: Forest
    calibration: Calibration
    meta: dict
    possible: float = 0.5
    confirm_fast_s: float = 0.0  # how long a fast drop must stay fallen before it counts (AlarmBook)
    lost_look: bool = True  # a person lost right after tilting down is a possible accident (AlarmBook)
    confirm_partial_s: float = 0.0  # how long a body cut by the picture's edge must stay fallen (AlarmBook)

    def probability(self, rows: np.ndarray) -> np.ndarray:
        """Calibrated accident probability for each feature row."""
        return self.calibration(self.forest.margin(rows))


def forest_from_dict(data: dict) -> Forest:
    """Build a Forest from its JSON form (a list of trees, each a dict of equal-length node lists)."""
    trees = data["trees"]
    unknown = [name for name in data["features"] if name not in FEATURES]
    if unknown:
        raise ModelLoadError(f"the fall model uses features this detector does not compute: {', '.join(unknown)}")
    columns = np.array([FEATURES.index(name) for name in data["features"]], np.int64)
    offsets = np.cumsum([0] + [len(t["value"]) for t in trees])

    def joined(key: str, dtype: type, shift: bool = False) -> np.ndarray:
        parts = [np.asarray(t[key], dtype) + (offsets[i] if shift else 0) for i, t in enumerate(trees)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype)

    return Forest(
        features=tuple(data["features"]),
        baseline=float(data["baseline"]),
        roots=offsets[:-1].astype(np.int64),
        feature=columns[joined("feature", np.int64)] if len(columns) else joined("feature", np.int64),
        threshold=joined("threshold", np.float64),
        missing_left=joined("missing_left", bool),
        left=joined("left", np.int64, shift=True),
        right=joined("right", np.int64, shift=True),
        leaf=joined("leaf", bool),
        value=joined("value", np.float64),
        depth=int(data["depth"]),
    )


def model_from_dict(data: dict) -> FallModel:
    """Build the FallModel from its JSON form."""
    calibration = data["calibration"]
    return FallModel(
        forest=forest_from_dict(data["forest"]),
        calibration=Calibration(np.asarray(calibration["margins"]), np.asarray(calibration["probabilities"])),
        meta=data.get("meta", {}),
        possible=float(data.get("thresholds", {}).get("possible", 0.5)),
        confirm_fast_s=float(data.get("thresholds", {}).get("confirm_fast_s", 0.0)),
        lost_look=bool(data.get("thresholds", {}).get("lost_look", True)),
        confirm_partial_s=float(data.get("thresholds", {}).get("confirm_partial_s", 0.0)),
    )


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> FallModel:
    """The model at `path`, or the one shipped inside the package."""
    text = Path(path).read_text("utf-8") if path else (resources.files(__package__) / MODEL_FILE).read_text("utf-8")
    return model_from_dict(json.loads(text))
