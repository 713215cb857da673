"""Bearer-token access: whenever SITEWATCH_API_TOKEN is set, every path but /healthz needs it (docs too)."""

from __future__ import annotations

import hmac

from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from sitewatch.api.problems import problem_response

OPEN_PATHS = frozenset({"/healthz"})
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sitewatch"'}


def token_refusal(headers: Headers, expected: SecretStr) -> str | None:
    """Why the request's token is not accepted, or None when it is."""
    scheme, _, given = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "this server needs a bearer token (Authorization: Bearer <SITEWATCH_API_TOKEN>)"
    # Constant time: how much of a guess matched must not show in the response time.
    if not hmac.compare_digest(given.strip().encode(), expected.get_secret_value().encode()):
        return "the bearer token is wrong"
    return None


class TokenGate:
    """ASGI middleware answering 401 problem details to requests without the right token."""

    def __init__(self, app: ASGIApp, token: SecretStr | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.token is not None and scope["path"] not in OPEN_PATHS:
            refusal = token_refusal(Headers(scope=scope), self.token)
            if refusal is not None:
                await problem_response(401, refusal, CHALLENGE)(scope, receive, send)
                return
        await self.app(scope, receive, send)
