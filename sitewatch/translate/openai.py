"""The `openai` translator: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitewatch.openai_http import ChatEndpoint
from sitewatch.translate.base import Lang, TextModel
from sitewatch.translate.glossary import fix_terms
from sitewatch.translate.prompt import STOP, max_tokens_for, system_prompt, unwrap, wrap

if TYPE_CHECKING:
    from sitewatch.settings import Settings

# Said when nothing listens at the URL: chatting untranslated is the way around it.
UNREACHABLE_HINT = "or set SITEWATCH_TRANSLATOR=none to chat untranslated"


class OpenAITranslator:
    """Translates with a chat model behind `POST {base_url}/chat/completions`."""

    name = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 0.5,
    ) -> None:
        self.endpoint = ChatEndpoint(
            base_url,
            api_key,
            timeout_s,
            retries,
            backoff_s,
            extra="translate",
            label="translation server",
            url_setting="SITEWATCH_TRANSLATE_BASE_URL",
            model_setting="SITEWATCH_TRANSLATE_MODEL and SITEWATCH_TRANSLATE_API_KEY",
            hint=UNREACHABLE_HINT,
        )
        self.url = self.endpoint.url
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s

    def translate(self, text: str, source: Lang, target: Lang) -> str:
        """Translate `text` with the server's model; the glossary is in the prompt and checked after."""
        if source == target or not text.strip():
            return text
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system_prompt(source, target)},
                {"role": "user", "content": wrap(text)},
            ],
            "temperature": 0,
            "stop": list(STOP),
        }
        answer = unwrap(self.endpoint.complete(body, max_tokens=max_tokens_for(text)))
        return fix_terms(text, answer, source, target)


def load(target: str, settings: Settings, vlm: TextModel | None = None) -> OpenAITranslator:
    """Build the translator from `settings` (`openai:<model>` overrides the model name)."""
    return OpenAITranslator(
        base_url=settings.translate_base_url,
        model=target or settings.translate_model,
        api_key=settings.translate_api_key,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
    )
