"""Errors as RFC 9457 problem details (application/problem+json); no traceback ever reaches a client."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from sitewatch.errors import SettingsError, SitewatchError
from sitewatch.store.errors import AnalysisNotFoundError, AnalysisStateError, ReviewError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# Sitewatch's own errors that are the client's doing, by HTTP status; anything else is the server's (500).
CLIENT_ERRORS: tuple[tuple[type[SitewatchError], int], ...] = (
    (AnalysisNotFoundError, 404),
    (AnalysisStateError, 409),
    (SettingsError, 422),
    (ReviewError, 422),
)


class Problem(Exception):
    """An HTTP error with a one-line reason, rendered as problem details."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers


def problem_response(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A problem-details response: type, title, status, detail."""
    # "about:blank": the HTTP status says it all, the detail says what to change.
    body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status, "detail": detail}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_detail(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI) -> None:
    """Route every error the app can raise to a problem-details response."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.headers)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(422, _validation_detail(exc))

    @app.exception_handler(SitewatchError)
    async def _sitewatch(request: Request, exc: SitewatchError) -> JSONResponse:
        status = next((code for kind, code in CLIENT_ERRORS if isinstance(exc, kind)), 500)
        if status == 500:
            log.error("%s %s: %s", request.method, request.url.path, exc)
        return problem_response(status, str(exc))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem_response(500, "internal server error; the server log has the details")
