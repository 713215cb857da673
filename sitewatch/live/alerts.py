"""The alert every channel sends about an incident: JSON for programs, a title and a sentence for people."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from sitewatch.schema import Box, EventKind, Report, Verdict
from sitewatch.store.records import IncidentRecord
from sitewatch.text import Lang, language

AlertType = Literal["new", "update"]


class Alert(BaseModel):
    """One message about one incident: `new` within seconds of it, `update` each time the incident changes."""

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
    report_url: str | None = None  # with a public URL configured: the clip's report page on `sitewatch serve`
    verdict: Verdict | None = None
    error: str | None = None
    lang: Lang
    title: str
    message: str


def report_url(public_url: str | None, analysis_id: str | None) -> str | None:
    """Where a receiver opens an analysis's report (with its keyframes), when the operator gave a public URL."""
    if not public_url or not analysis_id:
        return None
    return f"{public_url.rstrip('/')}/v1/analyses/{analysis_id}/report.html"


def alert_for(
    incident: IncidentRecord, lang: Lang, type: AlertType, report: Report | None = None, public_url: str | None = None
) -> Alert:
    """The alert for an incident as the store has it now (with its clip's report, when just analysed)."""
    words = language(lang)
    event = words.events[incident.kind]
    site = words.t("alert_site", site=incident.site) if incident.site else ""
    # The wall-clock moment with its zone: a time inside the clip means nothing to the reader.
    when = incident.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    sentences = [words.t(
        "alert_body", camera=incident.camera, site=site, time=when, event=event,
        confidence=words.confidence(incident.confidence),
    )]
    if incident.verdict is not None:
        sentences.append(words.t("alert_update", verdict=words.verdicts[incident.verdict]))
    elif incident.error is not None:
        sentences.append(words.t("alert_no_clip"))
    if report is not None and report.scene_en:
        # Only the model's own description: the report's summary would repeat the verdict and give clip times.
        translated = report.scene_translations.get(words.code, "")
        sentences.append(words.t("scene", text=translated) if translated
                         else words.t("scene_untranslated", text=report.scene_en))
    link = report_url(public_url, incident.analysis_id)
    if link:
        sentences.append(words.t("alert_report", url=link))
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
        report_url=link,
        verdict=incident.verdict,
        error=incident.error,
        lang=lang,
        title=words.t("alert_title", camera=incident.camera, event=event),
        message=" ".join(sentences),
    )
