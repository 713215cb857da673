"""Chat answers from the report alone (no video-language model): what, when, how many, is someone down."""

from __future__ import annotations

import re

from sitewatch.schema import EventKind, Report, Verdict
from sitewatch.text.base import Intent, Language
from sitewatch.text.describe import summary_sentences
from sitewatch.text.incidents import Incident, group_incidents
from sitewatch.text.languages import language

_DOWN_KINDS = frozenset({EventKind.fall, EventKind.person_down, EventKind.person_lost_after_fall})


def detect_intents(question: str, lang: str) -> list[Intent]:
    """The report questions `question` (written in `lang`) asks, in a fixed order (what, when, people, down)."""
    text = re.sub(r"\s+", " ", question.lower())
    found = [intent for intent, words in language(lang).keywords.items() if any(w in text for w in words)]
    # "사고가 언제 일어났어?" names the accident but asks when: the specific question wins.
    return [i for i in found if i is not Intent.what] or found


def _what(report: Report, words: Language, incidents: list[Incident]) -> list[str]:
    sentences = summary_sentences(report, words, incidents)
    # The chat speaks for the detector, where the report speaks for sitewatch.
    if report.verdict is Verdict.uncertain:
        sentences[0] = words.t("chat_uncertain")
    elif report.verdict is Verdict.no_accident:
        sentences[0] = words.t("chat_no_accident")
    return sentences


def _when(report: Report, words: Language, incidents: list[Incident]) -> list[str]:
    # Each incident's sentence opens with its time and says what happened, as a person would answer "when?".
    return [words.incident(i) for i in incidents] or [words.t("chat_no_time")]


def _people(report: Report, words: Language, incidents: list[Incident]) -> list[str]:
    return [words.people_seen(report.people_max, len({p for i in incidents for p in i.people}))]


def _down_incidents(incidents: list[Incident]) -> list[Incident]:
    return [i for i in incidents if {e.kind for e in i.phases} & _DOWN_KINDS]


def _down(report: Report, words: Language, incidents: list[Incident]) -> list[str]:
    down = _down_incidents(incidents)
    if not down:
        return [words.t("chat_nobody_down")]
    return [words.incident(i) for i in down]


def _yes(report: Report, words: Language) -> str:
    """The "yes" that opens an answer to a yes-or-no question, hedged when the detector is not sure."""
    return words.t("chat_yes" if report.verdict is Verdict.accident else "chat_maybe")


_ANSWERS = {Intent.what: _what, Intent.when: _when, Intent.people: _people, Intent.down: _down}


def answer_from_report(question: str, question_lang: str, report: Report | None, lang: str, note: str = "") -> str:
    """Answer `question` in `lang` from the report alone, ending with `note` when one is given."""
    words = language(lang)
    if report is None:
        body = words.t("chat_no_report")
    else:
        incidents = group_incidents(report.events)
        intents = detect_intents(question, question_lang)
        sentences: list[str] = []
        for intent in intents or [Intent.what]:
            sentences += [s for s in _ANSWERS[intent](report, words, incidents) if s not in sentences]
        if intents == [Intent.down] and _down_incidents(incidents):
            # Only "is someone down?" is a yes-or-no question; "when did they fall?" is answered with the time.
            sentences.insert(0, _yes(report, words))
        if not intents:
            sentences.append(words.t("chat_help"))
        body = " ".join(sentences)
    return f"{body}\n{note}" if note else body
