"""/v1/incidents: what watched cameras raised, newest first; each links its clip's analysis once it is done,
and carries the operator's review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse

from sitewatch.api.playable import PLAYABLE_DIR, playable_clip
from sitewatch.api.problems import Problem
from sitewatch.api.services import services
from sitewatch.store import IncidentPage, IncidentQuery, IncidentRecord, ReviewRequest
from sitewatch.store.database import data_dir

router = APIRouter(prefix="/incidents", tags=["incidents"])


@router.get("", response_model=IncidentPage)
def list_incidents(request: Request, query: Annotated[IncidentQuery, Query()]) -> IncidentPage:
    """Incidents, newest first, filtered by camera, site, event kind, start time and review."""
    return services(request).store.incidents(query)


@router.get("/{incident_id}", response_model=IncidentRecord)
def get_incident(request: Request, incident_id: str) -> IncidentRecord:
    """One incident; its `analysis_id` leads to the clip's report, keyframes and video."""
    return services(request).store.get_incident(incident_id)


@router.post("/{incident_id}/review", response_model=IncidentRecord)
def review_incident(request: Request, incident_id: str, review: ReviewRequest) -> IncidentRecord:
    """Confirm an incident or mark it a false alarm, with a note; the newest review is the incident's review."""
    return services(request).store.review_incident(incident_id, review)


@router.get("/{incident_id}/clip.mp4", response_class=FileResponse,
            responses={200: {"content": {"video/mp4": {}}}, 404: {"description": "no such incident or no clip yet"}})
async def clip(request: Request, incident_id: str) -> FileResponse:
    """The incident's clip as H.264 MP4 with faststart, for a browser's <video>; range requests are answered."""
    svc = services(request)
    incident = await run_in_threadpool(svc.store.get_incident, incident_id)
    if incident.analysis_id is None:
        raise Problem(404, f"incident {incident_id} has no clip yet")
    # Every path comes from the history (the analysis id and its stored video), none from the request.
    video = await run_in_threadpool(svc.store.video_path, incident.analysis_id)
    cache = data_dir(svc.settings) / PLAYABLE_DIR
    path = await run_in_threadpool(playable_clip, video, cache, incident.analysis_id)
    return FileResponse(path, media_type="video/mp4", filename=f"incident-{incident_id}.mp4",
                        content_disposition_type="inline")
