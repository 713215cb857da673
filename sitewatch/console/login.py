"""The console's login and logout: the token typed once into a form, kept in an HttpOnly SameSite=Strict cookie."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sitewatch.api.auth import TOKEN_COOKIE, token_matches
from sitewatch.api.services import services
from sitewatch.console.pages import page_lang, render

log = logging.getLogger(__name__)

router = APIRouter()
COOKIE_MAX_AGE_S = 12 * 3600  # a shift; then the token is typed again


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The login form (straight to the cameras when the server needs no token)."""
    if services(request).settings.api_token is None:
        return RedirectResponse("/console", status_code=303)
    return render(request, "login.html", page_lang(request), wrong=False)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the typed token; when right, keep it in the cookie the token gate accepts and open the console."""
    expected = services(request).settings.api_token
    if expected is None:
        return RedirectResponse("/console", status_code=303)
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"), max_num_fields=4)
    given = (form.get("token") or [""])[0]
    if not given or not token_matches(given, expected):
        log.warning("console login with a wrong token from %s", request.client.host if request.client else "?")
        return render(request, "login.html", page_lang(request), status_code=401, wrong=True)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(TOKEN_COOKIE, given.strip(), max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


@router.post("/logout")
def logout() -> Response:
    """Forget the cookie and go back to the login form."""
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
    return response
