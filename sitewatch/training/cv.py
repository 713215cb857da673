"""Leave-one-group-out cross-validation of the learned decision, calibration on its out-of-fold scores,
and scoring of a fitted model on clips it never saw."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sitewatch.detect.forest import Calibration, FallModel
from sitewatch.detect.learned import recording_rows
from sitewatch.detect.observe import Recording
from sitewatch.training.eval import CalibrationReport, EvalResult, reliability, summarise
from sitewatch.training.fit import (
    ORIGINAL,
    ClipScore,
    Dataset,
    TreeParams,
    calibration_points,
    fit_calibration,
    fit_trees,
    judge,
)

log = logging.getLogger(__name__)


@dataclass
class CrossValidation:
    """Out-of-fold clip scores, the calibration fitted on them, and the scored result."""

    scores: list[ClipScore]
    calibration: Calibration
    result: EvalResult
    report: CalibrationReport


def _scored(scores: list[ClipScore]) -> list[ClipScore]:
    return [s for s in scores if s.clip.label in ("fall", "no_fall")]


def calibrate_and_judge(
    scores: list[ClipScore], name: str, manifest: str, calibration: Calibration | None = None
) -> CrossValidation:
    """Fit the calibration on the scores (unless given) and judge every clip with it."""
    scored = _scored(scores)
    labels = np.array([s.clip.label == "fall" for s in scored], float)
    peaks = np.array([s.peak for s in scored])
    if calibration is None:
        calibration = fit_calibration(*calibration_points(scored))
    clips = [judge(s, calibration).alarm for s in scores]
    result = EvalResult(detector=name, manifest=manifest, clips=clips, summary=summarise(clips))
    return CrossValidation(scores, calibration, result, reliability(calibration(peaks), labels))


def cross_validate(
    data: Dataset, params: TreeParams, seed: int, manifest: str, keep: Sequence[bool] | None = None
) -> CrossValidation:
    """Leave one group out: fit on the other groups' copies, score the held-out group's unaltered clips."""
    keep = [True] * len(data.samples) if keep is None else list(keep)
    groups = sorted({s.clip.group for s in data.samples})
    scores: list[ClipScore] = []
    for group in groups:
        train = [k and s.clip.group != group for k, s in zip(keep, data.samples, strict=True)]
        x, y, w = data.arrays(train)
        model = fit_trees(x, y, w, params, seed)
        for sample in data.samples:
            if sample.clip.group == group and sample.copy == ORIGINAL:
                rows = sample.rows
                margins = model.decision_function(np.stack([r.values for r in rows])) if rows else np.zeros(0)
                scores.append(ClipScore(sample.clip, rows, np.asarray(margins, float)))
        log.info("fold %s: %d training rows", group, len(y))
    scores.sort(key=lambda s: s.clip.name)
    return calibrate_and_judge(scores, "pose (leave-one-group-out)", manifest)


def score_clips(model: FallModel, clips_recordings: Sequence[tuple], fps: float) -> list[ClipScore]:
    """Margins of a fitted (numpy) model on recorded clips: (clip, recording) pairs."""
    out = []
    for clip, recording in clips_recordings:
        rows = recording_rows(recording, fps) if isinstance(recording, Recording) else []
        margins = model.forest.margin(np.stack([r.values for r in rows])) if rows else np.zeros(0)
        out.append(ClipScore(clip, rows, margins))
    return out
