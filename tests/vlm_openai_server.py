"""A small real OpenAI-compatible HTTP server for tests: records requests, answers or misbehaves."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Behaviour:
    """What the server does next: answer text, fail N times with a status, stall, or send garbage."""

    answer: str = "A worker fell from the ladder."
    fail_times: int = 0
    fail_status: int = 503
    error_status: int | None = None
    error_message: str = "model 'nope' does not exist"
    delay_s: float = 0.0
    garbage: str | None = None
    requests: list[Recorded] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def do_POST(self) -> None:
        """Record the request, then behave as told."""
        behaviour = self.server.behaviour
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw or b"{}")
        behaviour.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        if behaviour.delay_s:
            time.sleep(behaviour.delay_s)
        if behaviour.fail_times > 0:
            behaviour.fail_times -= 1
            return self._json(behaviour.fail_status, {"error": {"message": "busy, try again"}})
        if behaviour.error_status:
            return self._json(behaviour.error_status, {"error": {"message": behaviour.error_message}})
        if behaviour.garbage is not None:
            return self._send(200, "application/json", behaviour.garbage.encode())
        if body.get("stream"):
            return self._stream(behaviour.answer)
        return self._json(
            200,
            {
                "id": "cmpl-1",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": behaviour.answer}, "finish_reason": "stop"}
                ],
            },
        )

    def _stream(self, answer: str) -> None:
        """Send the answer word by word as server-sent events."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        words = answer.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            chunk = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")

    def _json(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(body).encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    behaviour: Behaviour

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout tests) is expected: no traceback."""


class OpenAIStub:
    """Context manager: a server on 127.0.0.1 at a free port, in a background thread."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.behaviour = behaviour or Behaviour()
        # A short poll interval keeps shutdown (one per test) fast.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    @property
    def behaviour(self) -> Behaviour:
        """The live behaviour; tests change it between calls."""
        return self.server.behaviour

    @property
    def base_url(self) -> str:
        """The `/v1` base URL clients are given."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
