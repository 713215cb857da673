"""One OpenAI-compatible `POST {base_url}/chat/completions` endpoint over the official `openai` client.

The client builds the requests, parses the server-sent events and sorts the failures; this module adds
the policy a model server that is not trusted to behave needs: permanent errors are not retried, every
request carries a token limit, an answer cut off by that limit or by a stream that ends early is
reported as such, and every failure gets a message that says what to check.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

from sitewatch.errors import BackendError, IncompleteAnswerError
from sitewatch.optional import require

if TYPE_CHECKING:
    import httpx
    import openai
    from openai.resources.chat.completions import Completions
    from openai.types.chat import ChatCompletionChunk

log = logging.getLogger(__name__)
T = TypeVar("T")

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
        self._client: openai.OpenAI | None = None

    def complete(self, payload: dict[str, Any], *, max_tokens: int) -> str:
        """Send a non-streaming request and return the first choice's text.

        Raises IncompleteAnswerError (with the text) when the answer stopped at `max_tokens`.
        """
        chat = self._chat()
        # The raw response keeps the body, to show when it is not a chat completion.
        raw = self._retrying(lambda: chat.with_raw_response.create(**payload, max_tokens=max_tokens, stream=False))
        try:
            choice = raw.parse().choices[0]
            content = choice.message.content
        except (ValueError, AttributeError, IndexError, TypeError) as exc:
            raise BackendError(
                f"{self._where()} sent an answer that is not a chat completion "
                f"(no choices[0].message.content): {raw.http_response.text[:200]}"
            ) from exc
        if content is not None and not isinstance(content, str):
            raise BackendError(f"{self._where()} sent a non-text message content: {raw.http_response.text[:200]}")
        self._check_end(content or "", choice.finish_reason, max_tokens, ended=True)
        return content or ""

    def stream(self, payload: dict[str, Any], *, max_tokens: int) -> Iterator[str]:
        """Yield the answer's text deltas as the server streams them (server-sent events).

        Raises IncompleteAnswerError after the last piece when the answer stopped at `max_tokens` or
        the stream ended without a finish_reason.
        """
        openai, httpx = self._openai(), self._httpx()
        chat = self._chat()
        chunks = self._retrying(lambda: chat.create(**payload, max_tokens=max_tokens, stream=True))
        answer, finish_reason = "", None
        with chunks:
            try:
                for chunk in chunks:
                    piece, reason = self._piece(chunk)
                    finish_reason = reason or finish_reason
                    if piece:
                        answer += piece
                        yield piece
            # Older openai releases let httpx's errors out of a stream unwrapped.
            except (openai.APIConnectionError, httpx.TransportError) as exc:
                raise BackendError(self._broke_off(_transport_error(exc))) from exc
            except openai.APIError as exc:
                raise BackendError(f"{self._where()} reported an error mid-stream: {exc.message}") from exc
            except ValueError as exc:
                raise BackendError(f"{self._where()} streamed something that is not JSON: {exc}") from exc
        # The client swallows `[DONE]`, so a finish_reason is the only sign that the answer is whole.
        self._check_end(answer, finish_reason, max_tokens, ended=finish_reason is not None)

    def close(self) -> None:
        """Close the HTTP connection pool, if one was opened."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def _retrying(self, send: Callable[[], T]) -> T:
        """Call `send` until the server accepts the request; transient failures are retried."""
        openai = self._openai()
        failure: _Failure | None = None
        for attempt in range(self.retries + 1):
            if failure is not None:
                self._pause(attempt, failure)
            try:
                return send()
            except openai.APIStatusError as exc:
                status = _status(exc.response)
                if not _transient(exc.status_code, status):
                    raise BackendError(self._rejected(exc.status_code, status)) from exc
                failure = _Failure("status", status, exc.response.headers.get("retry-after"), exc)
            except openai.APIConnectionError as exc:
                failure = _transport_failure(_transport_error(exc))
        assert failure is not None
        raise BackendError(self._gave_up(failure)) from failure.cause

    def _openai(self) -> ModuleType:
        """The openai module, imported late: it is an optional extra."""
        return require("openai", self.extra)

    def _httpx(self) -> ModuleType:
        """The httpx module, imported late: it is an optional extra."""
        return require("httpx", self.extra)

    def _chat(self) -> Completions:
        """The chat completions of a client opened on first use, so building an endpoint needs no network stack."""
        if self._client is None:
            httpx = self._httpx()
            self._client = self._openai().OpenAI(
                base_url=self.url.removesuffix(CHAT_PATH),
                # The client insists on a key; without one, `_send_only_ours` drops the header made of this.
                api_key=self.api_key or "no-key",
                # Retries are ours: the client's would also repeat the 500s that say the input is unsupported.
                max_retries=0,
                timeout=httpx.Timeout(self.timeout_s, connect=self._connect_s()),
                # An httpx client of our own, whichever transport this openai release defaults to: the
                # httpx error under openai's tells a refused connection from a slow one.
                http_client=httpx.Client(event_hooks={"request": [self._send_only_ours]}),
            )
        return self._client.chat.completions

    def _send_only_ours(self, request: httpx.Request) -> None:
        """Drop the credentials the client adds by itself: only the key the caller gave goes out."""
        # OPENAI_ORG_ID and OPENAI_PROJECT_ID from the environment belong to OpenAI, not to any server.
        dropped = ["OpenAI-Organization", "OpenAI-Project"] + ([] if self.api_key else ["Authorization"])
        for name in dropped:
            request.headers.pop(name, None)

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
        """The message for a connection that failed after the server had begun to answer."""
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

    def _piece(self, chunk: ChatCompletionChunk) -> tuple[str, str | None]:
        """The text delta and finish_reason of one streamed chunk."""
        try:
            choice = chunk.choices[0]
            delta = choice.delta.content if choice.delta else None
        except (AttributeError, IndexError, TypeError) as exc:
            text = chunk.to_json(indent=None)[:200]
            raise BackendError(f"{self._where()} streamed a chunk without choices: {text}") from exc
        return delta or "", choice.finish_reason


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
    """`HTTP <code>: <the server's own message>` (the client has read the body)."""
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


def _transport_error(exc: Exception) -> Exception:
    """The httpx error under an openai connection error: it names what failed (ConnectError, ReadTimeout...)."""
    import openai

    cause = exc.__cause__
    return cause if isinstance(exc, openai.APIConnectionError) and isinstance(cause, Exception) else exc


def _describe(exc: Exception) -> str:
    """A short reason for a transport error that still names its type (ConnectError, ReadTimeout...)."""
    return f"{type(exc).__name__}: {exc}"
