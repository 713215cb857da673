"""The `Translator` protocol every translation backend implements."""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

Lang = Literal["ko", "en"]

LANGUAGE_NAMES: dict[str, str] = {"ko": "Korean", "en": "English"}


@runtime_checkable
class Translator(Protocol):
    """Text in one language in, the same text in another out."""

    name: str

    def translate(self, text: str, source: Lang, target: Lang) -> str:
        """Translate `text` from `source` to `target`; returns `text` unchanged when they are equal."""
        ...
