"""The training command: recordings -> augmented rows -> nested LOGO CV and lockbox -> the recipe on
everything -> JSON model -> dev check at both operating points."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from sitewatch.detect.forest import model_from_dict
from sitewatch.detect.observe import Recording
from sitewatch.detect.pose import MoveNet
from sitewatch.training.corpus import (
    DEFAULT_INPUT,
    DEV_MANIFEST,
    NORMAL_MANIFEST,
    OCCLUDED,
    TRAIN_MANIFEST,
    VARIANTS,
    Clip,
    cached_recording,
    read_clips,
)
from sitewatch.training.cv import cross_validate, score_clips
from sitewatch.training.eval import EvalResult, summarise
from sitewatch.training.eval_tables import breakdown_tables, print_tables, summary_table
from sitewatch.training.fit import (
    Dataset,
    TreeParams,
    build_dataset,
    export_trees,
    fit_trees,
    judge,
    model_of,
)
from sitewatch.training.margins import load_margins, save_margins
from sitewatch.training.nested import NestedResult, choose, fingerprint, nested_cv, rejudge
from sitewatch.training.synth import synthetic_set

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


def corpus_dataset(
    manifest: Path,
    videos: Path | None = None,
    negatives: Path | None = None,
    synthetic: int = 0,
    occluded: bool = False,
) -> tuple[Dataset, set[str]]:
    """Labelled rows of every scored clip of a manifest (every picture variant and augmentation, and with
    `occluded` a box in front of its people too), plus the long normal footage of `negatives` (unaltered
    picture, at both phases), plus `synthetic` scenes of each synthetic camera kind (fitted on in every
    fold, never scored); and the names of those normal clips."""
    clips = [c for c in read_clips(manifest, videos) if c.label in ("fall", "no_fall")]
    data = build_dataset(clips, recordings_of(clips, corpus_variants(occluded)), FPS)
    if synthetic:
        scenes = synthetic_set(synthetic)
        data.extra = build_dataset([c for c, _ in scenes], {c.name: {"orig": r} for c, r in scenes}, FPS).samples
    if negatives is None:
        return data, set()
    normal = [c for c in read_clips(negatives) if c.label == "no_fall"]
    data.samples += build_dataset(normal, recordings_of(normal, ("orig", "shifted")), FPS).samples
    return data, {c.name for c in normal}


def corpus_variants(occluded: bool) -> tuple[str, ...]:
    """The picture variants the corpus is fitted under."""
    return (*VARIANTS, OCCLUDED) if occluded else VARIANTS


def cross_validate_manifest(
    manifest: Path, videos: Path | None = None, seed: int = 0, negatives: Path | None = None, workers: int = 1
) -> NestedResult:
    """Nested leave-one-group-out of the training recipe on any manifest with a `group` column (no
    lockbox: every group is scored by a recipe chosen and fitted without it)."""
    data, names = corpus_dataset(manifest, videos, negatives)
    return nested_cv(data, names, seed, str(manifest), workers, use_lockbox=False)


def cross_validate_manifest_with_lockbox(manifest: Path, negatives: Path | None, workers: int = 1) -> NestedResult:
    """The training script's estimate: nested LOGO with the normal footage and the lockbox scored once."""
    data, names = corpus_dataset(manifest, negatives=negatives if negatives and negatives.exists() else None)
    return nested_cv(data, names, 0, str(manifest), workers)


def dev_check(
    document: dict, manifest: Path = DEV_MANIFEST, fps: float = FPS, variant: str = "orig"
) -> tuple[EvalResult, EvalResult]:
    """Score an exported model on the dev clips (never fitted on, never tuned on) at both tiers; `variant`
    "shifted" reads each clip half a step later (the same footage, other frames)."""
    clips = read_clips(manifest)
    recordings = recordings_of(clips, (variant,), fps)
    model = model_from_dict(document)
    pairs = [(clip, recordings[clip.name].get(variant)) for clip in clips]
    judged = [
        judge(s, model.calibration, model.possible, model.confirm_fast_s, model.lost_look, model.confirm_partial_s)
        for s in score_clips(model, pairs, fps)
    ]
    return tuple(  # type: ignore[return-value]
        EvalResult(detector=f"pose (dev, never fitted, {variant}), {tier}", manifest=str(manifest), clips=c,
                   summary=summarise(c))
        for tier, c in (("alarm", [j.alarm for j in judged]), ("possible", [j.possible for j in judged]))
    )


def train(
    seed: int = 0,
    out: Path | None = None,
    manifest: Path = TRAIN_MANIFEST,
    negatives: Path | None = NORMAL_MANIFEST,
    workers: int = 1,
    keep_margins: Path | None = None,
    nested_from: Path | None = None,
    synthetic: int = 0,
    occluded: bool = False,
) -> dict:
    """Nested CV and lockbox, then the recipe on every group; write the model to `out` (when given) and
    print the tables; with `keep_margins`, every fold's margins go there too (for `rejudge_kept`). With
    `nested_from`, the nested estimate is re-judged from margins kept on these same rows instead of refitted
    (a rule after the trees changed; the trees did not)."""
    from sklearn import __version__ as sklearn_version

    data, names = corpus_dataset(
        manifest,
        negatives=negatives if negatives and negatives.exists() else None,
        synthetic=synthetic,
        occluded=occluded,
    )
    clips = sorted({s.clip for s in data.samples}, key=lambda c: c.name)
    stamp = fingerprint(data, seed) if nested_from is not None or keep_margins is not None else ""
    if nested_from is not None:
        nested = rejudge(data, names, load_margins(nested_from, stamp), str(manifest))
    else:
        nested = nested_cv(data, names, seed, str(manifest), workers, keep_margins=keep_margins is not None)
    if keep_margins is not None and nested.margins:
        save_margins(nested.margins, keep_margins, stamp)
        log.warning("kept every fold's margins in %s", keep_margins)
    groups = sorted({s.clip.group for s in data.samples})
    recipe = choose(data, groups, names, seed)
    trees = recipe.fit_all(data, seed)
    lockbox = nested.lockbox_alarm
    meta = {
        "trained_on": [manifest.parent.name, *([negatives.parent.name] if names and negatives else [])],
        "clips": len(clips),
        "rows": sum(len(s.y) for s in data.samples),
        "synthetic_rows": sum(len(s.y) for s in data.extra),
        "seed": seed,
        "nested_from_kept_margins": nested_from is not None,
        "setting": recipe.setting.name,
        "confirm_fast_s": recipe.confirm_fast_s,
        "confirm_partial_s": recipe.confirm_partial_s,
        "members": recipe.setting.describe(),
        "variants": list(corpus_variants(occluded)),
        "scikit_learn": sklearn_version,
        "nested_logo_f1": nested.alarm.result.summary.f1,
        "nested_logo_f1_group_weighted": nested.alarm.weighted.f1,
        "nested_normal_false_alarms_per_hour": nested.alarm.normal.false_alarms_per_hour,
        "nested_possible_recall": nested.possible.result.summary.recall,
        "lockbox_groups": nested.lockbox_groups,
        "lockbox_f1": lockbox.result.summary.f1 if lockbox else None,
    }
    document = recipe.document(trees, meta)
    dev_alarm, dev_possible = dev_check(document)
    late_alarm, late_possible = dev_check(document, variant="shifted")
    document["meta"]["dev_f1"] = dev_alarm.summary.f1
    document["meta"]["dev_possible_recall"] = dev_possible.summary.recall
    # The same clips read half a step later: how much of the dev score is the luck of which frames were read.
    document["meta"]["dev_f1_shifted"] = late_alarm.summary.f1
    document["meta"]["dev_possible_recall_shifted"] = late_possible.summary.recall
    if out is not None:
        out.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        log.warning("wrote %s (%.0f KiB)", out, out.stat().st_size / 1024)
    print_tables(*nested_tables(nested), *dev_tables(dev_alarm, dev_possible, late_alarm, late_possible))
    return {
        "meta": document["meta"],
        "nested": nested_summary(nested),
        "dev_alarm": dev_alarm.model_dump(),
        "dev_possible": dev_possible.model_dump(),
        "dev_shifted_alarm": late_alarm.model_dump(),
        "dev_shifted_possible": late_possible.model_dump(),
    }


def rejudge_kept(
    path: Path, manifest: Path = TRAIN_MANIFEST, negatives: Path | None = NORMAL_MANIFEST, seed: int = 0
) -> dict:
    """The nested estimate again from margins kept by `train(keep_margins=...)`, every choice after the trees
    made by the code as it is now; print its tables and return its numbers."""
    data, names = corpus_dataset(manifest, negatives=negatives if negatives and negatives.exists() else None)
    nested = rejudge(data, names, load_margins(path, fingerprint(data, seed)), str(manifest))
    print_tables(*nested_tables(nested))
    return nested_summary(nested)


def nested_tables(nested: NestedResult) -> list:
    """The nested CV's tables: both tiers (corpus and normal footage), per setting and group, the lockbox."""
    rows = {
        "corpus, alarm tier": nested.alarm.result.summary,
        "corpus, possible tier": nested.possible.result.summary,
        "normal footage, alarm tier": nested.alarm.normal,
        "normal footage, possible tier": nested.possible.normal,
    }
    if nested.lockbox_alarm and nested.lockbox_possible:
        rows["lockbox, alarm tier"] = nested.lockbox_alarm.result.summary
        rows["lockbox, possible tier"] = nested.lockbox_possible.result.summary
        rows["lockbox normal footage, alarm tier"] = nested.lockbox_alarm.normal
        rows["lockbox normal footage, possible tier"] = nested.lockbox_possible.normal
    title = (
        f"Nested leave-one-group-out (group-weighted F1: alarm {nested.alarm.weighted.f1:.2f}, "
        f"possible {nested.possible.weighted.f1:.2f}); lockbox: {', '.join(nested.lockbox_groups) or 'none'}"
    )
    return [summary_table(title, rows), *breakdown_tables(nested.alarm.result, ("setting", "group", "event_type"))]


def dev_tables(alarm: EvalResult, possible: EvalResult, late_alarm: EvalResult, late_possible: EvalResult) -> list:
    """The dev clips at both tiers and both reading phases, by setting."""
    rows = {
        "alarm tier": alarm.summary,
        "possible tier": possible.summary,
        "alarm tier, read half a step later": late_alarm.summary,
        "possible tier, read half a step later": late_possible.summary,
    }
    return [summary_table("dev (never fitted, never tuned on)", rows), *breakdown_tables(alarm, ("setting",))]


def nested_summary(nested: NestedResult) -> dict:
    """The nested result as JSON-able numbers (summaries, per setting, per group, choices)."""

    def tier(report) -> dict | None:
        if report is None:
            return None
        return {
            "summary": report.result.summary.model_dump(),
            "group_weighted": report.weighted.model_dump(),
            "normal": report.normal.model_dump(),
            "by_setting": {k: v.model_dump() for k, v in report.result.by("setting").items()},
            "by_group": {k: v.model_dump() for k, v in report.result.by("group").items()},
        }

    return {
        "alarm": tier(nested.alarm),
        "possible": tier(nested.possible),
        "lockbox_groups": nested.lockbox_groups,
        "lockbox_alarm": tier(nested.lockbox_alarm),
        "lockbox_possible": tier(nested.lockbox_possible),
        "choices": nested.choices,
    }


def learning_curve(
    fractions: Sequence[float] = (0.25, 0.5, 0.75, 1.0), seed: int = 0, params: TreeParams | None = None
) -> list[dict[str, float]]:
    """F1 against training-set size: whole groups drawn at random (seeded) until the fraction of clips is
    reached; plain leave-one-group-out within them, and the dev clips scored by a model fitted on them all."""
    import numpy as np

    params = params or TreeParams()
    data, _ = corpus_dataset(TRAIN_MANIFEST)
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
        dev, _ = dev_check(document)
        points.append(
            {
                "clips": len(chosen),
                "groups": len({s.clip.group for s in subset.samples}),
                "logo_f1": cv.result.summary.f1,
                "dev_f1": dev.summary.f1,
                "dev_precision": dev.summary.precision,
                "dev_recall": dev.summary.recall,
            }
        )
        log.warning("learning curve: %s", points[-1])
    return points

