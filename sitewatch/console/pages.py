"""Rendering a console page: the reader's language (cookie, else the server's), the words, safe headers."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

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


def render(request: Request, name: str, lang: Lang, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The template `name` (autoescaped) in `lang`, with the words function `t` and the language switch."""
    words = language(lang)
    html = template("sitewatch.console", name).render(
        t=words.t, lang=lang, langs=[(code, language(code).native_name) for code in LANGS],
        path=request.url.path, **context,
    )
    return HTMLResponse(html, status_code=status_code, headers=HEADERS)
