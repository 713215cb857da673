"""Request bodies are capped before they are read: a 250 MB chat question must not reach server memory."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sitewatch.api.problems import problem_response

# JSON bodies (a chat question and its options) are small; an operator's larger question cap raises this.
MIN_JSON_LIMIT = 64 << 10
# A question's characters as JSON may take six bytes each (\uXXXX), plus the other fields.
BYTES_PER_CHAR = 6
JSON_OVERHEAD = 4 << 10


def json_limit(max_question_chars: int) -> int:
    """The largest JSON body any route needs for questions of up to `max_question_chars` characters."""
    return max(MIN_JSON_LIMIT, max_question_chars * BYTES_PER_CHAR + JSON_OVERHEAD)


@dataclass(frozen=True)
class Cap:
    """How large a route's body may be, and what a client sending more is told."""

    limit_bytes: int
    detail: str


class BodyLimit:
    """ASGI middleware answering 413 to bodies over the limit: from Content-Length, else as they stream in.

    `streamed` routes ((method, path) -> Cap) read their own body in chunks with their own cap; they are
    only refused early from a Content-Length over theirs, never buffered here.
    """

    def __init__(self, app: ASGIApp, limit_bytes: int, streamed: dict[tuple[str, str], Cap]) -> None:
        self.app = app
        self.default = Cap(limit_bytes, f"the request body is larger than this route accepts ({limit_bytes:,} bytes)")
        self.streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        route = (scope["method"], scope["path"].rstrip("/"))
        cap = self.streamed.get(route, self.default)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await problem_response(400, "the Content-Length header is not a number")(scope, receive, send)
            elif int(declared) > cap.limit_bytes:
                await self._refuse(cap, scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        if route in self.streamed:
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read up to the limit here, then hand the body on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > cap.limit_bytes:
                await self._refuse(cap, scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _refuse(cap: Cap, scope: Scope, receive: Receive, send: Send) -> None:
        # Connection: close, so the client stops sending what is left of the body.
        await problem_response(413, cap.detail, {"Connection": "close"})(scope, receive, send)
