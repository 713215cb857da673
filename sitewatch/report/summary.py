"""The report's short summary in English and in natural polite Korean, written from templates."""

from __future__ import annotations

from sitewatch.report.words import SCENE_EN, SCENE_KO, josa, seconds_en, seconds_ko
from sitewatch.schema import Event, EventKind, Verdict, VideoInfo

_ORDER = (
    EventKind.fall,
    EventKind.struck_by,
    EventKind.person_lost_after_fall,
    EventKind.object_drop,
    EventKind.person_down,
)


def _people_ko(n: int) -> str:
    return f"화면에는 최대 {n}명이 보였습니다." if n else "화면에서 사람은 확인되지 않았습니다."


def _people_en(n: int) -> str:
    if not n:
        return "No people were seen."
    return f"Up to {n} {'person was' if n == 1 else 'people were'} visible at once."


def _main_events(events: list[Event]) -> list[Event]:
    """At most one event per kind (the most confident), in a fixed, readable order."""
    best: dict[EventKind, Event] = {}
    for e in events:
        if e.kind not in best or e.confidence > best[e.kind].confidence:
            best[e.kind] = e
    return [best[k] for k in _ORDER if k in best]


def _sentence_ko(e: Event) -> str:
    if e.kind is EventKind.person_down:
        lasted = max(0.0, e.end_s - e.start_s)
        when = f"{seconds_ko(e.start_s)}부터 약 {seconds_ko(lasted)} 동안"
    else:
        when = f"{seconds_ko(e.keyframe_s)} 무렵"
    return f"{when} {josa(SCENE_KO[e.kind], '이', '가')} 감지되었습니다(신뢰도 {e.confidence:.0%})."


def _sentence_en(e: Event) -> str:
    if e.kind is EventKind.person_down:
        when = f"from {seconds_en(e.start_s)} for about {seconds_en(max(0.0, e.end_s - e.start_s))}"
    else:
        when = f"at about {seconds_en(e.keyframe_s)}"
    return f"{SCENE_EN[e.kind].capitalize()} {when} (confidence {e.confidence:.0%})."


def summarize(
    verdict: Verdict, events: list[Event], info: VideoInfo, people_max: int
) -> tuple[str, str]:
    """(English, Korean) summary of a verdict and its events."""
    main = _main_events(events)
    medium_en = "image" if info.is_image else f"video ({seconds_en(info.duration_s)})"
    medium_ko = "사진" if info.is_image else f"영상 전체({seconds_ko(info.duration_s)})"
    if verdict is Verdict.accident:
        en = ["Accident detected.", *(_sentence_en(e) for e in main), _people_en(people_max),
              "Please check on the worker and the site right away."]
        ko = ["사고가 감지되었습니다.", *(_sentence_ko(e) for e in main), _people_ko(people_max),
              "즉시 현장을 확인하시고 작업자의 상태를 점검해 주시기 바랍니다."]
    elif verdict is Verdict.uncertain:
        en = ["A possible accident was seen, but the evidence is weak.", *(_sentence_en(e) for e in main),
              _people_en(people_max), "Please review that part of the video yourself."]
        ko = ["사고로 의심되는 장면이 있으나 확실하지 않습니다.", *(_sentence_ko(e) for e in main),
              _people_ko(people_max), "해당 구간의 영상을 직접 확인해 주시기 바랍니다."]
    else:
        en = [f"No accident was detected in this {medium_en}: no fall, person down, "
              "falling object or strike was seen.", _people_en(people_max)]
        ko = [f"{medium_ko}에서 넘어짐, 쓰러짐, 낙하물, 부딪힘 등 사고로 보이는 장면은 감지되지 않았습니다.",
              _people_ko(people_max)]
    return " ".join(en), " ".join(ko)
