"""The history store on SQLite and on a real PostgreSQL server: migrations, jobs, queries, chats, deletes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the history needs the api extra: pip install 'sitewatch[api]'")

from sqlalchemy import inspect

from sitewatch.chat import ChatTurn
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Event, EventKind, Report, Source, Verdict, VideoInfo
from sitewatch.service.jobs import worker_alive
from sitewatch.settings import get_settings, updated
from sitewatch.store import (
    AnalysisNotFoundError,
    AnalysisQuery,
    AnalysisStateError,
    Progress,
    Status,
    Store,
)
from sitewatch.store.database import make_engine
from sitewatch.store.migrate import current, downgrade, upgrade
from sitewatch.store.store import MAX_ATTEMPTS, worker_name
from sitewatch.store.tables import Base

INFO = VideoInfo(path="clip.mp4", size_bytes=10, container="mp4", codec="h264", width=16, height=16, fps=30.0,
                 duration_s=2.0, frame_count=60)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.db'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = updated(get_settings(), data_dir=tmp_path / "data", database_url=database_url)
    opened = Store.open(settings)
    yield opened
    opened.close()


def report(verdict: Verdict = Verdict.accident, kinds: tuple[EventKind, ...] = (EventKind.fall,)) -> Report:
    events = [Event(kind=k, start_s=1.0, end_s=2.0, confidence=0.9, keyframe_s=1.5) for k in kinds]
    return Report(video=INFO, verdict=verdict, confidence=0.9, events=events, detector="test")


def video(store: Store, tmp_path: Path, content: bytes) -> tuple[str, str]:
    source = tmp_path / f"upload-{content.hex()[:8]}"
    source.write_bytes(content)
    kept = store.keep_video(source, INFO, move=True)
    return kept.sha256, kept.file


def finished(store: Store, tmp_path: Path, content: bytes, result: Report, **options: str) -> str:
    sha, name = video(store, tmp_path, content)
    record = store.add(sha, name, "clip.mp4", AnalysisRequest(**options), source=Source.cli, status=Status.running)
    stage = store.files.staging(sha, record.id)
    (stage / "report.json").write_text(result.model_dump_json())
    store.complete(record.id, result, stage)
    return record.id


def test_migrations_go_up_and_down_and_match_the_tables(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(database_url)
    try:
        upgrade(engine)
        assert current(engine) == "0009"
        tables = {"analyses", "analysis_events", "chat_turns", "incidents", "deliveries", "reviews", "cameras", "zones",
                  "camera_statuses"}
        assert tables <= set(inspect(engine).get_table_names())
        with engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert diff == [], "the migrations and the ORM tables disagree"
        downgrade(engine)
        assert current(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert current(engine) == "0009"
    finally:
        engine.dispose()


def test_a_new_history_file_turns_to_wal_once_another_connection_lets_go_of_it(tmp_path: Path) -> None:
    """SQLite refuses the switch to WAL at once, without its busy timeout, while another connection holds the
    write lock a migration takes: opening waits for it instead of failing."""
    import sqlite3
    import threading

    path = tmp_path / "history.db"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")  # as migrate.upgrade holds it on SQLite
    released = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    released.start()
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        released.join()
        engine.dispose()
        holder.close()


def test_processes_opening_a_new_history_at_once_create_it_once(database_url: str) -> None:
    """A `watch` and a `serve` started together: one migrates, the others wait for it and find the tables made."""
    # Each process is ready (imports done, engine made) before any starts: they migrate within a millisecond.
    migrate = ("import sys; from sitewatch.store.database import make_engine; "
               "from sitewatch.store.migrate import upgrade; engine = make_engine(sys.argv[1]); "
               "print('ready', flush=True); sys.stdin.readline(); upgrade(engine)")
    procs = [subprocess.Popen([sys.executable, "-c", migrate, database_url], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
    errors = [proc.communicate(timeout=120)[1].decode() for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0], [e[-800:] for e in errors]
    engine = make_engine(database_url)
    try:
        assert current(engine) == "0009"
    finally:
        engine.dispose()


def test_incident_summaries_move_into_one_mapping_and_back(database_url: str) -> None:
    from sqlalchemy import text

    engine = make_engine(database_url)
    row = {"id": "i1", "camera": "gate", "kind": "fall", "confidence": 0.9, "stream_s": 3.0, "event": "{}",
           "en": "A person fell.", "ko": "사람이 넘어졌습니다."}
    insert = ("INSERT INTO incidents (id, camera, kind, confidence, started_at, detected_at, stream_s, event, "
              "summary_en, summary_ko, updated_at) VALUES (:id, :camera, :kind, :confidence, CURRENT_TIMESTAMP, "
              "CURRENT_TIMESTAMP, :stream_s, :event, :en, :ko, CURRENT_TIMESTAMP)")
    try:
        upgrade(engine, "0003")
        with engine.begin() as connection:
            connection.execute(text(insert), row)
        upgrade(engine)
        with engine.connect() as connection:
            (summary,) = connection.execute(text("SELECT summary FROM incidents")).one()
        summary = json.loads(summary) if isinstance(summary, str) else summary
        assert summary == {"en": "A person fell.", "ko": "사람이 넘어졌습니다."}
        downgrade(engine, "0003")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT summary_en, summary_ko FROM incidents")).one() == (
                "A person fell.", "사람이 넘어졌습니다.")
    finally:
        engine.dispose()


def test_a_job_is_claimed_once_and_done_only_with_its_files(store: Store, tmp_path: Path) -> None:
    sha, name = video(store, tmp_path, b"video one")
    record = store.add(sha, name, "site/clip one.mp4", AnalysisRequest(lang="en"), source=Source.cli)
    assert (record.status, record.video_name) == (Status.queued, "clip one.mp4")
    claimed = store.claim_next(worker_name())
    assert claimed is not None and claimed.id == record.id
    assert (claimed.status, claimed.attempts) == (Status.running, 1)
    assert store.claim_next(worker_name()) is None
    assert store.set_progress(record.id, Progress(stage="detect", done=3, total=10)) is False
    assert store.get(record.id).progress == Progress(stage="detect", done=3, total=10)
    with pytest.raises(AnalysisStateError):
        store.report_folder(record.id)

    stage = store.files.staging(sha, record.id)
    result = report(kinds=(EventKind.fall, EventKind.person_down))
    (stage / "report.json").write_text(result.model_dump_json())
    done = store.complete(record.id, result, stage)
    assert (done.status, done.verdict, done.event_kinds) == (
        Status.done, Verdict.accident, [EventKind.fall, EventKind.person_down])
    assert store.report(record.id) == result
    assert not stage.exists() and store.report_folder(record.id).is_dir()
    assert store.video_path(record.id).read_bytes() == b"video one"


def test_cancel_stops_queued_at_once_and_flags_running(store: Store, tmp_path: Path) -> None:
    sha, name = video(store, tmp_path, b"video two")
    queued = store.add(sha, name, "a.mp4", AnalysisRequest(), source=Source.cli)
    assert store.request_cancel(queued.id).status is Status.cancelled
    assert store.claim_next(worker_name()) is None, "a cancelled job must never start"
    with pytest.raises(AnalysisStateError):
        store.request_cancel(queued.id)

    running = store.add(sha, name, "a.mp4", AnalysisRequest(lang="en"), source=Source.cli)
    store.claim_next(worker_name())
    assert store.request_cancel(running.id).status is Status.running
    assert store.set_progress(running.id, Progress(stage="detect", done=1, total=2)) is True
    store.mark_cancelled(running.id)
    assert store.get(running.id).status is Status.cancelled


def test_the_same_video_and_options_are_reused(store: Store, tmp_path: Path) -> None:
    first = finished(store, tmp_path, b"same bytes", report(), lang="en", site="north")
    sha, _ = video(store, tmp_path, b"same bytes")
    reused = store.find_reusable(sha, AnalysisRequest(lang="en", site="north"))
    assert reused is not None and reused.id == first
    assert store.find_reusable(sha, AnalysisRequest(lang="ko", site="north")) is None
    store.fail(first, "broken")
    assert store.find_reusable(sha, AnalysisRequest(lang="en", site="north")) is None


def test_listing_filters_and_pages(store: Store, tmp_path: Path) -> None:
    fall = finished(store, tmp_path, b"v1", report(Verdict.accident, (EventKind.fall,)), site="north", camera="c1")
    struck = finished(store, tmp_path, b"v2", report(Verdict.accident, (EventKind.struck_by,)), site="south")
    calm = finished(store, tmp_path, b"v3", report(Verdict.no_accident, ()), site="north", camera="c2")

    def ids(**filters: object) -> list[str]:
        return [r.id for r in store.query(AnalysisQuery(**filters)).items]

    assert ids() == [calm, struck, fall], "newest first"
    assert set(ids(verdict=Verdict.accident)) == {fall, struck}
    assert ids(event=EventKind.struck_by) == [struck]
    assert set(ids(site="north")) == {fall, calm}
    assert ids(camera="c2") == [calm]
    assert ids(status=Status.done, verdict=Verdict.no_accident) == [calm]
    now = datetime.now(timezone.utc)
    assert len(ids(since=now - timedelta(minutes=5))) == 3
    assert ids(until=now - timedelta(minutes=5)) == []
    page = store.query(AnalysisQuery(limit=2, offset=1))
    assert (page.total, [r.id for r in page.items]) == (3, [struck, fall])


def test_recovery_requeues_what_a_dead_server_left_running(store: Store, tmp_path: Path) -> None:
    sha, name = video(store, tmp_path, b"crashy")
    host = socket.gethostname()
    dead, alive, worn, stopped = (store.add(sha, name, "a.mp4", AnalysisRequest(frames=n), source=Source.cli)
                                  for n in (1, 2, 3, 4))
    gone = f"{host}:{2**22 + 1}"  # above Linux's largest pid: no such process
    # Claims go oldest first: dead, alive, worn, stopped.
    for worker in (gone, f"{host}:{os.getppid()}", gone, gone):
        assert store.claim_next(worker) is not None
    for _ in range(MAX_ATTEMPTS - 1):
        store.requeue(worn.id)
        store.claim_next(gone)
    store.request_cancel(stopped.id)

    assert store.recover(worker_alive) == [dead.id]
    assert store.get(dead.id).status is Status.queued
    assert store.get(alive.id).status is Status.running, "a live worker's job is not taken from it"
    assert store.get(worn.id).status is Status.failed
    assert store.get(stopped.id).status is Status.cancelled


def test_chat_turns_are_kept_in_both_languages(store: Store, tmp_path: Path) -> None:
    analysis = finished(store, tmp_path, b"chat", report())
    for question in ("무슨 일이 있었나요?", "When?"):
        store.add_turn(analysis, ChatTurn(question=question, question_en="What happened?", answer="답", answer_en="A",
                                          lang="ko", source="report"))
    turns = store.turns(analysis)
    assert [(t.position, t.question, t.answer, t.answer_en) for t in turns] == [
        (0, "무슨 일이 있었나요?", "답", "A"), (1, "When?", "답", "A")]


def test_delete_removes_the_record_its_files_and_an_unshared_video(store: Store, tmp_path: Path) -> None:
    first = finished(store, tmp_path, b"shared video", report(), lang="en")
    second = finished(store, tmp_path, b"shared video", report(), lang="ko")
    store.add_turn(first, ChatTurn(question="q", question_en="q", answer="a", answer_en="a", lang="en"))
    folder, video_file = store.report_folder(first), store.video_path(first)
    store.delete(first)
    with pytest.raises(AnalysisNotFoundError):
        store.get(first)
    with pytest.raises(AnalysisNotFoundError):
        store.turns(first)
    assert not folder.exists() and video_file.exists(), "the other analysis still uses the video"
    store.delete(second)
    assert not video_file.exists()


def test_a_report_kept_with_one_summary_field_per_language_still_reads() -> None:
    """report.json files kept before the summary became a mapping (summary_en, summary_ko) open as before."""
    old = report().model_dump(mode="json", exclude={"summary"}) | {"summary_en": "A fall.", "summary_ko": "넘어짐."}
    assert Report.model_validate(old).summary == {"en": "A fall.", "ko": "넘어짐."}
