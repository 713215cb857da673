"""What crosses the store's boundary: options, analysis records, chat turns, queries and pages (pydantic)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sitewatch.request import AnalysisRequest
from sitewatch.schema import Event, EventKind, Source, Stage, Verdict, Zone, Zones
from sitewatch.text.languages import Lang

# Far beyond any history, and far below SQLite's and PostgreSQL's 64-bit OFFSET.
MAX_OFFSET = 2**31 - 1


class KeptVideo(BaseModel):
    """A video kept in the history: its content hash and the name it is stored under."""

    model_config = ConfigDict(frozen=True)

    sha256: str
    file: str


class Status(str, Enum):
    """Where an analysis is in its life."""

    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"


ACTIVE = (Status.queued, Status.running)


class Progress(BaseModel):
    """How far a running analysis is: the pipeline stage and its step counter."""

    stage: Stage | None = None
    done: int = 0
    total: int = 0


class AnalysisRecord(BaseModel):
    """One stored analysis: its video, options, state and (once done) verdict."""

    id: str
    status: Status
    source: Source = Field(description="who asked")
    video_name: str
    video_sha256: str
    options: AnalysisRequest
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    progress: Progress = Field(default_factory=Progress)
    verdict: Verdict | None = None
    confidence: float | None = None
    event_kinds: list[EventKind] = Field(default_factory=list)
    duration_s: float | None = None
    error: str | None = None
    attempts: int = 0


class ChatRecord(BaseModel):
    """One stored chat turn, in the asker's language and in English."""

    position: int
    question: str
    question_en: str
    answer: str
    answer_en: str
    lang: Lang
    source: Literal["model", "report"]
    warnings: list[str] = Field(default_factory=list)
    created_at: datetime


class Paging(BaseModel):
    """Which slice of a newest-first list; the offset is bounded so no database integer can overflow."""

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class AnalysisQuery(Paging):
    """Filters and paging for listing analyses (newest first)."""

    verdict: Verdict | None = None
    event: EventKind | None = Field(None, description="analyses with at least one event of this kind")
    status: Status | None = None
    since: datetime | None = Field(None, description="created at or after")
    until: datetime | None = Field(None, description="created before")
    site: str | None = None
    camera: str | None = None


class AnalysisPage(BaseModel):
    """One page of a listing and the number of analyses the filters match in all."""

    items: list[AnalysisRecord]
    total: int
    limit: int
    offset: int


class ReviewVerdict(str, Enum):
    """What an operator decided an incident was."""

    confirmed = "confirmed"
    false_alarm = "false_alarm"


MAX_NOTE_CHARS = 2000
# Who reviewed: a name or login, not free text (it is shown in lists and exported with the review).
REVIEWER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,99}$"
DEFAULT_REVIEWER = "operator"  # the token's holder, when the review names nobody


class ReviewRecord(BaseModel):
    """An operator's current review of one incident."""

    reviewer: str
    reviewed_at: datetime = Field(description="when it was given (UTC)")
    verdict: ReviewVerdict
    note: str | None = None


class ReviewRequest(BaseModel):
    """A review as a client sends it; without a verdict it changes only the note of an existing review."""

    model_config = ConfigDict(extra="forbid")

    verdict: ReviewVerdict | None = Field(None, description="confirmed or false_alarm; a first review needs one")
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS)
    reviewer: str | None = Field(
        None, pattern=REVIEWER_PATTERN, description=f"who reviews (default: {DEFAULT_REVIEWER!r}, the token's holder)"
    )


class Tier(str, Enum):
    """How sure the detector was: an alarm pages people; a possible accident waits in the review queue."""

    alarm = "alarm"
    possible = "possible"


class IncidentRecord(BaseModel):
    """An incident a watched camera raised: when and what, and (once its clip is analysed) the analysis."""

    id: str
    camera: str
    site: str | None = None
    kind: EventKind
    confidence: float
    tier: Tier = Field(Tier.alarm, description="alarm: people were paged; possible: for the review queue only")
    started_at: datetime = Field(description="when the event began (UTC)")
    detected_at: datetime = Field(description="when the detector raised it (UTC)")
    stream_s: float = Field(description="seconds into the camera's stream at which it began")
    event: Event
    analysis_id: str | None = Field(None, description="the incident clip's analysis: report, keyframes, video")
    verdict: Verdict | None = None
    summary: dict[str, str] | None = Field(None, description="the clip's summary by language code")
    error: str | None = Field(None, description="why the clip or its analysis could not be made")
    updated_at: datetime
    review: ReviewRecord | None = Field(None, description="the operator's current verdict, once reviewed")
    worker: str | None = Field(None, description="host:pid of the process making its clip", exclude=True)


class DeliveryState(str, Enum):
    """Where one alert to one channel is."""

    pending = "pending"
    sent = "sent"
    dead = "dead"  # every attempt failed: kept for a person (and in the dead-letter file)


class DeliveryRecord(BaseModel):
    """One alert to one channel, from the outbox."""

    alert_id: str
    channel: str
    incident_id: str
    type: str
    payload: dict[str, Any]
    state: DeliveryState = DeliveryState.pending
    attempts: int = 0
    next_at: datetime
    error: str | None = None
    worker: str | None = None
    created_at: datetime
    sent_at: datetime | None = None


class IncidentQuery(Paging):
    """Filters and paging for listing incidents (newest first)."""

    camera: str | None = None
    site: str | None = None
    kind: EventKind | None = None
    tier: Tier | None = None
    since: datetime | None = Field(None, description="started at or after")
    until: datetime | None = Field(None, description="started before")
    reviewed: bool | None = Field(None, description="true: only reviewed incidents; false: only those not reviewed")
    verdict: ReviewVerdict | None = Field(None, description="only incidents reviewed with this verdict")


class AlarmStats(BaseModel):
    """How often one camera raised alarms lately, and how many of those its operators confirmed."""

    camera: str
    days: int = Field(description="the window counted, ending now")
    incidents: int
    reviewed: int
    confirmed: int

    @property
    def per_day(self) -> float:
        """Incidents per day over the window."""
        return self.incidents / self.days

    @property
    def confirmed_share(self) -> float | None:
        """The share of reviewed incidents that were confirmed (None before any review)."""
        return self.confirmed / self.reviewed if self.reviewed else None


# Who wrote zones that came from a cameras file at `watch` start: no reviewer name can look like it.
CAMERAS_FILE = "(cameras file)"


class ZoneRecord(Zone):
    """A zone as the history keeps it: who last changed it and when."""

    updated_at: datetime
    updated_by: str


class ZonesRequest(BaseModel):
    """A camera's whole set of zones as a client sends it (what it leaves out is deleted)."""

    model_config = ConfigDict(extra="forbid")

    zones: Zones
    by: str | None = Field(
        None, pattern=REVIEWER_PATTERN, description=f"who edits (default: {DEFAULT_REVIEWER!r}, the token's holder)"
    )


class CameraZones(BaseModel):
    """One camera's zones, and when and by whom the set last changed (None: never)."""

    camera: str
    zones: list[ZoneRecord]
    updated_at: datetime | None = None
    updated_by: str | None = None

    def plain(self) -> list[Zone]:
        """The zones without who changed them, as a camera applies them."""
        return [Zone.model_validate(z.model_dump(include=set(Zone.model_fields))) for z in self.zones]


class PublishedStatus(BaseModel):
    """A camera's status as its watcher last wrote it into the history (the status itself is the watcher's JSON)."""

    camera: str
    worker: str
    status: dict[str, Any]
    every_s: float = Field(description="how often the watcher writes it when nothing changes")
    updated_at: datetime


class IncidentPage(BaseModel):
    """One page of incidents and how many match in all."""

    items: list[IncidentRecord]
    total: int
    limit: int
    offset: int
