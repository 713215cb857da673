"""`Store`: the one way in and out of the history (records, jobs, reports, chats); typed records at its edge."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Engine, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from sitewatch.content import sha256_file
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Event, Report, Source, VideoInfo, Zone, ZoneKind
from sitewatch.settings import Settings
from sitewatch.store.database import data_dir, database_url, make_engine
from sitewatch.store.errors import AnalysisNotFoundError, AnalysisStateError, ReviewError
from sitewatch.store.files import VideoFolder, stored_suffix
from sitewatch.store.migrate import upgrade
from sitewatch.store.records import (
    ACTIVE,
    CAMERAS_FILE,
    DEFAULT_REVIEWER,
    AlarmStats,
    AnalysisPage,
    AnalysisQuery,
    AnalysisRecord,
    CameraZones,
    ChatRecord,
    DeliveryRecord,
    DeliveryState,
    IncidentPage,
    IncidentQuery,
    IncidentRecord,
    KeptVideo,
    Progress,
    PublishedStatus,
    ReviewRequest,
    ReviewVerdict,
    Status,
    Tier,
    ZoneRecord,
)
from sitewatch.store.tables import (
    AnalysisRow,
    CameraRow,
    CameraStatusRow,
    ChatRow,
    DeliveryRow,
    EventRow,
    IncidentRow,
    ReviewRow,
    SceneRow,
    ZoneRow,
)

if TYPE_CHECKING:
    from sitewatch.chat import ChatTurn

log = logging.getLogger(__name__)

# Builds the alerts an incident's new state calls for (one delivery per channel), inside its transaction.
Deliveries = Callable[[IncidentRecord], list[DeliveryRecord]]

# A job that took its server down this many times is failed instead of being run again.
MAX_ATTEMPTS = 3
REPORT_JSON = "report.json"


def _page(
    s: Session, table: Any, newest: Any, where: list[ColumnElement[bool]], limit: int, offset: int
) -> tuple[int, list[Any]]:
    """How many rows of `table` match `where`, and one page of them, newest first (ties by id)."""
    total = s.scalar(select(func.count()).select_from(table).where(*where)) or 0
    rows = s.scalars(
        select(table).where(*where).order_by(newest.desc(), table.id).limit(limit).offset(offset)
    ).all()
    return total, list(rows)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def worker_name() -> str:
    """This process as a job owner: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _record(row: AnalysisRow) -> AnalysisRecord:
    return AnalysisRecord(
        id=row.id,
        status=Status(row.status),
        source=row.source,
        video_name=row.video_name,
        video_sha256=row.video_sha256,
        options=AnalysisRequest.model_validate(row.options),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        progress=Progress(stage=row.progress_stage, done=row.progress_done, total=row.progress_total),
        verdict=row.verdict,
        confidence=row.confidence,
        event_kinds=list(dict.fromkeys(e.kind for e in row.events)),
        duration_s=row.duration_s,
        error=row.error,
        attempts=row.attempts,
    )


def _chat_record(row: ChatRow) -> ChatRecord:
    return ChatRecord.model_validate(row, from_attributes=True)


def _incident_record(row: IncidentRow) -> IncidentRecord:
    return IncidentRecord.model_validate(row, from_attributes=True)


def _delivery_row(delivery: DeliveryRecord) -> DeliveryRow:
    return DeliveryRow(**delivery.model_dump(exclude={"state"}), state=delivery.state.value)


def _zone(row: ZoneRow) -> Zone:
    return Zone(name=row.name, kind=ZoneKind(row.kind), points=[tuple(p) for p in row.points], dwell_s=row.dwell_s)


def _camera_row(s: Session, camera: str, lock: bool = False) -> CameraRow:
    row = s.get(CameraRow, camera, with_for_update=lock)
    if row is None:
        raise AnalysisNotFoundError(f"no watched camera named {camera!r}")
    return row


def _camera_zones(s: Session, row: CameraRow) -> CameraZones:
    rows = s.scalars(select(ZoneRow).where(ZoneRow.camera == row.name).order_by(ZoneRow.name)).all()
    zones = [ZoneRecord(**_zone(z).model_dump(), updated_at=z.updated_at, updated_by=z.updated_by) for z in rows]
    return CameraZones(camera=row.name, zones=zones, updated_at=row.zones_at, updated_by=row.zones_by)


def _replace_zones(s: Session, camera: CameraRow, zones: list[Zone], by: str) -> None:
    """Make `zones` the camera's set; a zone saved unchanged keeps who last changed it and when."""
    now = _now()
    current = {z.name: z for z in s.scalars(select(ZoneRow).where(ZoneRow.camera == camera.name))}
    wanted = {z.name for z in zones}
    changed = False
    for name, row in current.items():
        if name not in wanted:
            s.delete(row)
            changed = True
    for zone in zones:
        row = current.get(zone.name)
        if row is not None and _zone(row) == zone:
            continue
        if row is None:
            row = ZoneRow(camera=camera.name, name=zone.name)
            s.add(row)
        row.kind, row.points, row.dwell_s = zone.kind.value, [list(p) for p in zone.points], zone.dwell_s
        row.updated_at, row.updated_by = now, by
        changed = True
    # An operator's save claims the set even when nothing changed; the cameras file only writes what differs.
    if changed or by != CAMERAS_FILE:
        camera.zones_at, camera.zones_by = now, by


class Store:
    """Analyses with their job state, report folders and chat turns, in one database and one data folder."""

    def __init__(self, engine: Engine, root: Path) -> None:
        self.engine = engine
        self.files = VideoFolder(root)
        self._session = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """The history the settings name (SITEWATCH_DATABASE_URL or SQLite in SITEWATCH_DATA_DIR), migrated."""
        root = data_dir(settings)
        engine = make_engine(database_url(settings))
        upgrade(engine)
        return cls(engine, root)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def ping(self) -> None:
        """Raise when the database cannot be reached."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # --- adding -------------------------------------------------------------------------------------

    def keep_video(
        self, path: Path, info: VideoInfo, sha256: str | None = None, *, move: bool = False
    ) -> KeptVideo:
        """Store a probed video under its sha256 (computed when not given)."""
        sha256 = sha256 or sha256_file(path)
        return KeptVideo(sha256=sha256, file=self.files.keep(path, sha256, stored_suffix(info), move=move))

    def find_reusable(self, sha256: str, request: AnalysisRequest) -> AnalysisRecord | None:
        """The newest analysis of these bytes with an equal request that is done or on its way."""
        with self._session() as s:
            row = s.scalars(
                select(AnalysisRow)
                .where(
                    AnalysisRow.video_sha256 == sha256,
                    AnalysisRow.options_key == request.key(),
                    AnalysisRow.status.in_([Status.done.value, *(a.value for a in ACTIVE)]),
                )
                .order_by(AnalysisRow.created_at.desc())
                .limit(1)
            ).first()
            return _record(row) if row else None

    def add(
        self, sha256: str, video_file: str, video_name: str, options: AnalysisRequest, source: Source,
        status: Status = Status.queued,
    ) -> AnalysisRecord:
        """A new analysis of a stored video; queued for the workers unless `status` says otherwise."""
        row = AnalysisRow(
            id=uuid.uuid4().hex,
            status=status.value,
            source=source.value,
            video_sha256=sha256,
            video_name=Path(video_name).name[:255] or "video",
            video_file=video_file,
            options_key=options.key(),
            options=options.model_dump(mode="json"),
            site=options.site,
            camera=options.camera,
            created_at=_now(),
            started_at=_now() if status is Status.running else None,
            worker=worker_name() if status is Status.running else None,
            progress_done=0,
            progress_total=0,
            attempts=0,
            cancel_requested=False,
            events=[],
        )
        with self._session.begin() as s:
            s.add(row)
        return _record(row)

    # --- the job queue ------------------------------------------------------------------------------

    def claim_next(self, worker: str) -> AnalysisRecord | None:
        """Mark the oldest queued analysis running for `worker` and return it (None when none waits)."""
        with self._session() as s:
            waiting = s.scalars(
                select(AnalysisRow.id).where(AnalysisRow.status == Status.queued.value)
                .order_by(AnalysisRow.created_at).limit(8)
            ).all()
        for analysis_id in waiting:
            with self._session.begin() as s:
                # A conditional update is the claim: of two workers racing for a job only one changes its row.
                claimed = s.execute(
                    update(AnalysisRow)
                    .where(AnalysisRow.id == analysis_id, AnalysisRow.status == Status.queued.value)
                    .values(
                        status=Status.running.value, worker=worker, started_at=_now(),
                        attempts=AnalysisRow.attempts + 1, progress_stage=None, progress_done=0, progress_total=0,
                    )
                ).rowcount
            if claimed:
                return self.get(analysis_id)
        return None

    def set_progress(self, analysis_id: str, progress: Progress) -> bool:
        """Record a running analysis's progress; return whether a cancel was asked for since."""
        with self._session.begin() as s:
            s.execute(
                update(AnalysisRow).where(AnalysisRow.id == analysis_id).values(
                    progress_stage=progress.stage.value if progress.stage else None,
                    progress_done=progress.done,
                    progress_total=progress.total,
                )
            )
            return bool(s.scalar(select(AnalysisRow.cancel_requested).where(AnalysisRow.id == analysis_id)))

    def complete(self, analysis_id: str, report: Report, stage: Path) -> AnalysisRecord:
        """Publish a complete report folder, then mark the analysis done: a done record always has its files."""
        with self._session.begin() as s:
            row = s.get(AnalysisRow, analysis_id)
            if row is None:
                # Deleted while it ran: nothing to publish it to.
                shutil.rmtree(stage, ignore_errors=True)
                raise AnalysisNotFoundError(f"analysis {analysis_id} was deleted while it ran")
            self.files.publish(stage, row.video_sha256, analysis_id)
            row.status = Status.done.value
            row.finished_at = _now()
            row.verdict = report.verdict.value
            row.confidence = report.confidence
            row.duration_s = report.video.duration_s
            row.error = None
            row.worker = None
            row.progress_done = row.progress_total
            row.events = [
                EventRow(position=i, kind=e.kind.value, start_s=e.start_s, end_s=e.end_s, confidence=e.confidence)
                for i, e in enumerate(report.events)
            ]
        return self.get(analysis_id)

    def _finish(self, analysis_id: str, status: Status, error: str | None = None) -> None:
        with self._session.begin() as s:
            row = s.get(AnalysisRow, analysis_id)
            if row is None:
                return
            row.status, row.error, row.finished_at, row.worker = status.value, error, _now(), None
            self.files.remove_reports(row.video_sha256, analysis_id)

    def fail(self, analysis_id: str, error: str) -> None:
        """Mark an analysis failed with a one-line reason."""
        self._finish(analysis_id, Status.failed, error)

    def mark_cancelled(self, analysis_id: str) -> None:
        """Mark a running analysis cancelled (its worker stopped)."""
        self._finish(analysis_id, Status.cancelled)

    def requeue(self, analysis_id: str) -> None:
        """Put a running analysis back in the queue (its worker is shutting down)."""
        with self._session.begin() as s:
            s.execute(
                update(AnalysisRow).where(AnalysisRow.id == analysis_id, AnalysisRow.status == Status.running.value)
                .values(status=Status.queued.value, worker=None)
            )

    def request_cancel(self, analysis_id: str) -> AnalysisRecord:
        """Cancel a queued analysis at once, or ask a running one to stop; finished ones raise AnalysisStateError."""
        with self._session.begin() as s:
            row = self._row(s, analysis_id)
            if row.status == Status.queued.value:
                row.status, row.finished_at = Status.cancelled.value, _now()
            elif row.status == Status.running.value:
                row.cancel_requested = True
            else:
                raise AnalysisStateError(f"analysis {analysis_id} is already {row.status}")
        return self.get(analysis_id)

    def recover(self, alive: Callable[[str], bool]) -> list[str]:
        """After a crash: requeue running analyses whose worker is gone (`alive` says); return their ids.

        Ones asked to stop are cancelled instead, and ones that already brought a server down MAX_ATTEMPTS
        times are failed, so a video that crashes the pipeline cannot crash every restart.
        """
        requeued = []
        with self._session.begin() as s:
            rows = s.scalars(select(AnalysisRow).where(AnalysisRow.status == Status.running.value)).all()
            for row in rows:
                if row.worker and alive(row.worker):
                    continue
                if row.cancel_requested:
                    row.status, row.finished_at = Status.cancelled.value, _now()
                elif row.attempts >= MAX_ATTEMPTS:
                    row.status, row.finished_at = Status.failed.value, _now()
                    row.error = f"the analysis was interrupted {row.attempts} times; it is not tried again"
                else:
                    row.status, row.worker = Status.queued.value, None
                    requeued.append(row.id)
        if requeued:
            log.warning("requeued %d interrupted analysis(es): %s", len(requeued), ", ".join(requeued))
        return requeued

    # --- reading ------------------------------------------------------------------------------------

    def _row(self, s: Session, analysis_id: str) -> AnalysisRow:
        row = s.get(AnalysisRow, analysis_id)
        if row is None:
            raise AnalysisNotFoundError(f"no analysis with id {analysis_id!r}")
        return row

    def resolve_id(self, prefix: str) -> str:
        """The one analysis id that starts with `prefix` (ids are shown shortened); not found when none or several."""
        with self._session() as s:
            found = s.scalars(select(AnalysisRow.id).where(AnalysisRow.id.startswith(prefix, autoescape=True)).limit(2))
            ids = list(found)
        if len(ids) != 1:
            several = f"several analyses start with {prefix!r}: give more of the id" if ids else ""
            raise AnalysisNotFoundError(several or f"no analysis with id {prefix!r}")
        return ids[0]

    def get(self, analysis_id: str) -> AnalysisRecord:
        """One analysis; AnalysisNotFoundError when there is none with this id."""
        with self._session() as s:
            return _record(self._row(s, analysis_id))

    def query(self, q: AnalysisQuery) -> AnalysisPage:
        """A page of analyses matching the filters, newest first, and how many match in all."""
        where: list[ColumnElement[bool]] = []
        if q.verdict is not None:
            where.append(AnalysisRow.verdict == q.verdict.value)
        if q.status is not None:
            where.append(AnalysisRow.status == q.status.value)
        if q.event is not None:
            where.append(AnalysisRow.events.any(EventRow.kind == q.event.value))
        if q.since is not None:
            where.append(AnalysisRow.created_at >= q.since)
        if q.until is not None:
            where.append(AnalysisRow.created_at < q.until)
        if q.site is not None:
            where.append(AnalysisRow.site == q.site)
        if q.camera is not None:
            where.append(AnalysisRow.camera == q.camera)
        with self._session() as s:
            total, rows = _page(s, AnalysisRow, AnalysisRow.created_at, where, q.limit, q.offset)
            return AnalysisPage(items=[_record(r) for r in rows], total=total, limit=q.limit, offset=q.offset)

    def video_path(self, analysis_id: str) -> Path:
        """The stored video of an analysis."""
        with self._session() as s:
            row = self._row(s, analysis_id)
            return self.files.video(row.video_sha256, row.video_file)

    def report_folder(self, analysis_id: str) -> Path:
        """The report folder of a done analysis; AnalysisStateError before it is done."""
        record = self.get(analysis_id)
        if record.status is not Status.done:
            raise AnalysisStateError(f"analysis {analysis_id} is {record.status.value}, its report is not ready")
        return self.files.reports(record.video_sha256, analysis_id)

    def report(self, analysis_id: str) -> Report:
        """The stored Report of a done analysis."""
        path = self.report_folder(analysis_id) / REPORT_JSON
        return Report.model_validate_json(path.read_text(encoding="utf-8"))

    # --- chat ---------------------------------------------------------------------------------------

    def add_turn(self, analysis_id: str, turn: ChatTurn) -> ChatRecord:
        """Append a completed chat turn to an analysis's conversation."""
        with self._session.begin() as s:
            self._row(s, analysis_id)
            last = s.scalar(select(func.max(ChatRow.position)).where(ChatRow.analysis_id == analysis_id))
            row = ChatRow(
                analysis_id=analysis_id,
                position=0 if last is None else last + 1,
                question=turn.question,
                question_en=turn.question_en,
                answer=turn.answer,
                answer_en=turn.answer_en,
                lang=turn.lang,
                source=turn.source,
                warnings=list(turn.warnings),
                created_at=_now(),
            )
            s.add(row)
        return _chat_record(row)

    def turns(self, analysis_id: str) -> list[ChatRecord]:
        """The conversation about an analysis, oldest turn first."""
        with self._session() as s:
            self._row(s, analysis_id)
            rows = s.scalars(select(ChatRow).where(ChatRow.analysis_id == analysis_id).order_by(ChatRow.position))
            return [_chat_record(r) for r in rows]

    def chat_history(self, analysis_id: str) -> list[ChatTurn]:
        """The stored conversation as chat turns, ready for `ChatSession.resume`."""
        from sitewatch.chat import ChatTurn

        return [
            ChatTurn(question=r.question, question_en=r.question_en, answer=r.answer, answer_en=r.answer_en,
                     lang=r.lang, source=r.source, warnings=r.warnings)
            for r in self.turns(analysis_id)
        ]  # fmt: skip

    # --- incidents from watched cameras ------------------------------------------------------------------

    def add_incident(self, incident: IncidentRecord, deliveries: Deliveries) -> IncidentRecord:
        """Keep a new incident and its first alerts in one transaction (its analysis is linked later)."""
        times = {"started_at", "detected_at", "updated_at"}
        row = IncidentRow(**incident.model_dump(mode="json", exclude={*times, "review"}),
                          started_at=incident.started_at, detected_at=incident.detected_at,
                          updated_at=incident.updated_at, worker=incident.worker)
        with self._session.begin() as s:
            s.add(row)
            s.flush()
            record = _incident_record(row)
            s.add_all(_delivery_row(d) for d in deliveries(record))
        return record

    def _change_incident(self, incident_id: str, change: Callable[[IncidentRow], None], deliveries: Deliveries
                         ) -> IncidentRecord:
        """Apply `change` to an incident and queue the alerts its new state calls for, in one transaction."""
        with self._session.begin() as s:
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise AnalysisNotFoundError(f"no incident with id {incident_id!r}")
            change(row)
            row.updated_at = _now()
            s.flush()
            record = _incident_record(row)
            s.add_all(_delivery_row(d) for d in deliveries(record))
        return record

    def link_incident(
        self, incident_id: str, analysis: AnalysisRecord | None, deliveries: Deliveries, report: Report | None = None,
        error: str | None = None,
    ) -> IncidentRecord:
        """Attach the incident clip's analysis and its verdict and summaries, or why there is none; it is done."""

        def change(row: IncidentRow) -> None:
            row.analysis_id = analysis.id if analysis else None
            if report is not None:
                row.verdict, row.summary = report.verdict.value, report.summary
            row.error, row.worker = error, None

        return self._change_incident(incident_id, change, deliveries)

    def upgrade_incident(
        self, incident_id: str, event: Event, deliveries: Deliveries, tier: Tier | None = None
    ) -> IncidentRecord:
        """Make a more severe (or surer: `tier`) event, seen within the incident's cooldown, the incident's."""

        def change(row: IncidentRow) -> None:
            row.kind, row.confidence = event.kind.value, event.confidence
            row.event = event.model_dump(mode="json")
            if tier is not None:
                row.tier = tier.value

        return self._change_incident(incident_id, change, deliveries)

    def adopt_unfinished(self, worker: str, alive: Callable[[str], bool], channels: set[str]) -> list[IncidentRecord]:
        """After a crash: take over the deliveries and unfinished incidents of processes that are gone.

        Deliveries to a channel no longer in `channels` are given up (`dead`): an alert goes only where the
        operator now sends them. Returns the incidents whose clip or analysis never finished (now `worker`'s).
        """
        with self._session.begin() as s:
            deliveries = s.scalars(select(DeliveryRow).where(DeliveryRow.state == DeliveryState.pending.value)).all()
            moved = [d for d in deliveries if d.worker != worker and not (d.worker and alive(d.worker))]
            for row in moved:
                row.worker = worker
                if row.channel not in channels:
                    row.state, row.error = DeliveryState.dead.value, "the channel is no longer configured"
            unfinished = s.scalars(select(IncidentRow).where(
                IncidentRow.analysis_id.is_(None), IncidentRow.error.is_(None), IncidentRow.worker.is_not(None)
            )).all()
            adopted = [r for r in unfinished if r.worker != worker and not alive(r.worker or "")]
            for row in adopted:
                row.worker = worker
            records = [_incident_record(r) for r in adopted]
        if moved or records:
            log.warning("resuming %d alert delivery(ies) and %d unfinished incident(s) of a stopped process",
                        len(moved), len(records))
        return records

    # --- the alert outbox ------------------------------------------------------------------------------

    def next_delivery(self, channel: str, worker: str) -> DeliveryRecord | None:
        """The oldest pending alert this process is to send on `channel` (alerts go out in order)."""
        with self._session() as s:
            row = s.scalars(
                select(DeliveryRow)
                .where(DeliveryRow.channel == channel, DeliveryRow.worker == worker,
                       DeliveryRow.state == DeliveryState.pending.value)
                .order_by(DeliveryRow.created_at, DeliveryRow.alert_id).limit(1)
            ).first()
            return DeliveryRecord.model_validate(row, from_attributes=True) if row else None

    def delivery_tried(self, alert_id: str, channel: str, error: str | None, next_at: datetime | None) -> None:
        """Record one attempt: sent (no `error`), to be tried again at `next_at`, or given up (no `next_at`)."""
        with self._session.begin() as s:
            row = s.get(DeliveryRow, (alert_id, channel))
            if row is None:
                return
            row.attempts += 1
            row.error = error
            if error is None:
                row.state, row.sent_at = DeliveryState.sent.value, _now()
            elif next_at is None:
                row.state = DeliveryState.dead.value
            else:
                row.next_at = next_at

    def deliveries(self, incident_id: str) -> list[DeliveryRecord]:
        """Every alert queued for an incident, on every channel, oldest first."""
        with self._session() as s:
            rows = s.scalars(select(DeliveryRow).where(DeliveryRow.incident_id == incident_id)
                             .order_by(DeliveryRow.created_at, DeliveryRow.channel)).all()
            return [DeliveryRecord.model_validate(r, from_attributes=True) for r in rows]

    def get_incident(self, incident_id: str) -> IncidentRecord:
        """One incident; AnalysisNotFoundError when there is none with this id."""
        with self._session() as s:
            row = s.get(IncidentRow, incident_id)
            if row is None:
                raise AnalysisNotFoundError(f"no incident with id {incident_id!r}")
            return _incident_record(row)

    def review_incident(self, incident_id: str, review: ReviewRequest) -> IncidentRecord:
        """Make `review` the incident's current review; what it leaves out (verdict, note) is kept."""
        with self._session.begin() as s:
            # Locked (on PostgreSQL) so two reviewers at once leave one whole review, not a mix of both.
            row = s.get(IncidentRow, incident_id, with_for_update=True)
            if row is None:
                raise AnalysisNotFoundError(f"no incident with id {incident_id!r}")
            current = row.review
            if current is None and review.verdict is None:
                raise ReviewError("a first review needs a verdict: confirmed or false_alarm")
            if current is None:
                current = row.review = ReviewRow(incident_id=incident_id)
            if review.verdict is not None:
                current.verdict = review.verdict.value
            if review.note is not None:  # an empty note clears it; none sent keeps it
                current.note = review.note or None
            current.reviewer = review.reviewer or DEFAULT_REVIEWER
            current.reviewed_at = _now()
            s.flush()
            return _incident_record(row)

    def incidents(self, q: IncidentQuery) -> IncidentPage:
        """A page of incidents matching the filters, newest first, and how many match in all."""
        where: list[ColumnElement[bool]] = []
        if q.camera is not None:
            where.append(IncidentRow.camera == q.camera)
        if q.site is not None:
            where.append(IncidentRow.site == q.site)
        if q.reviewed is not None:
            where.append(IncidentRow.review.has() if q.reviewed else ~IncidentRow.review.has())
        if q.verdict is not None:
            where.append(IncidentRow.review.has(ReviewRow.verdict == q.verdict.value))
        if q.kind is not None:
            where.append(IncidentRow.kind == q.kind.value)
        if q.tier is not None:
            where.append(IncidentRow.tier == q.tier.value)
        if q.since is not None:
            where.append(IncidentRow.started_at >= q.since)
        if q.until is not None:
            where.append(IncidentRow.started_at < q.until)
        with self._session() as s:
            total, rows = _page(s, IncidentRow, IncidentRow.started_at, where, q.limit, q.offset)
            return IncidentPage(items=[_incident_record(r) for r in rows], total=total, limit=q.limit, offset=q.offset)

    def alarm_stats(self, camera: str, days: int = 7) -> AlarmStats:
        """A camera's incidents over the last `days` days, with how many were reviewed and confirmed."""
        since = _now() - timedelta(days=days)
        recent = (IncidentRow.camera == camera) & (IncidentRow.started_at >= since) & (IncidentRow.tier == Tier.alarm)
        with self._session() as s:
            incidents = s.scalar(select(func.count()).select_from(IncidentRow).where(recent)) or 0
            verdicts = dict(
                s.execute(
                    select(ReviewRow.verdict, func.count()).join(IncidentRow).where(recent).group_by(ReviewRow.verdict)
                ).all()
            )
        reviewed = sum(verdicts.values())
        confirmed = verdicts.get(ReviewVerdict.confirmed.value, 0)
        return AlarmStats(camera=camera, days=days, incidents=incidents, reviewed=reviewed, confirmed=confirmed)

    # --- cameras' learned normals -------------------------------------------------------------------

    def camera_scene(self, camera: str) -> dict[str, Any] | None:
        """The normal a watched camera's detector last kept (its JSON state), or None."""
        with self._session() as s:
            row = s.get(SceneRow, camera)
            return dict(row.state) if row is not None else None

    def keep_camera_scene(self, camera: str, state: dict[str, Any]) -> None:
        """Replace a watched camera's kept normal."""
        with self._session.begin() as s:
            row = s.get(SceneRow, camera)
            if row is None:
                s.add(SceneRow(camera=camera, state=state, updated_at=_now()))
            else:
                row.state, row.updated_at = state, _now()

    # --- watched cameras and their zones ------------------------------------------------------------

    def watch_camera(self, camera: str, site: str | None, zones: list[Zone] | None) -> CameraZones:
        """Register a camera a watcher starts on, with the zones its cameras file lists (None: it lists none).

        The file's zones replace the history's unless an operator has saved the camera's zones since: from
        then on the console's zones win and the file's are ignored (logged).
        """
        with self._session.begin() as s:
            row = s.get(CameraRow, camera, with_for_update=True)
            if row is None:
                row = CameraRow(name=camera)
                s.add(row)
            row.site, row.watched_at = site, _now()
            if zones is not None and row.zones_by not in (None, CAMERAS_FILE):
                log.warning("camera %s: its zones were last saved by %s in the console; the cameras file's zones "
                            "are not applied", camera, row.zones_by)
            elif zones is not None:
                _replace_zones(s, row, zones, CAMERAS_FILE)
            s.flush()
            return _camera_zones(s, row)

    def camera_zones(self, camera: str) -> CameraZones:
        """A watched camera's zones; AnalysisNotFoundError when no watcher has registered the camera."""
        with self._session() as s:
            return _camera_zones(s, _camera_row(s, camera))

    def put_zones(self, camera: str, zones: list[Zone], by: str | None = None) -> CameraZones:
        """Make `zones` a watched camera's whole set (an operator's save: the cameras file no longer applies)."""
        with self._session.begin() as s:
            row = _camera_row(s, camera, lock=True)
            _replace_zones(s, row, zones, by or DEFAULT_REVIEWER)
            s.flush()
            return _camera_zones(s, row)

    def zones_changed_at(self, cameras: list[str]) -> dict[str, datetime | None]:
        """When each camera's zones last changed: the one cheap read a running watcher polls."""
        with self._session() as s:
            return dict(s.execute(select(CameraRow.name, CameraRow.zones_at).where(CameraRow.name.in_(cameras))).all())

    # --- watched cameras' published statuses ------------------------------------------------------------

    def publish_statuses(self, worker: str, every_s: float, statuses: dict[str, dict[str, Any]]) -> None:
        """Replace the published status of each registered camera in `statuses` (camera name: its status JSON)."""
        now = _now()
        with self._session.begin() as s:
            for camera, status in statuses.items():
                row = s.get(CameraStatusRow, camera)
                if row is None:
                    row = CameraStatusRow(camera=camera)
                    s.add(row)
                row.worker, row.status, row.every_s, row.updated_at = worker, status, every_s, now

    def published_statuses(self) -> list[PublishedStatus]:
        """Every camera's published status, by camera name."""
        with self._session() as s:
            rows = s.scalars(select(CameraStatusRow).order_by(CameraStatusRow.camera)).all()
            return [PublishedStatus.model_validate(row, from_attributes=True) for row in rows]

    def published_status(self, camera: str) -> PublishedStatus | None:
        """One registered camera's published status, or None (no such camera, or its watcher never published)."""
        with self._session() as s:
            row = s.get(CameraStatusRow, camera)
            return PublishedStatus.model_validate(row, from_attributes=True) if row is not None else None

    # --- removing -----------------------------------------------------------------------------------

    def delete(self, analysis_id: str) -> None:
        """Remove an analysis, its chat and report files, and its video when no other analysis uses it."""
        with self._session.begin() as s:
            row = self._row(s, analysis_id)
            sha256 = row.video_sha256
            s.delete(row)
            s.flush()
            shared = s.scalar(select(func.count()).select_from(AnalysisRow).where(AnalysisRow.video_sha256 == sha256))
        self.files.remove_reports(sha256, analysis_id)
        if not shared:
            self.files.remove_video(sha256)
