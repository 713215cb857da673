"""How accidents are named and times are said, in English and polite Korean (one place for both)."""

from __future__ import annotations

from sitewatch.schema import EventKind, Verdict

# Glossary terms (넘어짐, 쓰러짐, 부딪힘, 낙하물): each ends in a consonant, so it takes 은/이.
EVENT_KO: dict[EventKind, str] = {
    EventKind.fall: "넘어짐",
    EventKind.person_down: "쓰러짐",
    EventKind.struck_by: "부딪힘",
    EventKind.object_drop: "낙하물",
    EventKind.person_lost_after_fall: "넘어진 뒤 시야 이탈",
}

EVENT_EN: dict[EventKind, str] = {
    EventKind.fall: "a fall",
    EventKind.person_down: "a person down",
    EventKind.struck_by: "a person struck by something",
    EventKind.object_drop: "a falling object",
    EventKind.person_lost_after_fall: "a person lost from view after a fall",
}

VERDICT_LABELS: dict[str, dict[Verdict, str]] = {
    "en": {
        Verdict.accident: "Accident detected",
        Verdict.uncertain: "Possible accident",
        Verdict.no_accident: "No accident",
    },
    "ko": {Verdict.accident: "사고 감지", Verdict.uncertain: "사고 의심", Verdict.no_accident: "사고 없음"},
}

# What was seen, as a clause: "... 작업자가 넘어지는 장면이 감지되었습니다".
SCENE_KO: dict[EventKind, str] = {
    EventKind.fall: "사람이 넘어지는 장면",
    EventKind.person_down: "사람이 바닥에 쓰러져 일어나지 못하는 상태",
    EventKind.struck_by: "사람이 물체에 부딪히는 장면",
    EventKind.object_drop: "물체가 떨어지는 낙하물 상황",
    EventKind.person_lost_after_fall: "사람이 빠르게 쓰러지듯 움직인 뒤 화면에서 사라진 상황",
}

SCENE_EN: dict[EventKind, str] = {
    EventKind.fall: "a person falling to the ground",
    EventKind.person_down: "a person lying on the ground and not getting up",
    EventKind.struck_by: "a person being struck by an object",
    EventKind.object_drop: "an object falling",
    EventKind.person_lost_after_fall: "a person moving down fast and then disappearing from view",
}


# The detector's timeline signals, named for a reader.
SIGNAL_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "fallness": "fall score",
        "max_torso_deg": "torso tilt (deg)",
        "people": "people",
        "motion_energy": "motion",
        "falling_object": "falling object",
    },
    "ko": {
        "fallness": "넘어짐 점수",
        "max_torso_deg": "상체 기울기(도)",
        "people": "사람 수",
        "motion_energy": "움직임",
        "falling_object": "낙하물 신호",
    },
}


def has_final_consonant(word: str) -> bool:
    """True if the last Hangul syllable of `word` ends in a consonant (받침), which picks 이/은/을."""
    for ch in reversed(word.strip()):
        if "가" <= ch <= "힣":
            return (ord(ch) - ord("가")) % 28 != 0
        if ch.isalnum():
            return False
    return False


def josa(word: str, with_final: str, without_final: str) -> str:
    """`word` followed by the particle form that suits it: josa("상태", "이", "가") -> "상태가"."""
    return word + (with_final if has_final_consonant(word) else without_final)


def seconds_en(s: float) -> str:
    """12.3 s, or 2 min 5.0 s past a minute."""
    return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {s % 60:.1f} s"


def seconds_ko(s: float) -> str:
    """12.3초, or 2분 5.0초 past a minute."""
    return f"{s:.1f}초" if s < 60 else f"{int(s // 60)}분 {s % 60:.1f}초"
