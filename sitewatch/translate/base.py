"""The `Translator` protocol every translation backend implements, and what a model translator needs."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from sitewatch.schema import GenerationOptions, Message
from sitewatch.text import Lang

LANGUAGE_NAMES: dict[str, str] = {"ko": "Korean", "en": "English"}


@runtime_checkable
class Translator(Protocol):
    """Text in one language in, the same text in another out."""

    name: str

    def translate(self, text: str, source: Lang, target: Lang) -> str:
        """Translate `text` from `source` to `target`; returns `text` unchanged when they are equal."""
        ...


class TextModel(Protocol):
    """What the `model` translator asks of a chat model: a text-only answer (every `TextModel` is one)."""

    name: str

    def generate(self, video: Any, messages: list[Message], options: GenerationOptions) -> str:
        """Answer the messages; `video` is None for a text-only question."""
        ...
