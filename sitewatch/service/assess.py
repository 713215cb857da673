"""The analysis pipeline, the one place that knows the cascade: probe, detect, (model-verify), report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch import __version__
from sitewatch.detect.base import Detection, Detector, verdict_for
from sitewatch.errors import BackendError, NoFramesError
from sitewatch.schema import Event, EventKind, ModelOpinion, Report, Stage, Verdict, VideoInfo
from sitewatch.settings import Settings, get_settings
from sitewatch.text import LANGS, describe

if TYPE_CHECKING:
    from sitewatch.translate.base import Translator
    from sitewatch.video.decode import Frame
    from sitewatch.vlm.base import VideoLM

log = logging.getLogger(__name__)

Progress = Callable[[Stage, int, int], None]

# Whole-clip model verification only for videos up to this long; longer ones are checked per event.
WHOLE_CLIP_MAX_S = 60.0
# Seconds of context the model sees around a detector event.
EVENT_CONTEXT_S = 3.0
# How much a model's "no" lowers, and its "yes" raises, a detector event's confidence.
MODEL_VETO = 0.6
MODEL_BOOST = 0.5
# A model alone (no detector event) reporting an accident is worth a look, not an alarm by itself.
MODEL_ONLY_CONFIDENCE = 0.55
# Below this fraction of the video read, the report says so and "no accident" is never confident;
# below the second, what was not read outweighs what was, so the verdict is "uncertain".
COVERAGE_WARN = 0.95
COVERAGE_UNCERTAIN = 0.5
PARTIAL_CONFIDENCE = 0.5


def _counted(frames: Iterable[Frame], total: int, progress: Progress | None) -> Iterator[Frame]:
    for i, frame in enumerate(frames, 1):
        if progress is not None:
            progress(Stage.detect, i, total)
        yield frame


@dataclass(frozen=True)
class DetectorRun:
    """What the detector found, the decoder's warnings, and the fraction (0..1) of the video that could be read."""

    detection: Detection
    warnings: list[str]
    coverage: float


@dataclass(frozen=True)
class Judgement:
    """A verdict, how sure it is, and why it was weakened (None when it was not)."""

    verdict: Verdict
    confidence: float
    warning: str | None = None


def run_detector(
    path: Path, info: VideoInfo, detector: Detector, settings: Settings, progress: Progress | None = None
) -> DetectorRun:
    """Stream the video through the detector at its frame rate: what it found, decode warnings, coverage."""
    from sitewatch.video.decode import FrameReader, Size
    from sitewatch.video.prefetch import prefetched
    from sitewatch.video.sample import fps_plan

    plan = fps_plan(info, detector.fps, max_frames=settings.max_planned_frames)
    reader = FrameReader(
        path, plan, size=Size(max_side=detector.max_side), max_pixels=settings.max_pixels, approximate=True
    )
    with closing(prefetched(reader)) as frames:  # a detector that fails stops the reading at once
        detection = detector.run(_counted(frames, len(plan), progress), info)
    if detection.frames_seen == 0:
        raise NoFramesError(f"{path.name}: no frame could be decoded for analysis")
    coverage = min(1.0, reader.read_until_s / info.duration_s) if info.duration_s > 0 else 1.0
    return DetectorRun(detection, reader.warnings, coverage)


def verdict_of(
    events: list[Event], people_max: int, accident_probability: float | None = None
) -> tuple[Verdict, float]:
    """The clip's verdict and how sure it is (a calibrated detector's all-clear is 1 - its probability)."""
    verdict = verdict_for(events)
    if events:
        # As sure as its strongest event: the verdict and its incident show one and the same number.
        return verdict, max(e.confidence for e in events)
    # With nobody in view the detector can vouch for less of what may have happened.
    if not people_max:
        return Verdict.no_accident, 0.7
    return Verdict.no_accident, 0.85 if accident_probability is None else 1.0 - accident_probability


def partial_input(verdict: Verdict, confidence: float, coverage: float, info: VideoInfo) -> Judgement:
    """Weaken a verdict the unread part of the video could contradict; the warning says how much was read."""
    if coverage >= COVERAGE_WARN:
        return Judgement(verdict, confidence)
    warning = (
        f"only {coverage * info.duration_s:.1f} of {info.duration_s:.1f} s could be read "
        f"({coverage:.0%}); the rest of the file is missing or damaged"
    )
    if verdict is Verdict.no_accident:
        verdict = Verdict.uncertain if coverage < COVERAGE_UNCERTAIN else verdict
        confidence = min(confidence, PARTIAL_CONFIDENCE)
    return Judgement(verdict, confidence, warning)


def _windows(info: VideoInfo, events: list[Event]) -> list[tuple[float, float]]:
    spans = sorted(
        (max(0.0, e.start_s - EVENT_CONTEXT_S), min(info.duration_s, e.end_s + EVENT_CONTEXT_S)) for e in events
    )
    merged: list[tuple[float, float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    if info.is_image or info.duration_s <= WHOLE_CLIP_MAX_S:
        merged.insert(0, (0.0, info.duration_s))
    return merged


def model_opinions(
    path: Path, info: VideoInfo, events: list[Event], model: VideoLM, settings: Settings,
    progress: Progress | None = None, frames: int | None = None,
) -> list[ModelOpinion]:
    """Ask the model about the whole clip (short videos) and each window the detector flagged, `frames` each."""
    from sitewatch.verify import ask_model, failed_opinion
    from sitewatch.video.clip import load_clip

    spans = _windows(info, events)
    opinions = []
    for i, (start, end) in enumerate(spans, 1):
        clip = load_clip(
            path, info, frames or settings.num_frames, start_s=start, end_s=end, max_pixels=settings.max_pixels
        )
        try:
            opinions.append(ask_model(model, clip, start, end))
        except BackendError as exc:
            # The backend has retried what was worth retrying: the detector's findings stand, the failure is
            # recorded, and the remaining windows are spared the same wait.
            log.warning("model verification failed: %s", exc)
            skipped = f"; {len(spans) - i} later window(s) not checked" if i < len(spans) else ""
            opinions.append(failed_opinion(model, start, end, f"{exc}{skipped}"))
            break
        if progress is not None:
            progress(Stage.verify, i, len(spans))
    return opinions


def merge_opinions(events: list[Event], opinions: list[ModelOpinion]) -> list[Event]:
    """Adjust detector events by the model's verdict on their windows; add what only the model saw."""
    merged: list[Event] = []
    for event in events:
        votes = [o.accident for o in opinions if o.accident is not None and o.start_s <= event.start_s <= o.end_s]
        confidence = event.confidence
        if votes and all(votes):
            confidence = confidence + (1.0 - confidence) * MODEL_BOOST
        elif votes and not any(votes):
            confidence = confidence * MODEL_VETO
        details = {**event.details, "detector_confidence": event.confidence}
        if votes:
            details["model_agrees"] = float(sum(votes)) / len(votes)
        merged.append(event.model_copy(update={"confidence": round(confidence, 3), "details": details}))
    for op in opinions:
        covered = any(op.start_s <= e.start_s <= op.end_s for e in events)
        if op.accident and not covered:
            # Opinions carry an EventKind value or None (verify.py maps the model's words).
            kind = EventKind(op.kind) if op.kind else EventKind.fall
            merged.append(
                Event(
                    kind=kind,
                    start_s=op.start_s,
                    end_s=op.end_s,
                    confidence=MODEL_ONLY_CONFIDENCE,
                    keyframe_s=(op.start_s + op.end_s) / 2,
                    source=op.model,
                    description=op.description,
                )
            )
    return sorted(merged, key=lambda e: e.start_s)


def analyze(
    path: str | Path,
    settings: Settings | None = None,
    *,
    detector: Detector | str | None = None,
    model: VideoLM | None = None,
    translator: Translator | None = None,
    progress: Progress | None = None,
    frames: int | None = None,
) -> Report:
    """Analyse one video (or image) and return its Report; the model sees `frames` frames per window."""
    from sitewatch.detect.registry import get_detector
    from sitewatch.video.probe import probe

    settings = settings or get_settings()
    path = Path(path)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    info = probe(path, max_pixels=settings.max_pixels, max_duration_s=settings.max_duration_s)
    timings["probe_s"] = time.perf_counter() - started

    if detector is None or isinstance(detector, str):
        options = {"fps": settings.detect_fps} if settings.detect_fps else {}
        detector = get_detector(detector or settings.detector, **options)
    t = time.perf_counter()
    run = run_detector(path, info, detector, settings, progress)
    detection, warnings, coverage = run.detection, run.warnings, run.coverage
    timings["detect_s"] = time.perf_counter() - t

    events = detection.events
    opinions: list[ModelOpinion] = []
    if model is not None:
        t = time.perf_counter()
        from sitewatch.verify import opinion_warnings

        opinions = model_opinions(path, info, events, model, settings, progress, frames)
        warnings.extend(opinion_warnings(opinions))
        events = merge_opinions(events, opinions)
        timings["verify_s"] = time.perf_counter() - t

    verdict, confidence = verdict_of(events, detection.people_max, detection.accident_probability)
    judged = partial_input(verdict, confidence, coverage, info)
    verdict, confidence = judged.verdict, judged.confidence
    if judged.warning:
        warnings.append(judged.warning)
    scene_en = next((o.description for o in opinions if o.description), "")
    scene_translations: dict[str, str] = {}
    if scene_en and translator is not None:
        from sitewatch.translate.check import translate_or_keep

        # The model speaks English: its description goes into every other language sitewatch speaks.
        for code in (c for c in LANGS if c != "en"):
            scene = translate_or_keep(translator, scene_en, "en", code)
            if scene.warning:
                warnings.append(scene.warning)
            else:
                scene_translations[code] = scene.text
    timings["total_s"] = time.perf_counter() - started
    if info.duration_s and timings["total_s"]:
        timings["speed_x"] = info.duration_s / timings["total_s"]
    report = Report(
        video=info,
        verdict=verdict,
        confidence=round(confidence, 3),
        events=events,
        detector=f"{detector.name} (fps {detector.fps:g})",
        detector_model=detection.model,
        model=getattr(model, "name", None),
        opinions=opinions,
        scene_en=scene_en,
        scene_translations=scene_translations,
        people_max=detection.people_max,
        signals=detection.signals,
        warnings=warnings,
        coverage=round(coverage, 3),
        timings={k: round(v, 3) for k, v in timings.items()},
        sitewatch_version=__version__,
    )
    # The JSON carries the summary in every language for programs that do not render it themselves.
    return report.model_copy(update={"summary": {code: describe(report, code).summary for code in LANGS}})
