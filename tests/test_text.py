"""The language layer: one place for every word, incidents counted as a reader counts them, right particles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitewatch.schema import Event, EventKind, Report, Verdict, VideoInfo
from sitewatch.text import LANGS, answer_from_report, describe, detect_intents, group_incidents, language
from sitewatch.text.base import Intent

PACKAGE = Path(__file__).resolve().parents[1] / "sitewatch"
HANGUL = re.compile("[\uac00-\ud7a3]")
# Korean may live in the language layer and, as translation data, in the translators' glossary and checks.
KOREAN_ALLOWED = {"text", "translate"}


def _info(duration: float = 11.3) -> VideoInfo:
    return VideoInfo(
        path="clip.mp4", size_bytes=1, container="mp4", codec="h264", width=640, height=360, fps=25.0,
        duration_s=duration, frame_count=int(duration * 25), frame_count_exact=True,
    )


def _event(kind: EventKind, start: float, end: float, confidence: float, people: list[int] | None = None) -> Event:
    return Event(kind=kind, start_s=start, end_s=end, confidence=confidence, keyframe_s=start + 0.4,
                 people=people if people is not None else [1])


def _report(events: list[Event], verdict: Verdict = Verdict.accident, people: int = 1, **extra: object) -> Report:
    return Report(video=_info(), verdict=verdict, confidence=max([e.confidence for e in events], default=0.85),
                  events=events, detector="pose", people_max=people, **extra)


ONE_FALL = [_event(EventKind.fall, 3.7, 4.5, 0.92), _event(EventKind.person_down, 5.0, 11.2, 0.80)]


def test_no_module_outside_the_text_layer_holds_korean() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in KOREAN_ALLOWED and HANGUL.search(path.read_text())
    ]
    assert offenders == []


def test_every_language_has_the_same_words() -> None:
    first = language(LANGS[0])
    for code in LANGS:
        words = language(code)
        assert set(words.strings) == set(first.strings), code
        assert set(words.events) == set(EventKind) and set(words.verdicts) == set(Verdict)
        assert set(words.keywords) == set(Intent)
        assert words.example_questions


def test_a_fall_and_lying_down_are_one_incident_with_phases() -> None:
    incidents = group_incidents(ONE_FALL)
    assert len(incidents) == 1 and incidents[0].kind is EventKind.fall
    assert [e.kind for e in incidents[0].phases] == [EventKind.fall, EventKind.person_down]
    two_people = [_event(EventKind.fall, 3.7, 4.5, 0.9, [1]), _event(EventKind.fall, 4.0, 4.8, 0.9, [2])]
    assert len(group_incidents(two_people)) == 2
    later = [_event(EventKind.fall, 3.7, 4.5, 0.9), _event(EventKind.fall, 30.0, 31.0, 0.9)]
    assert len(group_incidents(later)) == 2
    struck = [_event(EventKind.object_drop, 3.0, 3.5, 0.6, []), _event(EventKind.fall, 3.4, 4.2, 0.9)]
    (one,) = group_incidents(struck)
    assert one.kind is EventKind.fall and [e.kind for e in one.phases] == [EventKind.object_drop, EventKind.fall]


def test_korean_summary_reads_as_one_incident_with_one_confidence() -> None:
    text = describe(_report(ONE_FALL), "ko")
    assert text.verdict == "사고 감지" and text.confidence == "신뢰도 92%"
    assert text.summary.startswith(
        "사고가 감지되었습니다. 3.7초에 사람이 넘어졌고, 이후 11.2초까지 바닥에 쓰러져 있었습니다"
    )
    assert text.summary.count("신뢰도") == 1 and "2건" not in text.summary
    assert [(r.label, r.phases, r.start, r.end, r.people) for r in text.rows] == [
        ("넘어짐", "넘어짐 → 쓰러짐", "3.7초", "11.2초", "1명")
    ]
    english = describe(_report(ONE_FALL), "en")
    assert english.summary.startswith("Accident detected. A person fell at 3.7 s, then lay on the ground until 11.2 s")
    assert english.rows[0].start == "3.7 s"


def test_times_agree_between_the_summary_and_the_table() -> None:
    for code in LANGS:
        text = describe(_report(ONE_FALL), code)
        assert text.rows[0].start in text.summary


@pytest.mark.parametrize(("most", "involved", "expected"), [
    (0, 0, "No people were seen."),
    (1, 0, "One person was visible."),
    (1, 1, "One person was visible."),
    (2, 2, "Up to 2 people were visible at once."),
    (3, 2, "Up to 3 people were visible at once. 2 of them were involved."),
])
def test_english_counts_people_in_good_english(most: int, involved: int, expected: str) -> None:
    assert language("en").people_seen(most, involved) == expected


def test_no_accident_and_uncertain_summaries() -> None:
    quiet = describe(_report([], Verdict.no_accident, people=2), "ko").summary
    assert quiet == (
        "영상 전체(11.3초)에서 넘어짐, 쓰러짐, 낙하물, 부딪힘 등 사고로 보이는 장면은 감지되지 않았습니다. "
        "화면에는 동시에 최대 2명이 보였습니다."
    )
    lost = [_event(EventKind.person_lost_after_fall, 2.0, 2.6, 0.5)]
    unsure = describe(_report(lost, Verdict.uncertain), "ko").summary
    assert unsure.startswith("사고로 의심되는 장면이 있으나 확실하지 않습니다.")
    assert "화면에서 사라졌습니다" in unsure and "현장을 직접 확인해" in unsure


def test_partial_reads_are_said() -> None:
    summary = describe(_report([], Verdict.uncertain, coverage=0.15), "ko").summary
    assert "영상 11.3초 중 1.7초만 읽을 수 있었으므로" in summary
    assert "Only 1.7 s of the 11.3 s video could be read" in describe(_report([], coverage=0.15), "en").summary


def test_scene_description_uses_the_translation_when_there_is_one() -> None:
    report = _report(ONE_FALL, scene_en="A worker slips.", scene_translations={"ko": "작업자가 미끄러집니다."})
    assert "모델의 장면 설명: 작업자가 미끄러집니다." in describe(report, "ko").summary
    untranslated = _report(ONE_FALL, scene_en="A worker slips.")
    assert "모델의 장면 설명(영문): A worker slips." in describe(untranslated, "ko").summary


def test_report_answers_do_not_end_in_setup_hints() -> None:
    report = _report(ONE_FALL, people=2)
    for question, lang in (("영상에서 무슨 일이 생겼어?", "ko"), ("What happened?", "en")):
        answer = answer_from_report(question, lang, report, lang)
        assert "SITEWATCH_" not in answer and "--model" not in answer
    when = answer_from_report("사고가 언제 일어났어?", "ko", report, "ko")
    assert when == "3.7초에 사람이 넘어졌고, 이후 11.2초까지 바닥에 쓰러져 있었습니다(신뢰도 92%)."
    assert answer_from_report("쓰러진 사람 있어?", "ko", report, "ko").startswith("네. 3.7초에 사람이 넘어졌고")
    assert detect_intents("사고가 언제 일어났어?", "ko") == [Intent.when]
    assert answer_from_report("What happened?", "en", None, "ko").startswith("아직 이 영상의 분석 결과가 없어서")


def test_the_incident_table_shows_phases_only_when_an_incident_has_them() -> None:
    head, cells = describe(_report(ONE_FALL), "ko").table()
    assert head == ["번호", "종류", "진행", "시작", "끝", "신뢰도", "인원"]
    assert cells == [["1", "넘어짐", "넘어짐 → 쓰러짐", "3.7초", "11.2초", "92%", "1명"]]
    head, cells = describe(_report([_event(EventKind.fall, 3.7, 4.5, 0.9)]), "en").table()
    assert head == ["#", "kind", "start", "end", "confidence", "people"] and cells[0][1] == "fall"
