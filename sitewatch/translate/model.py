"""The `model` translator: the chat model itself translates, for multilingual video-language models."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitewatch.errors import SitewatchError
from sitewatch.schema import GenerationOptions, Message
from sitewatch.translate.base import Lang, TextModel
from sitewatch.translate.glossary import fix_terms
from sitewatch.translate.prompt import STOP, max_tokens_for, system_prompt, unwrap, wrap

if TYPE_CHECKING:
    from sitewatch.settings import Settings


class ModelTranslator:
    """Asks a `TextModel` for a translation with a text-only prompt.

    The video handle passed to the model is None: backends must treat None as "no video" and
    answer from the messages alone.
    """

    name = "model"

    def __init__(self, vlm: TextModel) -> None:
        self.vlm = vlm

    def translate(self, text: str, source: Lang, target: Lang) -> str:
        """Translate `text` by asking the model, with the glossary in its instructions."""
        if source == target or not text.strip():
            return text
        messages = [
            Message(role="system", content=system_prompt(source, target)),
            Message(role="user", content=wrap(text)),
        ]
        # Greedy, bounded by the source's length, ending at an echoed closing delimiter.
        options = GenerationOptions(max_new_tokens=max_tokens_for(text), stop=list(STOP))
        answer = unwrap(self.vlm.generate(None, messages, options))
        return fix_terms(text, answer, source, target)


def load(target: str, settings: Settings, vlm: TextModel | None = None) -> ModelTranslator:
    """Build the translator around the chat's own model `vlm`."""
    if vlm is None:
        raise SitewatchError(
            "the 'model' translator needs a video-language model: set SITEWATCH_VLM (or --model), "
            "or choose another translator"
        )
    return ModelTranslator(vlm)
