"""Token access: whenever SITEWATCH_API_TOKEN is set, every path but /healthz needs it (docs too).

Programs send it as a bearer token; the console's login page keeps it in an HttpOnly, SameSite=Strict
cookie, which this gate accepts too (so the pages' images, clips and review calls need nothing else).
The token never travels in a URL.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.responses import RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sitewatch.api.login_limit import LoginLimiter
from sitewatch.api.problems import problem_response

TOKEN_COOKIE = "sitewatch_token"
CONSOLE = "/console"
LOGIN_PATH = "/console/login"
OPEN_PATHS = frozenset({"/healthz", LOGIN_PATH})
# The console's stylesheet and script hold nothing secret; the login page needs them before any token.
OPEN_PREFIXES = ("/console/static/",)
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="sitewatch"'}


def token_matches(given: str, expected: SecretStr) -> bool:
    """Whether `given` is the token, compared in constant time (how much of a guess matched must not show)."""
    return hmac.compare_digest(given.strip().encode(), expected.get_secret_value().encode())


def token_refusal(headers: Headers, expected: SecretStr) -> str | None:
    """Why the request's token (bearer header, else the console's cookie) is not accepted, or None when it is."""
    authorization = headers.get("authorization", "")
    if not authorization:
        cookie = cookie_parser(headers.get("cookie", "")).get(TOKEN_COOKIE, "")
        if cookie and token_matches(cookie, expected):
            return None
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return "this server needs a bearer token (Authorization: Bearer <SITEWATCH_API_TOKEN>)"
    if not token_matches(given, expected):
        return "the bearer token is wrong"
    return None


def presented(headers: Headers) -> bool:
    """Whether the request carries a token at all (bearer header or the console's cookie): a guess, if wrong."""
    return bool(headers.get("authorization") or cookie_parser(headers.get("cookie", "")).get(TOKEN_COOKIE))


def client_address(scope: Scope) -> str:
    """The address the connection came from (behind a proxy: the proxy's, unless uvicorn is told to trust it)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


class TokenGate:
    """ASGI middleware answering 401 problem details to requests without the right token.

    A console page asked for without it is sent to the login page instead. An address that sent too many
    wrong tokens lately is answered 429 with Retry-After, whatever it sends, until it has waited.
    """

    def __init__(self, app: ASGIApp, token: SecretStr | None, limiter: LoginLimiter | None = None) -> None:
        self.app = app
        self.token = token
        self.limiter = limiter or LoginLimiter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.token is not None and not _is_open(scope["path"]):
            headers = Headers(scope=scope)
            guess = presented(headers)
            wait = self.limiter.retry_after(client_address(scope)) if guess else None
            if wait is not None:
                detail = f"too many wrong tokens from this address: try again in {wait} s"
                await problem_response(429, detail, {"Retry-After": str(wait)})(scope, receive, send)
                return
            refusal = token_refusal(headers, self.token)
            if refusal is not None:
                if guess:
                    self.limiter.failed(client_address(scope))
                path = scope["path"]
                if scope["method"] == "GET" and (path == CONSOLE or path.startswith(CONSOLE + "/")):
                    redirect = RedirectResponse(LOGIN_PATH, status_code=303)
                    # A stale cookie (the token was changed) is dropped, so the page's next requests guess nothing.
                    redirect.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
                    await redirect(scope, receive, send)
                else:
                    await problem_response(401, refusal, CHALLENGE)(scope, receive, send)
                return
        await self.app(scope, receive, send)
