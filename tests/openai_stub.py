"""A real OpenAI-compatible HTTP server on 127.0.0.1 for tests: canned replies, recorded requests.

    with OpenAIStub(lambda request: "canned answer") as server:
        client_base_url = server.base_url        # http://127.0.0.1:<port>/v1
        ...
        server.requests[0].messages               # what the client sent

A handler gets each `RecordedRequest` to /chat/completions and returns a string (the answer), a
list of strings (the pieces of a streamed answer, joined when the client did not ask to stream)
or a `StubReply` (status, JSON body or raw bytes, headers, delay, finish_reason; `error_reply` builds
an OpenAI-style error). Replies put in `server.queue(...)` are used first, in order, before the
handler. Streaming (`"stream": true`) is answered as server-sent events in the OpenAI chunk
format, ending with `data: [DONE]` (unless `done=False`: a stream cut cleanly). A reply with
`endless` set is a model that never stops: it repeats that piece until the request's `max_tokens`
(or the stub's context size) and finishes with "length".
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class RecordedRequest:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # parsed JSON, or None

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The chat messages of a completion request."""
        return (self.body or {}).get("messages", [])

    @property
    def model(self) -> str | None:
        """The model name the client asked for."""
        return (self.body or {}).get("model")

    @property
    def max_tokens(self) -> int | None:
        """The token limit the client set, if any."""
        return (self.body or {}).get("max_tokens")

    @property
    def stream(self) -> bool:
        """Whether the client asked for a streamed answer."""
        return bool((self.body or {}).get("stream"))


@dataclass
class StubReply:
    """A reply with full control: content or pieces, HTTP status, JSON or raw body, headers, delay."""

    content: str | list[str] = "ok"
    status: int = 200
    body: Any = None  # sent as JSON instead of a completion when set
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before answering (and between streamed pieces)
    raw: str | bytes | None = None  # sent verbatim (as application/json unless headers say otherwise)
    finish_reason: str | None = "stop"  # None: the final chunk says nothing about why the answer ended
    done: bool = True  # False: the stream ends without `data: [DONE]`
    endless: str | None = None  # a piece repeated once per token until max_tokens

    def pieces(self, max_tokens: int | None) -> tuple[list[str], str | None]:
        """The answer's pieces and finish_reason for a request allowing `max_tokens`."""
        if self.endless is not None:
            return [self.endless] * min(max_tokens or CONTEXT_TOKENS, CONTEXT_TOKENS), "length"
        return ([self.content] if isinstance(self.content, str) else self.content), self.finish_reason


# An endless reply stops here when the client sets no max_tokens, like a server at its context limit.
CONTEXT_TOKENS = 4096


def error_reply(status: int, message: str, **kwargs: Any) -> StubReply:
    """An OpenAI-style error reply: `{"error": {"message": ...}}` with this status."""
    return StubReply(status=status, body={"error": {"message": message}}, **kwargs)


Handler = Callable[[RecordedRequest], "StubReply | str | list[str]"]


def unused_port() -> int:
    """A local port nothing listens on (for 'server is down' tests)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def completion(content: str, model: str = "stub-model", finish_reason: str | None = "stop") -> dict[str, Any]:
    """A non-streamed chat completion body holding `content`."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def chunk(
    delta: dict[str, Any], model: str = "stub-model", finish_reason: str | None = None
) -> dict[str, Any]:
    """One streamed chat completion chunk."""
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeouts, dropped streams) is expected; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class OpenAIStub:
    """A threaded loopback server speaking the OpenAI chat completions API; stop it with `stop()`."""

    def __init__(self, handler: Handler | None = None, models: tuple[str, ...] = ("stub-model",)) -> None:
        self.handler: Handler = handler or (lambda request: "ok")
        self.models = models
        self.requests: list[RecordedRequest] = []
        self._queued: deque[StubReply | str | list[str]] = deque()
        self._lock = threading.Lock()
        self._server = _QuietServer(("127.0.0.1", 0), self._request_handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL, ending in /v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    def queue(self, *replies: StubReply | str | list[str]) -> None:
        """Answer the next requests with these replies, in order, before falling back to the handler."""
        with self._lock:
            self._queued.extend(replies)

    def start(self) -> OpenAIStub:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _reply_for(self, request: RecordedRequest) -> StubReply:
        with self._lock:
            self.requests.append(request)
            queued = self._queued.popleft() if self._queued else None
        reply = queued if queued is not None else self.handler(request)
        return reply if isinstance(reply, StubReply) else StubReply(content=reply)

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

            def _record(self) -> RecordedRequest:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                headers = {name.lower(): value for name, value in self.headers.items()}
                return RecordedRequest(self.command, self.path, headers, body)

            def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                self._send_raw(status, json.dumps(body).encode(), headers)

            def _send_raw(self, status: int, data: bytes, headers: dict[str, str] | None = None) -> None:
                headers = dict(headers or {})
                if not any(name.lower() == "content-type" for name in headers):
                    headers["Content-Type"] = "application/json"
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _send_events(self, reply: StubReply, request: RecordedRequest, model: str) -> None:
                pieces, finish_reason = reply.pieces(request.max_tokens)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                events = [chunk({"role": "assistant", "content": ""}, model)]
                events += [chunk({"content": piece}, model) for piece in pieces]
                if finish_reason is not None:
                    events.append(chunk({}, model, finish_reason=finish_reason))
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(reply.delay_s)
                if reply.done:
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()

            def do_GET(self) -> None:
                request = self._record()
                with stub._lock:
                    stub.requests.append(request)
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": name, "object": "model", "owned_by": "stub"} for name in stub.models]
                    self._send_json(200, {"object": "list", "data": data})
                else:
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                request = self._record()
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    with stub._lock:
                        stub.requests.append(request)
                    self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = stub._reply_for(request)
                model = request.model or stub.models[0]
                if reply.delay_s and not request.stream:
                    time.sleep(reply.delay_s)
                if reply.raw is not None:
                    data = reply.raw.encode() if isinstance(reply.raw, str) else reply.raw
                    self._send_raw(reply.status, data, reply.headers)
                elif reply.status != 200 or reply.body is not None:
                    body = reply.body if reply.body is not None else {"error": {"message": "stub error"}}
                    self._send_json(reply.status, body, reply.headers)
                elif request.stream:
                    self._send_events(reply, request, model)
                else:
                    pieces, finish_reason = reply.pieces(request.max_tokens)
                    self._send_json(200, completion("".join(pieces), model, finish_reason), reply.headers)

        return _Handler
