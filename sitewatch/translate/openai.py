"""The `openai` translator: any OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp)."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError
from sitewatch.optional import require
from sitewatch.translate.base import Lang
from sitewatch.translate.glossary import fix_terms
from sitewatch.translate.prompt import system_prompt, unwrap, wrap

if TYPE_CHECKING:
    from sitewatch.settings import Settings
    from sitewatch.vlm.base import VideoLM

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
# A server's Retry-After is honoured up to this many seconds; a chat user will not wait longer.
MAX_RETRY_AFTER_S = 30.0


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
        self.url = base_url.rstrip("/") + "/chat/completions"
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
        }
        answer = unwrap(_content(self._post(body), self.url))
        return fix_terms(text, answer, source, target)

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body`, retrying connection errors, 429 and 5xx with exponential backoff."""
        httpx = require("httpx", "translate")
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        attempts = self.retries + 1
        problem, asked_wait = "", 0.0
        for attempt in range(attempts):
            if attempt:
                delay = max(self.backoff_s * 2 ** (attempt - 1), asked_wait)
                log.warning(
                    "translation request to %s failed (%s); retry in %.2f s", self.url, problem, delay
                )
                time.sleep(delay)
            try:
                response = httpx.post(self.url, json=body, headers=headers, timeout=self.timeout_s)
            except httpx.TransportError as exc:
                problem, asked_wait = f"{type(exc).__name__}: {exc}", 0.0
                continue
            if response.status_code in RETRY_STATUS:
                problem = f"HTTP {response.status_code}"
                asked_wait = _retry_after(response.headers.get("retry-after"))
                continue
            if response.status_code >= 400:
                status, text = response.status_code, response.text[:200]
                raise BackendError(f"translation server {self.url} answered HTTP {status}: {text}")
            try:
                return response.json()
            except ValueError as exc:
                raise BackendError(f"translation server {self.url} sent a reply that is not JSON") from exc
        raise BackendError(
            f"translation server {self.url} failed after {attempts} attempts ({problem}); is it running? "
            "Set SITEWATCH_TRANSLATE_BASE_URL, or SITEWATCH_TRANSLATOR=none to chat untranslated"
        )


def _retry_after(value: str | None) -> float:
    """Seconds a Retry-After header asks for (0 when absent or a date), capped."""
    try:
        return min(max(float(value or 0), 0.0), MAX_RETRY_AFTER_S)
    except ValueError:
        return 0.0


def _content(reply: dict[str, Any], url: str) -> str:
    """The text of the first choice of a chat completion."""
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise BackendError(f"translation server {url} sent no choices[0].message.content") from exc
    if not isinstance(content, str):
        raise BackendError(f"translation server {url} sent a non-text message content")
    return content


def load(target: str, settings: Settings, vlm: VideoLM | None = None) -> OpenAITranslator:
    """Build the translator from `settings` (`openai:<model>` overrides the model name)."""
    return OpenAITranslator(
        base_url=settings.translate_base_url,
        model=target or settings.translate_model,
        api_key=settings.translate_api_key,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
    )
