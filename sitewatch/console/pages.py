"""Rendering a console page: the reader's language (cookie, else the server's), the words, safe headers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from sitewatch.api.csrf import CSRF_COOKIE, new_csrf_token
from sitewatch.api.services import services
from sitewatch.report.templates import template
from sitewatch.text import LANGS, Lang, language

LANG_COOKIE = "sitewatch_lang"
# Everything the pages load comes from this server: no CDN, nothing inline to inject into.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; media-src 'self'; script-src 'self'; "
    "style-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def page_lang(request: Request) -> Lang:
    """The language the reader chose with the switch (a cookie), or the server's; anything else is ignored."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    return chosen if chosen in LANGS else services(request).settings.lang  # type: ignore[return-value]


def csrf_token(request: Request) -> str:
    """The browser's CSRF token (its cookie), or a new one that `render` hands it."""
    return request.cookies.get(CSRF_COOKIE) or new_csrf_token()


def keep_csrf(response: Response, token: str, request: Request) -> None:
    """Give the browser its CSRF token: HttpOnly (the page repeats it), SameSite=Strict, for the whole server."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https",
                        path="/")


def render(request: Request, name: str, lang: Lang, status_code: int = 200, headers: dict[str, str] | None = None,
           csrf: str | None = None, **context: Any) -> HTMLResponse:
    """The template `name` (autoescaped) in `lang`, with the words function `t`, the language switch and the CSRF
    token every form and script sends back (`csrf`: a new one to hand out, as at login)."""
    words = language(lang)
    token = csrf or csrf_token(request)
    html = template("sitewatch.console", name).render(
        t=words.t, lang=lang, langs=[(code, language(code).native_name) for code in LANGS],
        path=request.url.path, csrf=token, **context,
    )
    response = HTMLResponse(html, status_code=status_code, headers={**HEADERS, **(headers or {})})
    if request.cookies.get(CSRF_COOKIE) != token:
        keep_csrf(response, token, request)
    return response
