"""The languages sitewatch speaks: adding one is a new file beside this one and one line here."""

from __future__ import annotations

from typing import Literal, get_args

from sitewatch.text.base import Language
from sitewatch.text.en import ENGLISH
from sitewatch.text.ko import KOREAN

Lang = Literal["ko", "en"]
LANGUAGES: dict[str, Language] = {"ko": KOREAN, "en": ENGLISH}
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "ko"


def language(lang: str) -> Language:
    """The words of `lang` (English for a code sitewatch does not speak)."""
    return LANGUAGES.get(lang, ENGLISH)


def as_lang(value: str | None, default: Lang = DEFAULT_LANG) -> Lang:
    """A language setting as one of LANGS (anything else falls back to `default`)."""
    return value if value in LANGUAGES else default  # type: ignore[return-value]


def t(lang: str, key: str, **values: object) -> str:
    """The string `key` in `lang`, formatted with `values`."""
    return language(lang).t(key, **values)
