"""The `none` translator: text passes through unchanged (English-only use, or a multilingual model)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitewatch.translate.base import Lang, TextModel

if TYPE_CHECKING:
    from sitewatch.settings import Settings


class NoTranslator:
    """Returns its input: the model then sees the user's own language."""

    name = "none"

    def translate(self, text: str, source: Lang, target: Lang) -> str:
        """Return `text` unchanged."""
        return text


def load(target: str, settings: Settings, vlm: TextModel | None = None) -> NoTranslator:
    """Build the pass-through translator (it takes no options)."""
    return NoTranslator()
