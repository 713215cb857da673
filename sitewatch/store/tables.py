"""The database tables as typed SQLAlchemy 2 models; migrations/ creates them, this module only maps them."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite keeps no zone: it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """The metadata every table of the history belongs to."""


class AnalysisRow(Base):
    """One analysis: the job (status, progress, attempts) and, when done, its verdict."""

    __tablename__ = "analyses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    source: Mapped[str] = mapped_column(String(16))
    video_sha256: Mapped[str] = mapped_column(String(64), index=True)
    video_name: Mapped[str] = mapped_column(String(255))
    video_file: Mapped[str] = mapped_column(String(64), doc="the stored video's name in its content folder")
    options_key: Mapped[str] = mapped_column(String(64))
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    site: Mapped[str | None] = mapped_column(String(100), index=True)
    camera: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_stage: Mapped[str | None] = mapped_column(String(32))
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    verdict: Mapped[str | None] = mapped_column(String(16), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    duration_s: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(128), doc="host:pid of the process running it")
    cancel_requested: Mapped[bool] = mapped_column(default=False)

    # Always loaded with the row: a record lists its event kinds.
    events: Mapped[list[EventRow]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True, order_by="EventRow.position",
        lazy="selectin",
    )
    turns: Mapped[list[ChatRow]] = relationship(
        back_populates="analysis", cascade="all, delete-orphan", passive_deletes=True, order_by="ChatRow.position"
    )


class EventRow(Base):
    """One event of a finished analysis, kept apart so listings can filter by kind and time."""

    __tablename__ = "analysis_events"

    analysis_id: Mapped[str] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    confidence: Mapped[float] = mapped_column(Float)

    analysis: Mapped[AnalysisRow] = relationship(back_populates="events")


class ChatRow(Base):
    """One chat turn about an analysis."""

    __tablename__ = "chat_turns"

    analysis_id: Mapped[str] = mapped_column(ForeignKey("analyses.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    question_en: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    answer_en: Mapped[str] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(16))
    warnings: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    analysis: Mapped[AnalysisRow] = relationship(back_populates="turns")


class IncidentRow(Base):
    """One incident a watched camera raised; its clip's analysis (report, keyframes) is linked once done."""

    __tablename__ = "incidents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    camera: Mapped[str] = mapped_column(String(100), index=True)
    site: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    tier: Mapped[str] = mapped_column(String(8), index=True, server_default="alarm")
    confidence: Mapped[float] = mapped_column(Float)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stream_s: Mapped[float] = mapped_column(Float, doc="seconds into the camera's stream (a file's own time)")
    event: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the detector's Event, in camera seconds")
    analysis_id: Mapped[str | None] = mapped_column(ForeignKey("analyses.id", ondelete="SET NULL"))
    verdict: Mapped[str | None] = mapped_column(String(16))
    summary: Mapped[dict[str, str] | None] = mapped_column(JSON, doc="the clip's summary by language code")
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(128), doc="host:pid of the process making its clip")

    # Always loaded with the row: an incident record carries its review.
    review: Mapped[ReviewRow | None] = relationship(
        back_populates="incident", cascade="all, delete-orphan", passive_deletes=True, lazy="selectin"
    )


class ReviewRow(Base):
    """An operator's current verdict on one incident: who, when, confirmed or false alarm, and a note."""

    __tablename__ = "reviews"

    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    reviewer: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    verdict: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[IncidentRow] = relationship(back_populates="review")


class DeliveryRow(Base):
    """One alert to one channel (the outbox): written before it is sent, so a killed process resumes it."""

    __tablename__ = "deliveries"

    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True, doc="the receivers' idempotency key")
    channel: Mapped[str] = mapped_column(String(300), primary_key=True, doc="the channel's name (no credentials)")
    incident_id: Mapped[str] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(8))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, doc="the alert as sent")
    state: Mapped[str] = mapped_column(String(8), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="not tried again before this")
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(128), doc="host:pid of the process sending it")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CameraRow(Base):
    """A camera some watcher has watched, and when and by whom its zones were last changed (what watchers poll)."""

    __tablename__ = "cameras"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    site: Mapped[str | None] = mapped_column(String(100))
    watched_at: Mapped[datetime] = mapped_column(UTCDateTime, doc="when a watcher last started on it")
    zones_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    zones_by: Mapped[str | None] = mapped_column(String(100), doc="an operator, or the cameras file")


class ZoneRow(Base):
    """One polygon on a camera's picture: its kind, corners (normalised 0..1) and dwell."""

    __tablename__ = "zones"

    camera: Mapped[str] = mapped_column(ForeignKey("cameras.name", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    points: Mapped[list[list[float]]] = mapped_column(JSON)
    dwell_s: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str] = mapped_column(String(100))


class SceneRow(Base):
    """A watched camera's learned normal (how its usual person looks at each place of the picture)."""

    __tablename__ = "camera_scenes"

    camera: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CameraStatusRow(Base):
    """A registered camera's status as its watcher last published it (rewritten on every change and every few s)."""

    __tablename__ = "camera_statuses"

    camera: Mapped[str] = mapped_column(ForeignKey("cameras.name", ondelete="CASCADE"), primary_key=True)
    worker: Mapped[str] = mapped_column(String(128), doc="host:pid of the process watching it")
    status: Mapped[dict[str, Any]] = mapped_column(JSON, doc="state, since, error and counters")
    every_s: Mapped[float] = mapped_column(Float, doc="how often its watcher writes it when nothing changes")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
