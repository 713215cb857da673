"""The console's login and logout: the token typed once into a form, kept in an HttpOnly SameSite=Strict cookie;
wrong tokens slowed down per address, both forms guarded by the CSRF token."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sitewatch.api.auth import TOKEN_COOKIE, client_address, token_matches
from sitewatch.api.csrf import CSRF_COOKIE, CSRF_FIELD, MISSING, csrf_matches, new_csrf_token
from sitewatch.api.login_limit import LoginLimiter
from sitewatch.api.problems import problem_response
from sitewatch.api.services import services
from sitewatch.console.pages import keep_csrf, page_lang, render
from sitewatch.text import language

log = logging.getLogger(__name__)

router = APIRouter()
COOKIE_MAX_AGE_S = 12 * 3600  # a shift; then the token is typed again


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> Response:
    """The login form (straight to the cameras when the server needs no token)."""
    if services(request).settings.api_token is None:
        return RedirectResponse("/console", status_code=303)
    return render(request, "login.html", page_lang(request), wrong=False, message=None)


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    """Check the typed token; when right, keep it in the cookie the token gate accepts and open the console.

    An address that typed too many wrong tokens lately waits (429, Retry-After); a form without the page's CSRF
    token is refused (403).
    """
    expected = services(request).settings.api_token
    if expected is None:
        return RedirectResponse("/console", status_code=303)
    lang = page_lang(request)
    limiter: LoginLimiter = request.app.state.login_limiter
    address = client_address(request.scope)
    wait = limiter.retry_after(address)
    if wait is not None:
        return render(request, "login.html", lang, status_code=429, headers={"Retry-After": str(wait)},
                      wrong=False, message=language(lang).t("console_login_too_many", seconds=wait))
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"), max_num_fields=4)
    if not csrf_matches(request.cookies.get(CSRF_COOKIE), (form.get(CSRF_FIELD) or [""])[0]):
        return render(request, "login.html", lang, status_code=403, wrong=False,
                      message=language(lang).t("console_form_expired"))
    given = (form.get("token") or [""])[0]
    if not given or not token_matches(given, expected):
        limiter.failed(address)
        log.warning("console login with a wrong token from %s", address)
        return render(request, "login.html", lang, status_code=401, wrong=True, message=None)
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(TOKEN_COOKIE, given.strip(), max_age=COOKIE_MAX_AGE_S, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    keep_csrf(response, new_csrf_token(), request)  # a new session, a new CSRF token
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Forget the cookie and go back to the login form (only from the console's own form: its CSRF token)."""
    form = parse_qs((await request.body()).decode("utf-8", errors="replace"), max_num_fields=4)
    if not csrf_matches(request.cookies.get(CSRF_COOKIE), (form.get(CSRF_FIELD) or [""])[0]):
        return problem_response(403, MISSING)
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/", httponly=True, samesite="strict")
    return response
