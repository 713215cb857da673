"""The training command: recordings -> augmented rows -> LOGO CV -> final fit -> JSON model -> dev check."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from sitewatch.detect.forest import model_from_dict
from sitewatch.detect.observe import Recording
from sitewatch.detect.pose import MoveNet
from sitewatch.detect.train.corpus import (
    DEFAULT_INPUT,
    DEV_MANIFEST,
    TRAIN_MANIFEST,
    VARIANTS,
    Clip,
    cached_recording,
    read_clips,
)
from sitewatch.detect.train.cv import CrossValidation, calibrate_and_judge, cross_validate, score_clips
from sitewatch.detect.train.fit import (
    Dataset,
    TreeParams,
    build_dataset,
    export_trees,
    fit_trees,
    model_of,
)
from sitewatch.eval_tables import breakdown_tables, print_tables, reliability_table, summary_table

log = logging.getLogger(__name__)

FPS = 6.0  # the detector's rate (PoseDetector/LearnedDetector default)


def recordings_of(
    clips: Sequence[Clip], variants: Sequence[str] = VARIANTS, fps: float = FPS
) -> dict[str, dict[str, Recording]]:
    """Cached recordings of each clip under each picture variant that applies to it."""
    pose = MoveNet(long_side=DEFAULT_INPUT)
    out: dict[str, dict[str, Recording]] = {}
    for clip in clips:
        out[clip.name] = {}
        for variant in variants:
            recording = cached_recording(clip, variant, fps, pose)
            if recording is not None:
                out[clip.name][variant] = recording
    return out


def corpus_dataset(manifest: Path, videos: Path | None = None) -> Dataset:
    """Labelled rows of every scored clip of a manifest, under every picture variant and augmentation."""
    clips = [c for c in read_clips(manifest, videos) if c.label in ("fall", "no_fall")]
    return build_dataset(clips, recordings_of(clips), FPS)


def cross_validate_manifest(
    manifest: Path, videos: Path | None = None, seed: int = 0, params: TreeParams | None = None
) -> CrossValidation:
    """Leave-one-group-out CV of the learned decision on any manifest with a `group` column."""
    return cross_validate(corpus_dataset(manifest, videos), params or TreeParams(), seed, str(manifest))


def dev_check(document: dict, calibration, manifest: Path = DEV_MANIFEST, fps: float = FPS) -> CrossValidation:
    """Score an exported model on the dev clips (never fitted on), with the CV calibration."""
    clips = read_clips(manifest)
    recordings = recordings_of(clips, ("orig",), fps)
    pairs = [(clip, recordings[clip.name].get("orig")) for clip in clips]
    scores = score_clips(model_from_dict(document), pairs, fps)
    return calibrate_and_judge(scores, "pose (dev, never fitted)", str(manifest), calibration)


def train(
    seed: int = 0, out: Path | None = None, params: TreeParams | None = None, manifest: Path = TRAIN_MANIFEST
) -> dict:
    """Cross-validate, fit on everything, write the model to `out` (when given) and print the tables."""
    from sklearn import __version__ as sklearn_version

    params = params or TreeParams()
    data = corpus_dataset(manifest)
    clips = sorted({s.clip for s in data.samples}, key=lambda c: c.name)
    cv = cross_validate(data, params, seed, str(manifest))
    x, y, w = data.arrays()
    trees = export_trees(fit_trees(x, y, w, params, seed))
    meta = {
        "trained_on": manifest.parent.name,
        "clips": len(clips),
        "rows": len(y),
        "seed": seed,
        "params": dataclasses.asdict(params),
        "variants": list(VARIANTS),
        "scikit_learn": sklearn_version,
        "logo_f1": cv.result.summary.f1,
        "logo_brier": cv.report.brier,
    }
    document = model_of(trees, cv.calibration, meta)
    dev = dev_check(document, cv.calibration)
    document["meta"]["dev_f1"] = dev.result.summary.f1
    if out is not None:
        out.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        log.warning("wrote %s (%.0f KiB)", out, out.stat().st_size / 1024)
    print_tables(
        summary_table(
            f"Learned fall decision, seed {seed}: {len(clips)} training clips, {len(y)} rows",
            {"train, leave-one-group-out": cv.result.summary, "dev (never fitted)": dev.result.summary},
        ),
        *breakdown_tables(cv.result),
        *breakdown_tables(dev.result, ("event_type", "setting")),
        reliability_table("Calibration, train out-of-fold", cv.report),
        reliability_table("Calibration, dev", dev.report),
    )
    return {
        "meta": document["meta"],
        "logo": cv.result.model_dump(),
        "logo_calibration": cv.report.model_dump(),
        "dev": dev.result.model_dump(),
        "dev_calibration": dev.report.model_dump(),
    }


def learning_curve(
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0), seed: int = 0, params: TreeParams | None = None
) -> list[dict[str, float]]:
    """F1 against training-set size: whole groups drawn at random (seeded) until the fraction of clips is
    reached; leave-one-group-out within them, and the dev clips scored by a model fitted on them all."""
    import numpy as np

    params = params or TreeParams()
    data = corpus_dataset(TRAIN_MANIFEST)
    groups: dict[str, set[str]] = {}
    for sample in data.samples:
        groups.setdefault(sample.clip.group, set()).add(sample.clip.name)
    total = sum(len(names) for names in groups.values())
    order = list(np.random.default_rng(seed).permutation(sorted(groups)))
    points = []
    for fraction in fractions:
        chosen: set[str] = set()
        for count, group in enumerate(order):
            # At least three groups, so that every fold still trains on two.
            if len(chosen) >= fraction * total and count >= 3:
                break
            chosen |= groups[group]
        subset = Dataset([s for s in data.samples if s.clip.name in chosen])
        cv = cross_validate(subset, params, seed, f"{len(chosen)} clips")
        x, y, w = subset.arrays()
        document = model_of(export_trees(fit_trees(x, y, w, params, seed)), cv.calibration, {})
        dev = dev_check(document, cv.calibration)
        points.append(
            {
                "clips": len(chosen),
                "groups": len({s.clip.group for s in subset.samples}),
                "logo_f1": cv.result.summary.f1,
                "dev_f1": dev.result.summary.f1,
                "dev_precision": dev.result.summary.precision,
                "dev_recall": dev.result.summary.recall,
            }
        )
        log.warning("learning curve: %s", points[-1])
    return points
