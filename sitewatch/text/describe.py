"""A Report in words, in one language: the verdict, one sentence per incident, the table rows, the advice."""

from __future__ import annotations

from dataclasses import dataclass

from sitewatch.schema import CLIP_END, STAYED_DOWN, EventKind, Report, Verdict
from sitewatch.text.base import Language
from sitewatch.text.incidents import Incident, group_incidents
from sitewatch.text.languages import language

# The incident table's columns: the label key of each and the IncidentRow field it shows.
_CELLS = {
    "col_number": "number", "col_kind": "label", "col_phases": "phases", "col_start": "start", "col_end": "end",
    "confidence": "confidence", "col_people": "people", "col_source": "source",
}  # fmt: skip
TABLE_COLUMNS = ("col_number", "col_kind", "col_phases", "col_start", "col_end", "confidence", "col_people")
# Below this share of the video read, the summary says how much was actually checked.
PARTIAL_COVERAGE = 0.95


@dataclass(frozen=True)
class IncidentRow:
    """One incident as a table row, every cell already in the reader's language."""

    number: int
    kind: EventKind
    label: str
    phases: str
    start: str
    end: str
    confidence: str
    people: str
    source: str


@dataclass(frozen=True)
class ReportText:
    """What every surface shows of a report, in one language."""

    lang: str
    verdict: str
    confidence: str
    sentences: tuple[str, ...]
    rows: tuple[IncidentRow, ...]
    detector: str  # what looked at the video, in plain words (자세 분석, 초당 6장)

    @property
    def summary(self) -> str:
        """The sentences as one paragraph."""
        return " ".join(self.sentences)

    def table(self, keys: tuple[str, ...] = TABLE_COLUMNS) -> tuple[list[str], list[list[str]]]:
        """Header labels and cells of the incident table; the phases column only when an incident has phases."""
        if not any(row.phases for row in self.rows):
            keys = tuple(k for k in keys if k != "col_phases")
        words = language(self.lang)
        cells = [[str(getattr(row, _CELLS[k])) for k in keys] for row in self.rows]
        return [words.t(k) for k in keys], cells


def _rows(incidents: list[Incident], words: Language) -> tuple[IncidentRow, ...]:
    rows = []
    for number, incident in enumerate(incidents, 1):
        sources = sorted({e.source for e in incident.phases})
        rows.append(
            IncidentRow(
                number=number,
                kind=incident.kind,
                label=words.events[incident.kind],
                phases=" → ".join(words.events[e.kind] for e in incident.phases) if len(incident.phases) > 1 else "",
                start=words.seconds(incident.start_s),
                end=words.seconds(incident.end_s),
                confidence=words.percent(incident.confidence),
                people=words.t("people_count", n=len(incident.people)) if incident.people else "",
                source=", ".join(words.t("source_detector") if s == "detector" else s for s in sources),
            )
        )
    return tuple(rows)


def _scene(report: Report, words: Language) -> list[str]:
    translated = report.scene_translations.get(words.code, "")
    if translated:
        return [words.t("scene", text=translated)]
    return [words.t("scene_untranslated", text=report.scene_en)] if report.scene_en else []


def _partial(report: Report, words: Language) -> list[str]:
    if report.coverage >= PARTIAL_COVERAGE or report.video.is_image:
        return []
    total = report.video.duration_s
    return [words.t("partial", read=words.seconds(total * report.coverage), total=words.seconds(total))]


def _stayed_down(report: Report, words: Language) -> list[str]:
    """Why a likely fall paged: the person stayed down afterwards (the alarm's own evidence, said plainly)."""
    stayed = [e.details[STAYED_DOWN] for e in report.events if STAYED_DOWN in e.details]
    return [words.t("stayed_down", d=words.seconds(max(stayed)))] if stayed else []


def summary_sentences(report: Report, words: Language, incidents: list[Incident]) -> list[str]:
    """The summary paragraph's sentences: verdict, incidents, people, scene, coverage, advice."""
    involved = len({p for i in incidents for p in i.people})
    described = [words.incident(i) for i in incidents]
    people = words.people_seen(report.people_max, involved)
    lost = any(i.kind is EventKind.person_lost_after_fall for i in incidents)
    if report.verdict is Verdict.accident:
        sentences = [words.accident_opening(len(incidents)), *described, *_stayed_down(report, words), people]
        advice = ["advice_accident"]
    elif report.verdict is Verdict.uncertain:
        sentences = [words.t("uncertain_opening"), *described, people]
        advice = ["advice_uncertain"]
    else:
        duration = words.seconds(report.video.duration_s)
        medium = words.t("medium_image") if report.video.is_image else words.t("medium_video", duration=duration)
        sentences = [words.t("no_accident", medium=medium), people]
        advice = []
    if lost and report.verdict is not Verdict.accident:
        # What happened out of view is the thing to check, more than the part of the video already seen.
        advice = ["advice_lost"]
    elif report.verdict is Verdict.uncertain and any(CLIP_END in e.details for e in report.events):
        # The file stopped while someone looked to be going down: what came next is what to check.
        advice = ["advice_clip_end"]
    return [*sentences, *_scene(report, words), *_partial(report, words), *(words.t(a) for a in advice)]


def describe(report: Report, lang: str) -> ReportText:
    """The report in `lang`: verdict label, confidence, summary sentences and one row per incident."""
    words = language(lang)
    incidents = group_incidents(report.events)
    return ReportText(
        lang=words.code,
        verdict=words.verdicts[report.verdict],
        confidence=words.confidence(report.confidence),
        sentences=tuple(summary_sentences(report, words, incidents)),
        rows=_rows(incidents, words),
        detector=_detector(report, words),
    )


def _detector(report: Report, words: Language) -> str:
    """The detector in plain words, and which fitted model decided."""
    name = words.detector_name(report.detector)
    if report.detector_model is None:
        return name
    return words.t("detector_decided", detector=name, model=words.decided_by(report.detector_model))


def keyframe_caption(report: Report, event_index: int | None, time_s: float, lang: str) -> str:
    """A keyframe's caption: its incident's number and the phase it shows, or the time of an overview frame."""
    words = language(lang)
    if event_index is None:
        return words.t("overview_caption", time=words.seconds(time_s))
    event = report.events[event_index]
    incidents = group_incidents(report.events)
    number = next(n for n, i in enumerate(incidents, 1) if any(e is event for e in i.phases))
    return words.t("keyframe_caption", number=number, kind=words.events[event.kind], time=words.seconds(time_s))
