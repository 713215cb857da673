"""One OpenAI-compatible `POST {base_url}/chat/completions` endpoint: retries, Retry-After, clear errors, SSE."""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError
from sitewatch.optional import require

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# A server's Retry-After is honoured up to this many seconds; a chat user will not wait longer.
MAX_RETRY_AFTER_S = 30.0
# A dead host should fail fast even when answers may legitimately take minutes.
MAX_CONNECT_S = 10.0


class ChatEndpoint:
    """A chat-completions URL with the retry and error policy every sitewatch client shares."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        *,
        extra: str,
        label: str = "chat server",
        hint: str = "",
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.extra = extra
        self.label = label
        self.hint = hint
        self._client: httpx.Client | None = None

    def complete(self, payload: dict[str, Any]) -> str:
        """POST a non-streaming request and return the first choice's text."""
        problem, retry_after, cause = "", None, None
        for attempt in self._attempts():
            if attempt:
                self._pause(attempt, problem, retry_after)
            try:
                response = self._http().post(self.url, json=payload)
            except self._httpx().TransportError as exc:
                problem, retry_after, cause = _describe(exc), None, exc
                continue
            if response.status_code not in RETRY_STATUS:
                self._raise_for_status(response)
                return self._content(response)
            problem, retry_after, cause = _status(response), response.headers.get("retry-after"), None
        raise BackendError(self._gave_up(problem)) from cause

    def stream(self, payload: dict[str, Any]) -> Iterator[str]:
        """Yield the answer's text deltas as the server streams them (server-sent events)."""
        problem, retry_after, cause = "", None, None
        for attempt in self._attempts():
            if attempt:
                self._pause(attempt, problem, retry_after)
            started = False
            try:
                with self._http().stream("POST", self.url, json=payload) as response:
                    if response.status_code in RETRY_STATUS:
                        problem, retry_after, cause = _status(response), response.headers.get("retry-after"), None
                        continue
                    self._raise_for_status(response)
                    for piece in self._sse_pieces(response.iter_lines()):
                        started = True
                        yield piece
                    return
            except self._httpx().TransportError as exc:
                if started:
                    # Text has reached the caller: a retry would repeat it.
                    raise BackendError(f"{self._where()} broke off mid-answer: {_describe(exc)}") from exc
                problem, retry_after, cause = _describe(exc), None, exc
        raise BackendError(self._gave_up(problem)) from cause

    def close(self) -> None:
        """Close the HTTP connection pool, if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _attempts(self) -> range:
        """Attempt numbers: the first try and then one per retry."""
        return range(self.retries + 1)

    def _httpx(self) -> ModuleType:
        """The httpx module, imported late: it is an optional extra."""
        return require("httpx", self.extra)

    def _http(self) -> httpx.Client:
        """The pooled client, opened on first use so building an endpoint needs no network stack."""
        if self._client is None:
            httpx = self._httpx()
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            timeout = httpx.Timeout(self.timeout_s, connect=min(MAX_CONNECT_S, self.timeout_s))
            self._client = httpx.Client(headers=headers, timeout=timeout)
        return self._client

    def _where(self) -> str:
        """The start of every error message: what the server is for and its URL."""
        return f"{self.label} {self.url}"

    def _pause(self, attempt: int, problem: str, retry_after: str | None) -> None:
        """Wait before retry number `attempt`: exponential backoff, or longer when the server asks."""
        delay = max(self.backoff_s * 2 ** (attempt - 1), _retry_after(retry_after))
        log.warning("%s failed (%s); retry %d/%d in %.2f s", self._where(), problem, attempt, self.retries, delay)
        time.sleep(delay)

    def _gave_up(self, problem: str) -> str:
        """The message once every attempt has failed, with the caller's hint on what to check."""
        message = f"{self._where()} failed after {self.retries + 1} attempts ({problem})"
        return f"{message}; {self.hint}" if self.hint else message

    def _raise_for_status(self, response: httpx.Response) -> None:
        """BackendError with the server's own message for any 4xx/5xx."""
        if response.status_code >= 400:
            raise BackendError(f"{self._where()} answered {_status(response)}")

    def _content(self, response: httpx.Response) -> str:
        """The text of the first choice of a chat completion (empty when the model said nothing)."""
        try:
            content = response.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendError(
                f"{self._where()} sent an answer that is not a chat completion "
                f"(no choices[0].message.content): {response.text[:200]}"
            ) from exc
        if content is not None and not isinstance(content, str):
            raise BackendError(f"{self._where()} sent a non-text message content: {response.text[:200]}")
        return content or ""

    def _sse_pieces(self, lines: Iterator[str]) -> Iterator[str]:
        """Text deltas from an SSE chat-completion stream, until `[DONE]`."""
        for line in lines:
            if not line.startswith("data:"):
                continue
            data = line[len("data:") :].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
            except ValueError as exc:
                raise BackendError(f"{self._where()} streamed something that is not JSON: {data[:200]}") from exc
            if "error" in chunk:
                raise BackendError(f"{self._where()} reported an error mid-stream: {_error_text(chunk)}")
            try:
                delta = chunk["choices"][0].get("delta") or {}
            except (KeyError, IndexError, TypeError, AttributeError) as exc:
                raise BackendError(f"{self._where()} streamed a chunk without choices: {data[:200]}") from exc
            if delta.get("content"):
                yield delta["content"]


def _retry_after(value: str | None) -> float:
    """Seconds a Retry-After header asks for (0 when absent, a date or nonsense), capped."""
    try:
        seconds = float(value or 0)
    except ValueError:
        return 0.0
    return min(seconds, MAX_RETRY_AFTER_S) if math.isfinite(seconds) and seconds > 0 else 0.0


def _status(response: httpx.Response) -> str:
    """`HTTP <code>: <the server's own message>`, reading the body first (it may be a stream)."""
    response.read()
    try:
        message = _error_text(response.json())
    except ValueError:
        message = response.text[:300] or response.reason_phrase
    return f"HTTP {response.status_code}: {message}"


def _error_text(body: Any) -> str:
    """Dig the message out of {"error": {"message": ...}}, {"error": "..."} or {"detail": ...}."""
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body.get("message")))
        if isinstance(error, dict):
            return str(error.get("message", error))
        if error is not None:
            return str(error)
    return json.dumps(body)[:300]


def _describe(exc: Exception) -> str:
    """A short reason for a transport error that still names its type (ConnectError, ReadTimeout...)."""
    import httpx

    reason = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out ({reason})"
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect ({reason})"
    return reason
