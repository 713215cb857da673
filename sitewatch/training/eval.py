"""Evaluate a detector on a manifest of labelled clips: clip-level P/R/F1, timing, false alarms, speed."""

from __future__ import annotations

import csv
import itertools
import logging
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import BaseModel, Field

from sitewatch.schema import Event, Verdict

if TYPE_CHECKING:
    from sitewatch.settings import Settings

log = logging.getLogger(__name__)

Label = Literal["fall", "no_fall", "other"]
Outcome = Literal["TP", "FP", "FN", "TN", "-"]

# A first event this close to the labelled start counts as "on time".
ON_TIME_S = 2.0


class ManifestRow(BaseModel):
    """One labelled clip of a manifest in the format of the shared MANIFEST.csv."""

    file: str
    label: Label
    fall_start_s: float | None = None
    event_type: str = ""
    duration_s: float | None = None
    description: str = ""
    setting: str = ""
    group: str = Field("", description="source of the clip, the unit of leave-one-group-out")


class ClipResult(BaseModel):
    """How a detector did on one clip."""

    file: str
    label: Label
    event_type: str = ""
    setting: str = ""
    group: str = ""
    fall_start_s: float | None = None
    accident: bool = Field(description="the detector's verdict was 'accident'")
    first_event_s: float | None = None
    timing_error_s: float | None = Field(None, description="first event minus labelled start (TP only)")
    alarms: int = Field(0, description="separate accident-level alarms raised in the clip")
    flagged: bool = Field(False, description="any event at all: an accident or a possible accident (review tier)")
    flags: int = Field(0, description="separate events of any confidence (alarms and possible accidents)")
    duration_s: float = 0.0
    wall_s: float = 0.0
    outcome: Outcome = "-"
    error: str | None = None


class EvalSummary(BaseModel):
    """Scores over the scored clips (`fall` and `no_fall`; `other` is listed but not scored)."""

    clips: int
    scored: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    timing_mean_abs_s: float | None
    timing_median_abs_s: float | None
    on_time_fraction: float | None = Field(description=f"TPs whose first event is within {ON_TIME_S} s")
    false_alarm_clips: int
    false_alarms: int
    no_fall_hours: float
    false_alarms_per_hour: float | None
    video_s: float
    wall_s: float
    speed_x: float | None = Field(description="video seconds analysed per wall-clock second")
    errors: int = 0


class EvalResult(BaseModel):
    """Per-clip results and their summary."""

    detector: str
    manifest: str
    clips: list[ClipResult]
    summary: EvalSummary

    def by(self, key: Literal["event_type", "setting", "group", "label"]) -> dict[str, EvalSummary]:
        """Summaries of the clips grouped by one of their fields (clips without a value under '-')."""
        groups: dict[str, list[ClipResult]] = {}
        for clip in self.clips:
            groups.setdefault(getattr(clip, key) or "-", []).append(clip)
        return {name: summarise(clips) for name, clips in sorted(groups.items())}


class ReliabilityBin(BaseModel):
    """Clips whose calibrated probability fell in [low, high)."""

    low: float
    high: float
    clips: int
    mean_probability: float | None
    fall_fraction: float | None


class CalibrationReport(BaseModel):
    """How well calibrated clip probabilities match what happened."""

    brier: float
    bins: list[ReliabilityBin]


def reliability(
    probabilities: np.ndarray, labels: np.ndarray, edges: Sequence[float] = (0, 0.2, 0.4, 0.6, 0.8, 1.0001)
) -> CalibrationReport:
    """Brier score and a reliability table of clip probabilities against 0/1 labels."""
    bins = []
    for low, high in itertools.pairwise(edges):
        mask = (probabilities >= low) & (probabilities < high)
        bins.append(
            ReliabilityBin(
                low=low,
                high=min(high, 1.0),
                clips=int(mask.sum()),
                mean_probability=round(float(probabilities[mask].mean()), 3) if mask.any() else None,
                fall_fraction=round(float(labels[mask].mean()), 3) if mask.any() else None,
            )
        )
    return CalibrationReport(brier=round(float(np.mean((probabilities - labels) ** 2)), 4), bins=bins)


def _float(value: str | None) -> float | None:
    value = (value or "").strip()
    return float(value) if value else None


def read_manifest(path: str | Path) -> list[ManifestRow]:
    """Read a manifest CSV (columns: file, label, fall_start_s, event_type, duration_s, setting, group, ...)."""
    with Path(path).open(newline="", encoding="utf-8") as handle:
        return [
            ManifestRow(
                file=row["file"].strip(),
                label=row["label"].strip(),  # type: ignore[arg-type]
                fall_start_s=_float(row.get("fall_start_s")),
                event_type=(row.get("event_type") or "").strip(),
                duration_s=_float(row.get("duration_s")),
                description=(row.get("description") or "").strip(),
                setting=(row.get("setting") or "").strip(),
                group=(row.get("group") or "").strip(),
            )
            for row in csv.DictReader(handle)
        ]


def count_alarms(events: Sequence[Event], threshold: float) -> int:
    """Accident-level events, counting overlapping ones (a fall and the lying after it) as one."""
    spans = sorted((e.start_s, e.end_s) for e in events if e.confidence >= threshold)
    count, reach = 0, float("-inf")
    for start, end in spans:
        if start > reach:
            count += 1
        reach = max(reach, end)
    return count


def clip_result(
    row: ManifestRow,
    accident: bool,
    first_event_s: float | None,
    duration_s: float = 0.0,
    wall_s: float = 0.0,
    alarms: int | None = None,
    error: str | None = None,
    flags: int | None = None,
) -> ClipResult:
    """Score one clip from the detector's verdict and first event time."""
    outcome: Outcome = "-"
    timing = None
    if row.label == "fall":
        outcome = "TP" if accident else "FN"
        if accident and first_event_s is not None and row.fall_start_s is not None:
            timing = round(first_event_s - row.fall_start_s, 3)
    elif row.label == "no_fall":
        outcome = "FP" if accident else "TN"
    return ClipResult(
        file=row.file,
        label=row.label,
        event_type=row.event_type,
        setting=row.setting,
        group=row.group,
        fall_start_s=row.fall_start_s,
        accident=accident,
        first_event_s=first_event_s,
        timing_error_s=timing,
        alarms=(int(accident) if alarms is None else alarms),
        flagged=bool(flags) if flags is not None else accident,
        flags=flags if flags is not None else int(accident),
        duration_s=duration_s,
        wall_s=wall_s,
        outcome=outcome,
        error=error,
    )


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def summarise(clips: Sequence[ClipResult]) -> EvalSummary:
    """Clip-level precision, recall and F1; timing error; false alarms per hour of no_fall; speed."""
    counts = {k: sum(c.outcome == k for c in clips) for k in ("TP", "FP", "FN", "TN")}
    tp, fp, fn, tn = counts["TP"], counts["FP"], counts["FN"], counts["TN"]
    precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    errors = [abs(c.timing_error_s) for c in clips if c.outcome == "TP" and c.timing_error_s is not None]
    negatives = [c for c in clips if c.label == "no_fall"]
    hours = sum(c.duration_s for c in negatives) / 3600.0
    false_alarms = sum(c.alarms for c in negatives if c.accident)
    video_s = sum(c.duration_s for c in clips)
    wall_s = sum(c.wall_s for c in clips)
    return EvalSummary(
        clips=len(clips),
        scored=tp + fp + fn + tn,
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        timing_mean_abs_s=round(statistics.fmean(errors), 3) if errors else None,
        timing_median_abs_s=round(statistics.median(errors), 3) if errors else None,
        on_time_fraction=round(sum(e <= ON_TIME_S for e in errors) / len(errors), 4) if errors else None,
        false_alarm_clips=fp,
        false_alarms=false_alarms,
        no_fall_hours=round(hours, 5),
        false_alarms_per_hour=round(false_alarms / hours, 2) if hours else None,
        video_s=round(video_s, 3),
        wall_s=round(wall_s, 3),
        speed_x=round(video_s / wall_s, 2) if wall_s else None,
        errors=sum(c.error is not None for c in clips),
    )


def possible_tier(result: EvalResult) -> EvalResult:
    """The same clips scored at the review tier: any event (accident or possible accident) counts."""
    clips = []
    for c in result.clips:
        row = ManifestRow(file=c.file, label=c.label, fall_start_s=c.fall_start_s, event_type=c.event_type,
                          setting=c.setting, group=c.group)
        clips.append(clip_result(row, c.flagged, c.first_event_s, c.duration_s, c.wall_s, c.flags, c.error, c.flags))
    return EvalResult(detector=f"{result.detector}, possible", manifest=result.manifest, clips=clips,
                      summary=summarise(clips))


class Weighted(BaseModel):
    """Precision, recall and F1 with every group (source) weighing the same, however many clips it has."""

    precision: float
    recall: float
    f1: float


def group_weighted(clips: Sequence[ClipResult]) -> Weighted:
    """Clip outcomes counted with weight 1 / (clips of the clip's group), so no single source dominates."""
    sizes: dict[str, int] = {}
    for clip in clips:
        sizes[clip.group or clip.file] = sizes.get(clip.group or clip.file, 0) + 1
    sums = {k: 0.0 for k in ("TP", "FP", "FN")}
    for clip in clips:
        if clip.outcome in sums:
            sums[clip.outcome] += 1.0 / sizes[clip.group or clip.file]
    precision = _ratio(sums["TP"], sums["TP"] + sums["FP"])
    recall = _ratio(sums["TP"], sums["TP"] + sums["FN"])
    f1 = _ratio(2 * precision * recall, precision + recall)
    return Weighted(precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4))


def evaluate(
    manifest: str | Path,
    videos_dir: str | Path | None = None,
    settings: Settings | None = None,
    model: str | None = None,
    progress: bool = True,
    workers: int | None = None,
    ray: str | None = None,
    fps: float | None = None,
) -> EvalResult:
    """Run `sitewatch analyze` over every clip of `manifest` (videos next to it unless `videos_dir`) and score it.

    The clips are analysed by the batch engine: a process pool of `workers` (default one per core), or the Ray
    cluster `ray` names; `model` is a backend name each worker loads once; `fps` the detector's rate.
    """
    from sitewatch.batch.jobs import Job
    from sitewatch.batch.runners import Capacity, get_runner
    from sitewatch.detect.base import ACCIDENT_CONFIDENCE, first_accident_s
    from sitewatch.request import AnalysisRequest
    from sitewatch.settings import get_settings

    settings = settings or get_settings()
    manifest = Path(manifest)
    folder = Path(videos_dir) if videos_dir is not None else manifest.parent
    rows = read_manifest(manifest)
    options = AnalysisRequest.of(settings, model=model or "none", fps=fps)
    runner = get_runner("ray" if ray else "pool", settings, options, Capacity(workers=workers, address=ray))
    results: list[ClipResult | None] = [None] * len(rows)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(rows), desc=f"eval {options.detector}", unit="clip")
    for done in runner.run(Job(i, folder / row.file) for i, row in enumerate(rows)):
        row, report = rows[done.index], done.report
        if report is None:
            log.warning("%s: %s", row.file, done.result.error)
            results[done.index] = clip_result(row, False, None, row.duration_s or 0.0, error=done.result.error)
        else:
            results[done.index] = clip_result(
                row,
                accident=report.verdict is Verdict.accident,
                first_event_s=first_accident_s(report.events),
                duration_s=report.video.duration_s,
                wall_s=done.result.wall_s,
                alarms=count_alarms(report.events, ACCIDENT_CONFIDENCE),
                flags=count_alarms(report.events, 0.0),
            )
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{row.file} {results[done.index].outcome}")
    if bar is not None:
        bar.close()
    clips = [r for r in results if r is not None]
    name = options.detector + (f" + {model}" if model else "")
    return EvalResult(detector=name, manifest=str(manifest), clips=clips, summary=summarise(clips))
