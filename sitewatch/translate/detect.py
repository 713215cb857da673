"""Tell Korean from English by the share of Hangul among the letters of a text."""

from __future__ import annotations

from sitewatch.translate.base import Lang

# Above this share of Hangul letters a text counts as Korean; "What does 안전모 mean?" stays English,
# "PPE 착용 여부는?" is Korean.
KOREAN_THRESHOLD = 0.3


def _is_hangul(char: str) -> bool:
    code = ord(char)
    return (
        0xAC00 <= code <= 0xD7A3  # syllables
        or 0x1100 <= code <= 0x11FF  # jamo
        or 0x3130 <= code <= 0x318F  # compatibility jamo
    )


def hangul_ratio(text: str) -> float:
    """The share of Hangul among the letters of `text` (0.0 when it has no letters)."""
    hangul = sum(1 for char in text if _is_hangul(char))
    letters = sum(1 for char in text if char.isalpha())
    return hangul / letters if letters else 0.0


def latin_ratio(text: str) -> float:
    """The share of Latin-script letters among the letters of `text` (1.0 when it has no letters)."""
    letters = [char for char in text if char.isalpha()]
    if not letters:
        return 1.0
    # Latin letters, accented ones included, sit below U+0250; Hangul, CJK and Cyrillic far above.
    return sum(1 for char in letters if ord(char) < 0x250) / len(letters)


def detect_language(text: str, default: Lang = "en") -> Lang:
    """'ko' when Hangul makes up enough of the letters, else 'en'; `default` for text with no letters."""
    if not any(char.isalpha() for char in text):
        return default
    return "ko" if hangul_ratio(text) >= KOREAN_THRESHOLD else "en"
