"""The languages sitewatch speaks: adding one is a new file beside this one and one line here."""

from __future__ import annotations

from typing import Literal, get_args

from sitewatch.errors import SettingsError
from sitewatch.text.base import Language
from sitewatch.text.en import ENGLISH
from sitewatch.text.ko import KOREAN

Lang = Literal["ko", "en"]
LANGUAGES: dict[str, Language] = {"ko": KOREAN, "en": ENGLISH}
LANGS: tuple[Lang, ...] = get_args(Lang)
DEFAULT_LANG: Lang = "ko"


def language(lang: str) -> Language:
    """The words of `lang`; a code sitewatch does not speak is an error, never a silent switch of language."""
    try:
        return LANGUAGES[lang]
    except KeyError:
        raise SettingsError(f"unknown language {lang!r}: sitewatch speaks {', '.join(LANGUAGES)}") from None


def as_lang(value: str | None, default: Lang = DEFAULT_LANG) -> Lang:
    """A language setting as one of LANGS: `default` when unset, an error when it names no language."""
    if not value:
        return default
    language(value)
    return value  # type: ignore[return-value]


def t(lang: str, key: str, **values: object) -> str:
    """The string `key` in `lang`, formatted with `values`."""
    return language(lang).t(key, **values)
