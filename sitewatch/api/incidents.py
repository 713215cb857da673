"""/v1/incidents: what watched cameras raised, newest first; each links its clip's analysis once it is done,
and carries the operator's review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from sitewatch.api.services import services
from sitewatch.store import IncidentPage, IncidentQuery, IncidentRecord, ReviewRequest

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
