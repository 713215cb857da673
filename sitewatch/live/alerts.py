"""The alert every channel sends about an incident: JSON for programs, a title and a sentence for people."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from sitewatch.schema import Box, EventKind, Verdict
from sitewatch.store.records import IncidentRecord
from sitewatch.text import Lang, language

AlertType = Literal["new", "update"]


class Alert(BaseModel):
    """One message about one incident: `new` within seconds of it, `update` when it changed (a more severe kind,
    its clip analysed, or why there is no clip)."""

    type: AlertType
    alert_id: str  # this message's own id: receivers drop a message they already have (delivery is at least once)
    id: str  # the incident's
    camera: str
    site: str | None = None
    kind: EventKind
    confidence: float
    started_at: datetime
    detected_at: datetime
    stream_s: float
    box: Box | None = None
    analysis_id: str | None = None
    verdict: Verdict | None = None
    error: str | None = None
    lang: Lang
    title: str
    message: str


def alert_for(incident: IncidentRecord, lang: Lang, type: AlertType) -> Alert:
    """The alert for an incident as the store has it now."""
    words = language(lang)
    event = words.events[incident.kind]
    site = words.t("alert_site", site=incident.site) if incident.site else ""
    when = incident.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    message = words.t(
        "alert_body", camera=incident.camera, site=site, time=when, event=event,
        confidence=words.confidence(incident.confidence),
    )
    if incident.analysis_id is not None and incident.verdict is not None:
        summary = incident.summary_ko if lang == "ko" else incident.summary_en
        message += " " + words.t("alert_update", verdict=words.verdicts[incident.verdict], summary=summary or "")
    return Alert(
        type=type,
        alert_id=uuid.uuid4().hex,
        id=incident.id,
        camera=incident.camera,
        site=incident.site,
        kind=incident.kind,
        confidence=incident.confidence,
        started_at=incident.started_at,
        detected_at=incident.detected_at,
        stream_s=incident.stream_s,
        box=incident.event.box,
        analysis_id=incident.analysis_id,
        verdict=incident.verdict,
        error=incident.error,
        lang=lang,
        title=words.t("alert_title", camera=incident.camera, event=event),
        message=message.strip(),
    )
