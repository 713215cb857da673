"""The console's CSRF token: a random value in an HttpOnly SameSite=Strict cookie that each console page repeats
(a `<meta name="csrf-token">` tag and each form's hidden `csrf` field); the console's scripts send it back in the
`X-CSRF-Token` header on every request that changes something. A request riding on the console's login cookie
without it is refused (403). Programs sending the bearer header are not browsers riding on a cookie: no check.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from sitewatch.api.auth import TOKEN_COOKIE
from sitewatch.api.problems import problem_response

CSRF_COOKIE = "sitewatch_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf"  # the hidden field of the console's own forms
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The console's forms post their field, not the header, and check it themselves (console/login.py).
FORM_PATHS = frozenset({"/console/login", "/console/logout"})
MISSING = "this request changes something and needs the console's CSRF token (the X-CSRF-Token header); reload the page"


def new_csrf_token() -> str:
    """A fresh token for one browser."""
    return secrets.token_urlsafe(32)


def csrf_matches(cookie: str | None, given: str | None) -> bool:
    """Whether the token sent back is the browser's own, compared in constant time."""
    return bool(cookie) and bool(given) and hmac.compare_digest(str(cookie).encode(), str(given).encode())


class CsrfGate:
    """ASGI middleware: a changing request carried by the console's login cookie needs the CSRF header (403)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in SAFE_METHODS and scope["path"] not in FORM_PATHS:
            headers = Headers(scope=scope)
            cookies = cookie_parser(headers.get("cookie", ""))
            riding = TOKEN_COOKIE in cookies and not headers.get("authorization")
            if riding and not csrf_matches(cookies.get(CSRF_COOKIE), headers.get(CSRF_HEADER)):
                await problem_response(403, MISSING)(scope, receive, send)
                return
        await self.app(scope, receive, send)
