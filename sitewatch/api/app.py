"""The FastAPI application: lifespan (store, workers), auth, problem details, routes and health checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool

from sitewatch import __version__
from sitewatch.api import analyses, cameras, conversation, incidents, problems
from sitewatch.api.auth import TokenGate
from sitewatch.api.body_limit import BodyLimit, Cap, json_limit
from sitewatch.api.chats import ChatSessions
from sitewatch.api.csrf import CsrfGate
from sitewatch.api.login_limit import LoginLimiter
from sitewatch.api.models import Health
from sitewatch.api.problems import Problem
from sitewatch.api.services import Services, services
from sitewatch.api.upload import remove_leftovers, too_large
from sitewatch.console import routes as console
from sitewatch.service.jobs import AnalysisQueue
from sitewatch.settings import Settings
from sitewatch.store import Store
from sitewatch.store.database import data_dir

if TYPE_CHECKING:
    from sitewatch.live.watcher import Watcher

DESCRIPTION = (
    "Upload a site video, follow its analysis, read the report (JSON, HTML, keyframes) and chat about it. "
    "When SITEWATCH_API_TOKEN is set every route but /healthz needs `Authorization: Bearer <token>`."
)


def _start_watcher(settings: Settings, store: Store) -> Watcher | None:
    """The cameras of SITEWATCH_WATCH_CONFIG watched by this server (their incidents land in its history)."""
    if settings.watch_config is None:
        return None
    from sitewatch.live.config import load_config
    from sitewatch.live.watcher import Watcher

    return Watcher(load_config(settings.watch_config, []), settings, store).start()


def create_app(settings: Settings) -> FastAPI:
    """The API for `settings`; the store opens (and migrates) and the workers start when the app starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await run_in_threadpool(Store.open, settings)
        queue = AnalysisQueue(store, settings)
        queue.start()
        uploads = data_dir(settings) / "uploads"
        remove_leftovers(uploads)
        app.state.services = Services(settings, store, queue, ChatSessions(store, settings), uploads)
        app.state.watcher = await run_in_threadpool(_start_watcher, settings, store)
        try:
            yield
        finally:
            if app.state.watcher is not None:
                await run_in_threadpool(app.state.watcher.stop)
            await run_in_threadpool(queue.stop)
            store.close()

    app = FastAPI(title="sitewatch", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)
    # The upload streams to disk with its own cap; slack for the multipart headers and option fields.
    upload_cap = Cap((settings.upload_limit_mb << 20) + (256 << 10), too_large(settings.upload_limit_mb << 20).detail)
    upload = {("POST", "/v1/analyses"): upload_cap}
    app.add_middleware(BodyLimit, limit_bytes=json_limit(settings.max_question_chars), streamed=upload)
    # A changing request riding on the console's cookie needs the page's CSRF token (after the token gate).
    app.add_middleware(CsrfGate)
    # Added last, so it runs first: a client without the token is refused before any body is considered; wrong
    # tokens (bearer, cookie or the login form) count against their address together.
    app.state.login_limiter = LoginLimiter()
    app.add_middleware(TokenGate, token=settings.api_token, limiter=app.state.login_limiter)
    app.include_router(analyses.router, prefix="/v1")
    app.include_router(conversation.router, prefix="/v1")
    app.include_router(incidents.router, prefix="/v1")
    app.include_router(cameras.router, prefix="/v1")
    # The operator's console: pages under /console, its script and stylesheet served from the package.
    app.mount("/console/static", console.STATIC, name="console-static")
    app.include_router(console.router, prefix="/console")

    @app.get("/healthz", response_model=Health, response_model_exclude_none=True, tags=["health"])
    def healthz(request: Request) -> Health:
        """The process answers (no token needed); with SITEWATCH_WATCH_CONFIG, each camera's state."""
        watcher = request.app.state.watcher
        if watcher is None:
            return Health()
        return Health(cameras=watcher.statuses(), warnings=watcher.warnings or None)

    @app.get("/readyz", response_model=Health, response_model_exclude_none=True, tags=["health"])
    def readyz(request: Request) -> Health:
        """The database answers and the workers run."""
        svc = services(request)
        try:
            svc.store.ping()
        except Exception as exc:
            raise Problem(503, f"the database does not answer ({type(exc).__name__})") from None
        if not svc.queue.healthy():
            raise Problem(503, "the analysis workers are not running")
        return Health()

    return app
