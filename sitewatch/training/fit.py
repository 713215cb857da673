"""Fit the fall decision on the training corpus, cross-validate it leave-one-group-out, export it as JSON.

Dev clips are never fitted on: `validate` scores the exported model on them separately.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tqdm import tqdm

from sitewatch.detect.alarms import AlarmBook
from sitewatch.detect.base import ACCIDENT_CONFIDENCE, first_accident_s
from sitewatch.detect.features import FEATURES, SCENE_FEATURES, Row
from sitewatch.detect.forest import Calibration
from sitewatch.detect.learned import recording_rows
from sitewatch.detect.observe import Recording
from sitewatch.training.augment import AUGMENTATIONS, LIGHT, Augmentation, augment
from sitewatch.training.corpus import Clip
from sitewatch.training.eval import ClipResult, ManifestRow, clip_result, count_alarms

log = logging.getLogger(__name__)

# Rows this long after the labelled fall start show the fall or its aftermath; rows well before it do not.
POSITIVE_FROM_S = 0.2
POSITIVE_TO_S = 3.5
NEGATIVE_BEFORE_S = 1.0
MAX_ROWS = 1500  # labelled rows kept from one copy of a long clip
LONG_S = 30.0  # clips longer than this are normal footage: light copies only
ORIGINAL_VARIANT = "orig"
ORIGINAL = "orig/as is"  # the copy that is scored: the clip as filmed
_FALL_SPEED, _DOWN, _DROP, _HEIGHT = (
    FEATURES.index(k) for k in ("fall_speed", "down_now", "drop_heights", "height_ratio")
)


def _looks_fallen(row: Row) -> bool:
    """Down, lost, or hips well below the stance with the body shorter (a collapse seen from above).

    Only such rows of a fall are taught as falls: the frames while the person is still upright carry
    no evidence yet, and teaching them as falls makes any upright jitter look like one.
    """
    v = row.values
    collapsed = bool(v[_DROP] >= 0.3 and v[_HEIGHT] <= 0.8)  # NaN compares false
    return row.lost or v[_DOWN] >= 0.5 or collapsed


@dataclass(frozen=True)
class TreeParams:
    """Hyper-parameters of the boosted trees: few, shallow trees (the corpus is small)."""

    max_iter: int = 150
    learning_rate: float = 0.06
    max_depth: int = 3
    max_leaf_nodes: int = 8
    min_samples_leaf: int = 80
    l2_regularization: float = 1.0


@dataclass(frozen=True)
class Member:
    """One tree model of an averaged ensemble: its hyper-parameters, and whether it sees the scene features
    (the camera's own normal) or has them held constant, so that no tree splits on them."""

    params: TreeParams
    scene: bool = True


@dataclass
class Sample:
    """One clip copy's rows with labels and weights (unlabelled rows dropped)."""

    clip: Clip
    copy: str
    rows: list[Row]
    x: np.ndarray
    y: np.ndarray
    w: np.ndarray


@dataclass
class Dataset:
    """Training rows of many clip copies, grouped for leave-one-group-out."""

    samples: list[Sample] = field(default_factory=list)
    # Copies fitted on in every fold and never scored or held out: synthetic people (`training.synth`).
    extra: list[Sample] = field(default_factory=list)

    def arrays(
        self, keep: Sequence[bool] | None = None, scene: bool = True
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stacked (x, y, w) of the samples (those with `keep` true).

        Each group (source) weighs the same in total, so ten clips of one lab's bedroom do not outvote a
        single street camera; without `scene`, the scene columns are constant, so no tree can split on them.
        """
        chosen = [s for i, s in enumerate(self.samples) if keep is None or keep[i]] + self.extra
        chosen = [s for s in chosen if len(s.y)]
        clips: dict[str, set[str]] = {}
        for s in chosen:
            clips.setdefault(s.clip.group, set()).add(s.clip.name)
        x = np.concatenate([s.x for s in chosen])
        if not scene:
            x = x.copy()
            x[:, [FEATURES.index(f) for f in SCENE_FEATURES]] = 0.0
        return (
            x,
            np.concatenate([s.y for s in chosen]),
            np.concatenate([s.w / len(clips[s.clip.group]) for s in chosen]),
        )


def _faller(rows: list[Row], start: float, end: float) -> int | None:
    """The track that most looks like it fell inside the window (several people may be in a fall clip)."""
    best: dict[int, float] = {}
    for row in rows:
        if start <= row.time_s <= end:
            drop = 0.0 if np.isnan(row.values[_DROP]) else min(float(row.values[_DROP]), 2.0)
            score = min(float(row.values[_FALL_SPEED]), 3.0) + float(row.values[_DOWN]) + drop
            best[row.track_id] = max(best.get(row.track_id, 0.0), score)
    return max(best, key=best.__getitem__) if best else None


def label_rows(rows: list[Row], clip: Clip, speed: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Labels (1 fall, 0 normal, -1 unused) and weights that give each clip copy the same say."""
    y = np.zeros(len(rows), np.int8)
    if clip.label == "fall" and clip.fall_start_s is not None:
        start = clip.fall_start_s / speed
        window = (start + POSITIVE_FROM_S, start + POSITIVE_TO_S)
        faller = _faller(rows, *window)
        for i, row in enumerate(rows):
            if window[0] <= row.time_s <= window[1]:
                y[i] = 1 if row.track_id == faller and _looks_fallen(row) else -1
            elif row.time_s >= start - NEGATIVE_BEFORE_S:
                y[i] = -1
    elif clip.label != "no_fall":
        y[:] = -1
    w = np.zeros(len(rows))
    for value in (0, 1):
        mask = y == value
        if mask.any():
            w[mask] = 1.0 / mask.sum()
    return y, w


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("/".join(parts).encode()).hexdigest()[:8], 16)


def make_sample(clip: Clip, recording: Recording, variant: str, aug: Augmentation, fps: float) -> Sample:
    """Rows of one augmented copy of a clip, labelled."""
    copy = augment(recording, aug, _seed(clip.name, variant, aug.name))
    rows = recording_rows(copy, fps / aug.speed)
    y, w = label_rows(rows, clip, aug.speed)
    keep = np.flatnonzero(y >= 0)
    if len(keep) > MAX_ROWS:
        # Minutes of normal footage: evenly spaced rows (neighbours differ by one frame), the same weight.
        keep = keep[np.linspace(0, len(keep) - 1, MAX_ROWS).astype(int)]
        for value in (0, 1):
            mask = y[keep] == value
            if mask.any():
                w[keep[mask]] = 1.0 / mask.sum()
    x = np.stack([r.values for r in rows])[keep] if rows else np.zeros((0, len(FEATURES)), np.float32)
    return Sample(clip, f"{variant}/{aug.name}", rows, x, y[keep], w[keep])


def build_dataset(
    clips: Sequence[Clip],
    recordings: dict[str, dict[str, Recording]],
    fps: float,
    augmentations: Sequence[Augmentation] = AUGMENTATIONS,
    light: Sequence[Augmentation] = LIGHT,
) -> Dataset:
    """Every clip under every picture variant and augmentation (copies stay with their clip's group); the
    other picture variants and long footage get only the `light` copies that are among `augmentations`."""
    data = Dataset()
    for clip in tqdm(clips, desc="feature rows", unit="clip", leave=False):
        for variant, recording in recordings[clip.name].items():
            long = bool(recording.observations) and recording.observations[-1].time_s > LONG_S
            full = variant == ORIGINAL_VARIANT and not long
            for aug in augmentations if full else [a for a in augmentations if a in light]:
                data.samples.append(make_sample(clip, recording, variant, aug, fps))
    return data


def fit_trees(x: np.ndarray, y: np.ndarray, w: np.ndarray, params: TreeParams, seed: int):
    """Fit scikit-learn's histogram gradient boosting (imported here: training only)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_iter=params.max_iter,
        learning_rate=params.learning_rate,
        max_depth=params.max_depth,
        max_leaf_nodes=params.max_leaf_nodes,
        min_samples_leaf=params.min_samples_leaf,
        l2_regularization=params.l2_regularization,
        early_stopping=False,
        random_state=seed,
    )
    return model.fit(x, y, sample_weight=w)


@dataclass
class Averaged:
    """Fitted tree models whose log-odds margins are averaged (`decision_function` as one model's)."""

    models: list

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """The members' mean margin for rows x."""
        return np.mean([model.decision_function(x) for model in self.models], axis=0)


def fit_members(data: Dataset, keep: Sequence[bool] | None, members: Sequence[Member], seed: int) -> Averaged:
    """Fit every member on the samples with `keep` true (all when None)."""
    return Averaged([fit_trees(*data.arrays(keep, scene=m.scene), m.params, seed) for m in members])


def export_average(model: Averaged) -> dict:
    """The members' trees as one forest in the JSON form `forest.forest_from_dict` reads: the baseline and every
    leaf divided by the number of members, so its margin is their average and the detector needs no change."""
    parts = [export_trees(m) for m in model.models]
    if any(p["features"] != parts[0]["features"] for p in parts):
        raise ValueError("the members were fitted on different feature columns")
    k = len(parts)
    return {
        "features": parts[0]["features"],
        "baseline": float(np.mean([p["baseline"] for p in parts])),
        "depth": max(p["depth"] for p in parts),
        "trees": [{**tree, "value": [v / k for v in tree["value"]]} for p in parts for tree in p["trees"]],
    }


def export_trees(model) -> dict:
    """The fitted trees as plain lists (the JSON form `forest.forest_from_dict` reads)."""
    trees = []
    depth = 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        depth = max(depth, int(nodes["depth"].max()))
        trees.append(
            {
                "feature": nodes["feature_idx"].astype(int).tolist(),
                "threshold": [float(v) for v in nodes["num_threshold"]],  # exact: rounding moves splits
                "missing_left": nodes["missing_go_to_left"].astype(bool).tolist(),
                "left": nodes["left"].astype(int).tolist(),
                "right": nodes["right"].astype(int).tolist(),
                "leaf": nodes["is_leaf"].astype(bool).tolist(),
                "value": [round(float(v), 6) for v in nodes["value"]],
            }
        )
    return {
        "features": list(FEATURES),
        "baseline": float(np.ravel(model._baseline_prediction)[0]),
        "depth": depth + 1,
        "trees": trees,
    }


def fit_calibration(margins: np.ndarray, labels: np.ndarray) -> Calibration:
    """Isotonic regression of clip labels on clip margins, as interpolation points.

    Each isotonic block's rate is smoothed (Jeffreys: (falls + 0.5) / (clips + 1)) so that a few dozen
    clips never claim 0 % or 100 %.
    """
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(margins, labels)
    fitted = iso.predict(margins)
    values = np.unique(fitted)
    rates = np.array([(labels[fitted == v].sum() + 0.5) / ((fitted == v).sum() + 1.0) for v in values])
    nearest = np.abs(np.asarray(iso.y_thresholds_)[:, None] - values[None, :]).argmin(axis=1)
    points = rates[nearest]
    return Calibration(np.asarray(iso.X_thresholds_, float), np.maximum.accumulate(points))


@dataclass
class ClipScore:
    """A scored clip: its rows and their margins (out of fold, or from the final model)."""

    clip: Clip
    rows: list[Row]
    margins: np.ndarray

    @property
    def peak(self) -> float:
        """The clip's highest margin (-inf with no rows)."""
        return float(self.margins.max()) if len(self.margins) else -1e9


CHUNK_S = 10.0  # long normal footage is calibrated as clips of about this length, like the corpus


def calibration_points(scores: Sequence[ClipScore]) -> tuple[np.ndarray, np.ndarray]:
    """(peak margin, label) per scored clip; long no-fall footage counts as one point per CHUNK_S, so a
    minute of walkers weighs like six short clips, not one whose peak is the worst of sixty seconds."""
    peaks, labels = [], []
    for score in scores:
        if score.clip.label not in ("fall", "no_fall"):
            continue
        times = np.array([r.time_s for r in score.rows])
        if score.clip.label == "no_fall" and len(times) and times[-1] > 2 * CHUNK_S:
            for start in np.arange(0.0, times[-1], CHUNK_S):
                inside = (times >= start) & (times < start + CHUNK_S)
                if inside.any():
                    peaks.append(float(score.margins[inside].max()))
                    labels.append(0.0)
        else:
            peaks.append(score.peak)
            labels.append(float(score.clip.label == "fall"))
    return np.array(peaks), np.array(labels)


@dataclass(frozen=True)
class Judged:
    """One clip at the two operating points: the alarm (pages someone) and the possible tier (review)."""

    alarm: ClipResult
    possible: ClipResult


def judge(
    score: ClipScore,
    calibration: Calibration,
    possible: float | None = None,
    confirm_fast_s: float = 0.0,
    lost_look: bool = True,
    confirm_partial_s: float = 0.0,
) -> Judged:
    """Events from calibrated rows as the detector makes them, then the eval's clip result per tier."""
    book = AlarmBook(
        possible=possible, confirm_fast_s=confirm_fast_s, lost_look=lost_look, confirm_partial_s=confirm_partial_s
    )
    probabilities = calibration(score.margins) if len(score.margins) else np.zeros(0)
    for row, probability in zip(score.rows, probabilities, strict=True):
        book.add(row, float(probability))
    if score.rows:
        book.finish(score.rows[-1].time_s)
    clip = score.clip
    row = ManifestRow(
        file=clip.name,
        label=clip.label,
        fall_start_s=clip.fall_start_s,
        event_type=clip.event_type,  # type: ignore[arg-type]
        duration_s=clip.duration_s,
        setting=clip.setting,
        group=clip.group,
    )
    events = book.events
    alarm = clip_result(
        row,
        any(e.confidence >= ACCIDENT_CONFIDENCE for e in events),
        first_accident_s(events),
        clip.duration_s,
        alarms=count_alarms(events, ACCIDENT_CONFIDENCE),
    )
    flagged = clip_result(
        row, bool(events), first_accident_s(events, 0.0), clip.duration_s, alarms=count_alarms(events, 0.0)
    )
    return Judged(alarm, flagged)


def model_of(
    trees: dict,
    calibration: Calibration,
    meta: dict,
    possible: float = ACCIDENT_CONFIDENCE,
    confirm_fast_s: float = 0.0,
    lost_look: bool = True,
    confirm_partial_s: float = 0.0,
) -> dict:
    """The JSON document shipped as fall_model.json."""
    thresholds = {
        "alarm": ACCIDENT_CONFIDENCE,
        "possible": possible,
        "confirm_fast_s": confirm_fast_s,
        "lost_look": lost_look,
        "confirm_partial_s": confirm_partial_s,
    }
    return {
        "meta": meta,
        "thresholds": thresholds,
        "forest": trees,
        "calibration": {
            "margins": [round(float(v), 6) for v in calibration.margins],
            "probabilities": [round(float(v), 6) for v in calibration.probabilities],
        },
    }
