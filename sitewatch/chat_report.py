"""The detector's report in words: compact English context for a model, and answers without a model.

Without a video-language model the chat still answers the common questions (what happened, when,
how many people, is someone down) from the report, with hand-written English and polite Korean.
"""

from __future__ import annotations

import re
from enum import Enum

from sitewatch.prompts import REPORT_CONTEXT_HEADER
from sitewatch.report.words import EVENT_EN, EVENT_KO, josa, seconds_en, seconds_ko
from sitewatch.schema import Event, EventKind, Report, Verdict
from sitewatch.translate.base import Lang


class Intent(str, Enum):
    """A kind of question the report can answer."""

    what = "what"
    when = "when"
    people = "people"
    down = "down"


# Matched as substrings of the lower-cased question; Korean stems catch every verb ending.
KEYWORDS: dict[Lang, dict[Intent, tuple[str, ...]]] = {
    "en": {
        Intent.what: (
            "what happen",
            "what's happen",
            "what went on",
            "what is going on",
            "accident",
            "incident",
            "describe",
            "summary",
            "summarize",
            "tell me about",
        ),
        Intent.when: ("when", "what time", "timestamp", "which second", "at what point", "how long"),
        Intent.people: ("how many", "number of", "people", "persons", "headcount", "count"),
        Intent.down: (
            "down",
            "fallen",
            "fall",
            "fell",
            "lying",
            "collapse",
            "injur",
            "hurt",
            "unconscious",
            "on the ground",
        ),
    },
    "ko": {
        Intent.what: (
            "무슨 일",
            "무슨일",
            "무엇",
            "뭐",
            "뭔",
            "어떤 일",
            "사고",
            "상황",
            "요약",
            "설명",
        ),
        Intent.when: ("언제", "몇 초", "몇초", "몇 분", "몇분", "시간", "시각", "시점"),
        Intent.people: ("몇 명", "몇명", "인원", "사람 수", "사람은", "사람들", "작업자 수"),
        Intent.down: ("쓰러", "넘어", "누워", "다쳤", "다친", "부상", "추락", "떨어졌", "의식"),
    },
}

_DOWN_KINDS = (EventKind.fall, EventKind.person_down)

MODEL_HINT: dict[Lang, str] = {
    "en": (
        "(Answered from the detector's report only. A video-language model gives richer answers "
        "about the video: set SITEWATCH_VLM=pllava-7b or pass --model pllava-7b.)"
    ),
    "ko": (
        "※ 감지기 보고서만으로 답변드렸습니다. 영상 내용에 대해 더 자세한 답변을 원하시면 "
        "비디오-언어 모델을 설정해 주세요(SITEWATCH_VLM=pllava-7b 환경 변수 또는 --model pllava-7b 옵션)."
    ),
}


def _span_en(event: Event) -> str:
    if event.end_s - event.start_s < 0.05:
        return f"at {seconds_en(event.keyframe_s)}"
    start, end = seconds_en(event.start_s), seconds_en(event.end_s)
    return f"at {seconds_en(event.keyframe_s)} (from {start} to {end})"


def _span_ko(event: Event) -> str:
    if event.end_s - event.start_s < 0.05:
        return seconds_ko(event.keyframe_s)
    return f"{seconds_ko(event.keyframe_s)}({seconds_ko(event.start_s)}~{seconds_ko(event.end_s)})"


def report_context(report: Report) -> str:
    """The report as compact English for the model: verdict, events with time and confidence, people."""
    medium = "image" if report.video.is_image else f"{report.video.duration_s:.1f} s video"
    lines = [
        REPORT_CONTEXT_HEADER,
        f"Verdict: {report.verdict.value} (confidence {report.confidence:.2f}) for this {medium}.",
    ]
    if report.events:
        lines.append("Events:")
        for event in report.events:
            people = f", people involved: {len(event.people)}" if event.people else ""
            lines.append(
                f"- {event.kind.value} at {event.keyframe_s:.1f} s "
                f"({event.start_s:.1f}-{event.end_s:.1f} s), confidence {event.confidence:.2f}{people}"
            )
    else:
        lines.append("Events: none detected.")
    lines.append(f"Most people visible at once: {report.people_max}.")
    if report.summary_en:
        lines.append(f"Summary: {report.summary_en}")
    return "\n".join(lines)


def detect_intents(question: str, lang: Lang) -> list[Intent]:
    """The report questions `question` asks, in a fixed order (what, when, people, down)."""
    text = re.sub(r"\s+", " ", question.lower())
    return [intent for intent, words in KEYWORDS[lang].items() if any(word in text for word in words)]


def _what(report: Report, lang: Lang) -> str:
    count = len(report.events)
    if lang == "ko":
        opening = {
            Verdict.accident: f"감지기가 사고로 보이는 장면을 {count}건 찾았습니다.",
            Verdict.uncertain: "감지기가 사고 여부를 확실하게 판단하지 못했습니다.",
            Verdict.no_accident: "감지기는 이 영상에서 사고를 발견하지 못했습니다.",
        }[report.verdict]
        parts = [opening]
        parts += [
            f"{_span_ko(e)}에 {josa(EVENT_KO[e.kind], '이', '가')} 신뢰도 {e.confidence:.0%}로 감지되었습니다."
            for e in report.events
        ]
        parts.append(_people(report, "ko"))
        if report.scene_en:
            parts.append(f"모델의 장면 설명(영문): {report.scene_en}")
        if report.verdict is Verdict.accident:
            parts.append("즉시 현장을 확인하시고 작업자의 상태를 점검해 주시기 바랍니다.")
        return " ".join(parts)
    opening = {
        Verdict.accident: f"The detector found {count} possible accident event(s).",
        Verdict.uncertain: "The detector is not sure whether an accident happened.",
        Verdict.no_accident: "The detector found no accident in this video.",
    }[report.verdict]
    parts = [opening]
    parts += [
        f"{EVENT_EN[e.kind].capitalize()} {_span_en(e)}, confidence {e.confidence:.0%}."
        for e in report.events
    ]
    parts.append(_people(report, "en"))
    if report.scene_en:
        parts.append(f"The model describes the scene as: {report.scene_en}")
    if report.verdict is Verdict.accident:
        parts.append("Please check on the worker and the site right away.")
    return " ".join(parts)


def _when(report: Report, lang: Lang) -> str:
    if not report.events:
        return (
            "감지된 사고가 없어서 알려 드릴 시각이 없습니다."
            if lang == "ko"
            else "The detector found no accident, so there is no time to give."
        )
    if lang == "ko":
        return " ".join(f"{josa(EVENT_KO[e.kind], '은', '는')} {_span_ko(e)}에 감지되었습니다." for e in report.events)
    return " ".join(f"{EVENT_EN[e.kind].capitalize()} {_span_en(e)}." for e in report.events)


def _people(report: Report, lang: Lang) -> str:
    involved = len({person for event in report.events for person in event.people})
    if lang == "ko":
        if report.people_max == 0:
            return "감지기가 영상에서 사람을 찾지 못했습니다."
        text = f"화면에 동시에 보인 사람은 최대 {report.people_max}명입니다."
        return text + (f" 그중 사고 장면에 관련된 사람은 {involved}명입니다." if involved else "")
    if report.people_max == 0:
        return "The detector saw no people in this video."
    text = f"At most {report.people_max} people are visible at the same time."
    return text + (f" People involved in the detected events: {involved}." if involved else "")


def _down(report: Report, lang: Lang) -> str:
    down = [e for e in report.events if e.kind in _DOWN_KINDS]
    if not down:
        return (
            "아니요, 넘어지거나 쓰러진 사람은 감지되지 않았습니다."
            if lang == "ko"
            else "No: the detector saw nobody fall or lie on the ground."
        )
    if lang == "ko":
        seen = {EventKind.fall: "넘어지는 장면", EventKind.person_down: "쓰러져 있는 사람"}
        items = [
            f"{_span_ko(e)}에 {josa(seen[e.kind], '이', '가')} 신뢰도 {e.confidence:.0%}로 감지되었습니다."
            for e in down
        ]
        return "네, " + " ".join(items)
    return "Yes. " + " ".join(
        f"{EVENT_EN[e.kind].capitalize()} {_span_en(e)}, confidence {e.confidence:.0%}." for e in down
    )


_ANSWERS = {Intent.what: _what, Intent.when: _when, Intent.people: _people, Intent.down: _down}

_HELP: dict[Lang, str] = {
    "en": "You can ask what happened, when, how many people were there, or whether someone is down.",
    "ko": "무슨 일이 있었는지, 언제였는지, 몇 명이 있었는지, 쓰러진 사람이 있는지 물어보실 수 있습니다.",
}
_NO_REPORT: dict[Lang, str] = {
    "en": "There is no analysis of this video yet, so I cannot answer. Please analyse the video first.",
    "ko": "아직 이 영상의 분석 결과가 없어서 답변드리기 어렵습니다. 먼저 영상을 분석해 주세요.",
}


def answer_from_report(
    question: str, question_lang: Lang, report: Report | None, lang: Lang, note: str | None = None
) -> str:
    """Answer `question` in `lang` from the report alone, ending with `note` (default: how to get richer answers)."""
    note = MODEL_HINT[lang] if note is None else note
    if report is None:
        return f"{_NO_REPORT[lang]}\n{note}"
    intents = detect_intents(question, question_lang)
    if intents:
        body = " ".join(_ANSWERS[intent](report, lang) for intent in intents)
    else:
        body = f"{_what(report, lang)} {_HELP[lang]}"
    return f"{body}\n{note}"
