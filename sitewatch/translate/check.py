"""Check a translation before it is used: the target's script, a plausible length, no leftover delimiters.

A translator is a model too: it may answer in the wrong language, run on far past the source, or
echo its prompt's delimiters. Such output must never travel on as "the English question", so the
original text is kept instead, with a warning the caller can show.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sitewatch.errors import BackendError, IncompleteAnswerError
from sitewatch.translate.base import LANGUAGE_NAMES, Lang, Translator
from sitewatch.translate.detect import KOREAN_THRESHOLD, hangul_ratio, latin_ratio
from sitewatch.translate.none import NoTranslator

log = logging.getLogger(__name__)

# English output needs this share of Latin letters (a Korean term kept in quotes is fine).
ENGLISH_MIN_LATIN = 0.7
# Below this many letters the script says little ("OK" is a fine Korean answer to "OK").
MIN_LETTERS_FOR_SCRIPT = 4
# A translation longer than MAX_LENGTH_RATIO times its source, or shorter than MIN_LENGTH_RATIO of it,
# is not a translation. A Hangul syllable counts as two letters, so ko and en texts of the same
# meaning measure about alike; the slack keeps short texts ("네" -> "Yes.") from tripping it.
MAX_LENGTH_RATIO = 4.0
MIN_LENGTH_RATIO = 0.2
LENGTH_SLACK = 16
# The prompt's delimiters and chat-template tokens that a model may leave in its answer.
LEFTOVER = re.compile(r"</?\s*source\s*>|<\|[^|>]{1,40}\|>|\[/?INST\]", re.IGNORECASE)


@dataclass(frozen=True)
class Translation:
    """The text to use and, when it is the original rather than a translation, why."""

    text: str
    warning: str | None = None


def _size(text: str) -> int:
    """Length for comparing Korean with English: non-space characters, a Hangul syllable as two."""
    return sum(2 if 0xAC00 <= ord(char) <= 0xD7A3 else 1 for char in text if not char.isspace())


def translation_problem(source_text: str, result: str, target: Lang) -> str | None:
    """What is wrong with `result` as the `target` translation of `source_text`; None when it looks fine."""
    if not result.strip():
        return "it is empty"
    leftover = [m.group(0) for m in LEFTOVER.finditer(result) if m.group(0) not in source_text]
    if leftover:
        return f"it holds the leftover delimiter {leftover[0]}"
    if sum(char.isalpha() for char in result) >= MIN_LETTERS_FOR_SCRIPT:
        if target == "ko" and hangul_ratio(result) < KOREAN_THRESHOLD:
            return f"it is not Korean ({hangul_ratio(result):.0%} Hangul)"
        if target == "en" and latin_ratio(result) < ENGLISH_MIN_LATIN:
            return f"it is not English ({latin_ratio(result):.0%} Latin letters)"
    source_size, result_size = _size(source_text), _size(result)
    if result_size > MAX_LENGTH_RATIO * source_size + LENGTH_SLACK:
        return f"it is {result_size / max(source_size, 1):.0f}x as long as the original"
    if result_size + LENGTH_SLACK < MIN_LENGTH_RATIO * source_size:
        return f"it is {result_size} characters long for an original of {source_size}"
    return None


def _kept(translator: Translator, text: str, target: Lang, why: str) -> Translation:
    """The original text, with a logged warning saying why the translation was not used."""
    warning = f"the {translator.name} translation into {LANGUAGE_NAMES[target]} was not used ({why}); kept the original"
    log.warning("%s", warning)
    return Translation(text, warning)


def translate_checked(translator: Translator, text: str, source: Lang, target: Lang) -> Translation:
    """Translate `text`; a cut-off or implausible translation leaves `text` with a warning.

    Other BackendErrors (server down, refused) propagate: the caller decides how to degrade.
    """
    if isinstance(translator, NoTranslator) or source == target or not text.strip():
        return Translation(text)
    try:
        result = translator.translate(text, source, target)
    except IncompleteAnswerError as exc:
        return _kept(translator, text, target, str(exc))
    problem = translation_problem(text, result, target)
    return Translation(result) if problem is None else _kept(translator, text, target, problem)


def translate_or_keep(translator: Translator, text: str, source: Lang, target: Lang) -> Translation:
    """Like `translate_checked`, but a failing translator also leaves `text`, with a warning."""
    try:
        return translate_checked(translator, text, source, target)
    except BackendError as exc:
        return _kept(translator, text, target, str(exc))
