"""The console's pages: cameras, the review queue, one incident, the analyses; data from the store and the watchers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError

from sitewatch.api.cameras import CameraName, camera_statuses
from sitewatch.api.services import services
from sitewatch.console import login
from sitewatch.console.filters import QueueFilters
from sitewatch.console.pages import page_lang, render
from sitewatch.schema import EventKind, ModelVersion, Zone
from sitewatch.store import AnalysisQuery, ChatRecord, IncidentQuery, IncidentRecord, Status, Store
from sitewatch.store.records import CAMERAS_FILE, AlarmStats, Paging
from sitewatch.text import language
from sitewatch.text.clock import local_time

STATIC = StaticFiles(packages=[("sitewatch.console", "static")])

# The window of a camera's alarm rate on its tile: a week smooths weekends and shifts out.
ALARM_DAYS = 7

router = APIRouter(include_in_schema=False)
router.include_router(login.router)


@dataclass(frozen=True)
class CameraCard:
    """One tile of the camera grid."""

    name: str
    state: str
    since: datetime
    analysed: int
    dropped: int
    last_incident: IncidentRecord | None
    alarms: AlarmStats
    zones: list[Zone]


def _cards(request: Request, store: Store) -> list[CameraCard]:
    cards = []
    for status in camera_statuses(request):
        newest = store.incidents(IncidentQuery(camera=status.camera, limit=1)).items
        zones = store.camera_zones(status.camera).plain()
        cards.append(CameraCard(status.camera, status.state.value, status.since, status.frames_analysed,
                                status.frames_dropped, newest[0] if newest else None,
                                store.alarm_stats(status.camera, ALARM_DAYS), zones))
    return cards


def _words(lang: str) -> dict[str, Any]:
    """What templates need besides `t`: kind and verdict names, and times in the operator's zone."""
    words = language(lang)
    return {"kinds": {k.value: words.events[k] for k in EventKind},
            "verdicts": {v.value: words.verdicts[v] for v in words.verdicts}, "when": local_time}


@router.get("", response_class=HTMLResponse)
async def cameras(request: Request) -> Response:
    """The grid of watched cameras (this server's and other watchers'): snapshot (refreshed every 2 s), state,
    frames, last incident."""
    lang = page_lang(request)
    cards = await run_in_threadpool(_cards, request, services(request).store)
    return render(request, "cameras.html", lang, cards=cards, **_words(lang))


@router.get("/cameras/{name}", response_class=HTMLResponse)
async def camera(request: Request, name: CameraName, saved: bool = False) -> Response:
    """One camera's snapshot with its zones over it, and the editor that draws, saves and deletes them."""
    lang = page_lang(request)
    zones = await run_in_threadpool(services(request).store.camera_zones, name)
    return render(request, "camera.html", lang, camera=zones, cameras_file=CAMERAS_FILE, saved=saved,
                  **_words(lang))


@router.get("/queue", response_class=HTMLResponse)
async def queue(request: Request) -> Response:
    """Incidents newest first, filtered by camera, site, kind, reviewed or not, and local dates."""
    lang = page_lang(request)
    try:
        filters = QueueFilters.model_validate(dict(request.query_params))
    except ValidationError as exc:
        reason = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return render(request, "queue.html", lang, status_code=422, filters=QueueFilters(), rows=[], total=0,
                      error=language(lang).t("console_bad_filter", reason=reason), **_words(lang))
    page = await run_in_threadpool(services(request).store.incidents, filters.query())
    return render(request, "queue.html", lang, filters=filters, rows=page.items, total=page.total, error=None,
                  **_words(lang))


def _incident_view(store: Store, incident_id: str, filters: QueueFilters) -> dict[str, Any]:
    incident = store.get_incident(incident_id)
    keyframes = 0
    turns: list[ChatRecord] = []
    decided: ModelVersion | None = None
    if incident.analysis_id is not None and store.get(incident.analysis_id).status is Status.done:
        report = store.report(incident.analysis_id)
        keyframes = sum(name.startswith("keyframes/") for name in report.outputs)
        decided = report.detector_model
        turns = store.turns(incident.analysis_id)
    ids = [item.id for item in store.incidents(filters.query()).items]
    at = ids.index(incident_id) if incident_id in ids else None
    # Newest first: "next" (j) is the older neighbour, the way a reviewer walks down the list.
    older = ids[at + 1] if at is not None and at + 1 < len(ids) else None
    newer = ids[at - 1] if at is not None and at > 0 else None
    return {"incident": incident, "keyframes": keyframes, "turns": turns, "next_id": older, "previous_id": newer,
            "decided": decided}


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
async def incident(request: Request, incident_id: str) -> Response:
    """One incident: its clip, keyframes, report link, review buttons, keyboard shortcuts and the chat about it."""
    lang = page_lang(request)
    try:
        filters = QueueFilters.model_validate(dict(request.query_params))
    except ValidationError:
        filters = QueueFilters()  # a broken queue link still shows the incident, outside any queue
    view = await run_in_threadpool(_incident_view, services(request).store, incident_id, filters)
    max_chars = services(request).settings.max_question_chars
    # Which fitted model judged the incident's clip (the shipped one, or the site's own), in the page's words.
    model = view.pop("decided")
    decided = language(lang).decided_by(model) if model else None
    return render(request, "incident.html", lang, filters=filters, max_chars=max_chars, decided=decided, **view,
                  **_words(lang))


@router.get("/analyses", response_class=HTMLResponse)
async def analyses(request: Request, paging: Annotated[Paging, Query()]) -> Response:
    """The history's analyses (uploads, batch results, incident clips), newest first, with their reports."""
    lang = page_lang(request)
    query = AnalysisQuery(limit=paging.limit, offset=paging.offset)
    page = await run_in_threadpool(services(request).store.query, query)
    return render(request, "analyses.html", lang, page=page, **_words(lang))


@router.get("/", include_in_schema=False)
def slash() -> Response:
    """/console/ is /console."""
    return RedirectResponse("/console", status_code=308)
