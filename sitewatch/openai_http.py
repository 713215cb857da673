"""One OpenAI-compatible `POST {base_url}/chat/completions` endpoint: retries, Retry-After, clear errors, SSE.

A model server is not trusted to behave: permanent errors are not retried, every request carries a
token limit, and an answer cut off by that limit or by a stream that ends early is reported as such.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sitewatch.errors import BackendError, IncompleteAnswerError
from sitewatch.optional import require

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

# Statuses worth another try: the server may answer the same request once it is less busy.
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
# A 5xx whose message says this, e.g. llama.cpp's HTTP 500 "image input is not supported", fails the
# same way every time: retrying only queues the request again.
PERMANENT_MESSAGE = re.compile(r"not supported|unsupported|does not support|not implemented", re.IGNORECASE)
# A server's Retry-After is honoured up to this many seconds; a chat user will not wait longer.
MAX_RETRY_AFTER_S = 30.0
# A dead host should fail fast even when answers may legitimately take minutes.
MAX_CONNECT_S = 10.0
CHAT_PATH = "/chat/completions"


def chat_url(base_url: str) -> str:
    """`{base_url}/chat/completions`, also when the base URL already ends in it or in a slash."""
    base = base_url.strip().rstrip("/")
    return base.removesuffix(CHAT_PATH) + CHAT_PATH


@dataclass(frozen=True)
class _Failure:
    """Why the last attempt failed: its kind decides what the user is told to check."""

    kind: str  # "refused", "connect_timeout", "timeout", "transport" or "status"
    detail: str
    retry_after: str | None = None
    cause: Exception | None = None


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
        url_setting: str = "the base URL",
        model_setting: str = "the model name and API key",
        hint: str = "",
    ) -> None:
        self.url = chat_url(base_url)
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.backoff_s = backoff_s
        self.extra = extra
        self.label = label
        self.url_setting = url_setting
        self.model_setting = model_setting
        self.hint = hint
        self._client: httpx.Client | None = None

    def complete(self, payload: dict[str, Any], *, max_tokens: int) -> str:
        """POST a non-streaming request and return the first choice's text.

        Raises IncompleteAnswerError (with the text) when the answer stopped at `max_tokens`.
        """
        response = self._open({**payload, "max_tokens": max_tokens, "stream": False})
        try:
            response.read()
        except self._httpx().TransportError as exc:
            raise BackendError(self._broke_off(exc)) from exc
        finally:
            response.close()
        content, finish_reason = self._content(response)
        self._check_end(content, finish_reason, max_tokens, ended=True)
        return content

    def stream(self, payload: dict[str, Any], *, max_tokens: int) -> Iterator[str]:
        """Yield the answer's text deltas as the server streams them (server-sent events).

        Raises IncompleteAnswerError after the last piece when the answer stopped at `max_tokens` or
        the stream ended without `[DONE]` and without a finish_reason.
        """
        response = self._open({**payload, "max_tokens": max_tokens, "stream": True})
        answer, finish_reason, done = "", None, False
        try:
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[len("data:") :].strip()
                if data == "[DONE]":
                    done = True
                    break
                piece, reason = self._chunk(data)
                finish_reason = reason or finish_reason
                if piece:
                    answer += piece
                    yield piece
        except self._httpx().TransportError as exc:
            raise BackendError(self._broke_off(exc)) from exc
        finally:
            response.close()
        self._check_end(answer, finish_reason, max_tokens, ended=done or finish_reason is not None)

    def close(self) -> None:
        """Close the HTTP connection pool, if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _open(self, payload: dict[str, Any]) -> httpx.Response:
        """Send the request until a 2xx answer (open, body unread); transient failures are retried."""
        httpx = self._httpx()
        failure: _Failure | None = None
        for attempt in range(self.retries + 1):
            if failure is not None:
                self._pause(attempt, failure)
            client = self._http()
            try:
                response = client.send(client.build_request("POST", self.url, json=payload), stream=True)
            except httpx.TransportError as exc:
                failure = _transport_failure(exc)
                continue
            if response.status_code < 400:
                return response
            try:
                status = _status(response)
            finally:
                response.close()
            if not _transient(response.status_code, status):
                raise BackendError(self._rejected(response.status_code, status))
            failure = _Failure("status", status, response.headers.get("retry-after"))
        assert failure is not None
        raise BackendError(self._gave_up(failure)) from failure.cause

    def _httpx(self) -> ModuleType:
        """The httpx module, imported late: it is an optional extra."""
        return require("httpx", self.extra)

    def _http(self) -> httpx.Client:
        """The pooled client, opened on first use so building an endpoint needs no network stack."""
        if self._client is None:
            httpx = self._httpx()
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            timeout = httpx.Timeout(self.timeout_s, connect=self._connect_s())
            self._client = httpx.Client(headers=headers, timeout=timeout)
        return self._client

    def _connect_s(self) -> float:
        """Seconds allowed to open a connection."""
        return min(MAX_CONNECT_S, self.timeout_s)

    def _where(self) -> str:
        """The start of every error message: what the server is for and its URL."""
        return f"{self.label} {self.url}"

    def _pause(self, attempt: int, failure: _Failure) -> None:
        """Wait before retry number `attempt`: exponential backoff, or longer when the server asks."""
        delay = max(self.backoff_s * 2 ** (attempt - 1), _retry_after(failure.retry_after))
        log.warning(
            "%s failed (%s); retry %d/%d in %.2f s", self._where(), failure.detail, attempt, self.retries, delay
        )
        time.sleep(delay)

    def _gave_up(self, failure: _Failure) -> str:
        """The message once every attempt has failed: what happened and what to check for its kind."""
        attempts = f"{self.retries + 1} attempt{'s' if self.retries else ''}"
        if failure.kind == "refused":
            message = (
                f"{self.label}: nothing listens at {self.url} ({failure.detail}; {attempts}): "
                f"start the server or fix {self.url_setting}"
            )
            return f"{message}; {self.hint}" if self.hint else message
        if failure.kind == "connect_timeout":
            return (
                f"{self.label}: no connection to {self.url} within {self._connect_s():g} s ({attempts}): "
                f"check the host and port in {self.url_setting}"
            )
        if failure.kind == "timeout":
            return (
                f"{self._where()}: no answer within {self.timeout_s:g} s ({attempts}): "
                "the model may be overloaded; raise SITEWATCH_TIMEOUT_S"
            )
        if failure.kind == "status":
            return (
                f"{self._where()} failed after {attempts} ({failure.detail}): "
                "the server is overloaded or failing; check its log"
            )
        return f"{self._where()} failed after {attempts} ({failure.detail})"

    def _broke_off(self, exc: Exception) -> str:
        """The message for a connection that failed after the server had accepted the request."""
        if isinstance(exc, self._httpx().TimeoutException):
            return (
                f"{self._where()}: no more of the answer within {self.timeout_s:g} s: "
                "the model may be overloaded; raise SITEWATCH_TIMEOUT_S"
            )
        return f"{self._where()} broke off mid-answer: {_describe(exc)}"

    def _rejected(self, code: int, status: str) -> str:
        """The message for an answer that another try would not change (4xx, unsupported input)."""
        if code < 500:
            return f"{self._where()} answered {status}: check {self.model_setting}"
        return (
            f"{self._where()} answered {status}: the model behind this server cannot take this request; "
            "use a model or server setup that supports it"
        )

    def _check_end(self, answer: str, finish_reason: str | None, max_tokens: int, *, ended: bool) -> None:
        """Raise IncompleteAnswerError for an answer stopped by the token limit or a stream cut short."""
        if finish_reason == "length":
            raise IncompleteAnswerError(f"{self._where()}: the answer was cut off at {max_tokens} tokens", answer)
        if not ended:
            raise IncompleteAnswerError(
                f"{self._where()}: the stream ended without [DONE] or a finish_reason; the answer may be cut off",
                answer,
            )

    def _content(self, response: httpx.Response) -> tuple[str, str | None]:
        """The first choice's text (empty when the model said nothing) and its finish_reason."""
        try:
            choice = response.json()["choices"][0]
            content = choice["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise BackendError(
                f"{self._where()} sent an answer that is not a chat completion "
                f"(no choices[0].message.content): {response.text[:200]}"
            ) from exc
        if content is not None and not isinstance(content, str):
            raise BackendError(f"{self._where()} sent a non-text message content: {response.text[:200]}")
        return content or "", choice.get("finish_reason")

    def _chunk(self, data: str) -> tuple[str, str | None]:
        """The text delta and finish_reason of one streamed chunk."""
        try:
            chunk = json.loads(data)
        except ValueError as exc:
            raise BackendError(f"{self._where()} streamed something that is not JSON: {data[:200]}") from exc
        if "error" in chunk:
            raise BackendError(f"{self._where()} reported an error mid-stream: {_error_text(chunk)}")
        try:
            choice = chunk["choices"][0]
            delta = choice.get("delta") or {}
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise BackendError(f"{self._where()} streamed a chunk without choices: {data[:200]}") from exc
        return delta.get("content") or "", choice.get("finish_reason")


def _transient(code: int, status: str) -> bool:
    """Whether another try may succeed: 408, 429 and 5xx, unless the message says the input is unsupported."""
    return code in RETRY_STATUS and not (code >= 500 and PERMANENT_MESSAGE.search(status))


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


def _transport_failure(exc: Exception) -> _Failure:
    """Sort a transport error by what the user should check: refused, slow to connect, slow to answer."""
    import httpx

    detail = _describe(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return _Failure("connect_timeout", detail, cause=exc)
    if isinstance(exc, httpx.TimeoutException):
        return _Failure("timeout", detail, cause=exc)
    if isinstance(exc, httpx.ConnectError):
        return _Failure("refused", detail, cause=exc)
    return _Failure("transport", detail, cause=exc)


def _describe(exc: Exception) -> str:
    """A short reason for a transport error that still names its type (ConnectError, ReadTimeout...)."""
    return f"{type(exc).__name__}: {exc}"
