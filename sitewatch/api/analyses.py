"""/v1/analyses: upload, status, progress events, report files, listing, cancel and delete."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from sitewatch import errors
from sitewatch.api.models import Submitted
from sitewatch.api.playable import PLAYABLE_DIR, forget_clip
from sitewatch.api.problems import Problem
from sitewatch.api.services import Services, services
from sitewatch.api.sse import SSE_HEADERS, SSE_MEDIA_TYPE, sse
from sitewatch.api.upload import FILE_FIELD, Upload, receive_upload
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Report, Source, VideoInfo
from sitewatch.service.build import pinned
from sitewatch.settings import Settings
from sitewatch.store import (
    AnalysisNotFoundError,
    AnalysisPage,
    AnalysisQuery,
    AnalysisRecord,
    AnalysisStateError,
    Status,
)
from sitewatch.store.database import data_dir
from sitewatch.store.records import ACTIVE
from sitewatch.text import LANGS

router = APIRouter(prefix="/analyses", tags=["analyses"])

OPTION_FIELDS = ("lang", "model", "frames", "site", "camera", "force")
# The request's fields by their form names, for error messages.
FORM_LABELS = {name: name for name in OPTION_FIELDS}
# Files that are no video at all (as opposed to a video over a limit, which is 422).
NOT_VIDEO = (errors.EmptyFileError, errors.NotAVideoError, errors.NoVideoStreamError, errors.UnsupportedCodecError)
TRUE, FALSE = frozenset({"1", "true", "yes", "on"}), frozenset({"", "0", "false", "no", "off"})
# Progress events: how often the live state is looked at, the database at most, and a keep-alive is sent.
TICK_S, DB_EVERY_S, KEEPALIVE_S = 0.05, 0.5, 15.0
TERMINAL = {Status.done: "result", Status.failed: "failed", Status.cancelled: "cancelled"}

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {"type": "string", "format": "binary", "description": "the video or photo"},
                        "lang": {"type": "string", "enum": list(LANGS)},
                        "model": {"type": "string", "description": "one of the operator's configured models"},
                        "frames": {"type": "integer", "minimum": 1, "maximum": 256},
                        "site": {"type": "string"},
                        "camera": {"type": "string"},
                        "force": {"type": "boolean", "description": "analyse again even if done before"},
                    },
                }
            }
        },
    }
}


def _options(fields: dict[str, str], settings: Settings) -> tuple[AnalysisRequest, bool]:
    unknown = sorted(set(fields) - set(OPTION_FIELDS))
    if unknown:
        raise Problem(422, f"unknown form field(s): {', '.join(unknown)}; allowed: {', '.join(OPTION_FIELDS)}")
    model = fields.get("model") or None
    if model == "none":
        model = None
    offered = settings.offered_models()
    if model is not None and model not in offered:
        choices = ", ".join(offered) if offered else "none is configured"
        raise Problem(422, f"model {model!r} is not offered by this server (offered: {choices})")
    force = fields.get("force", "").lower()
    if force not in TRUE | FALSE:
        raise Problem(422, f"force: expected true or false (got {fields['force']!r})")
    try:
        request = AnalysisRequest.of(
            settings, labels=FORM_LABELS, lang=fields.get("lang") or None, model=model or "none",
            frames=fields.get("frames") or None, site=fields.get("site") or None,
            camera=fields.get("camera") or None,
        )  # fmt: skip
    except errors.SettingsError as exc:
        raise Problem(422, str(exc)) from None
    return pinned(request, settings), force in TRUE


def _probe(upload: Upload, settings: Settings) -> VideoInfo:
    from sitewatch.video.probe import probe

    try:
        return probe(upload.path, max_pixels=settings.max_pixels, max_duration_s=settings.max_duration_s)
    except errors.VideoError as exc:
        # The client knows its file by the name it sent, not by the server's temporary path.
        detail = str(exc).replace(str(upload.path), upload.filename)
        raise Problem(415 if isinstance(exc, NOT_VIDEO) else 422, detail) from None


def _accept(svc: Services, upload: Upload) -> Submitted:
    options, force = _options(upload.fields, svc.settings)
    info = _probe(upload, svc.settings)
    kept = svc.store.keep_video(upload.path, info, upload.sha256, move=True)
    if not force:
        earlier = svc.store.find_reusable(kept.sha256, options)
        if earlier is not None:
            return Submitted(id=earlier.id, status=earlier.status, reused=True)
    record = svc.store.add(kept.sha256, kept.file, upload.filename, options, source=Source.api)
    svc.queue.submit()
    return Submitted(id=record.id, status=record.status)


@router.post("", status_code=202, response_model=Submitted, openapi_extra=UPLOAD_DOC)
async def submit(request: Request) -> Submitted:
    """Upload a video (multipart field `file`) with options; the analysis is queued and its id returned."""
    svc = services(request)
    upload = await receive_upload(request, svc.uploads, svc.settings.upload_limit_mb << 20)
    try:
        return await run_in_threadpool(_accept, svc, upload)
    finally:
        upload.path.unlink(missing_ok=True)


def current(svc: Services, analysis_id: str) -> AnalysisRecord:
    """The stored record with the live progress of a job running in this process."""
    record = svc.store.get(analysis_id)
    live = svc.queue.progress(analysis_id)
    if live is not None and record.status is Status.running:
        record = record.model_copy(update={"progress": live})
    return record


@router.get("", response_model=AnalysisPage)
def list_analyses(request: Request, query: Annotated[AnalysisQuery, Query()]) -> AnalysisPage:
    """Analyses, newest first, filtered by verdict, event kind, status, creation time, site and camera."""
    return services(request).store.query(query)


@router.get("/{analysis_id}", response_model=AnalysisRecord)
def get_analysis(request: Request, analysis_id: str) -> AnalysisRecord:
    """An analysis's status and progress (and verdict once done)."""
    return current(services(request), analysis_id)


def presented(report: Report, record: AnalysisRecord) -> Report:
    """The report as a client sees it: the video named as uploaded, not by the server's storage path."""
    return report.model_copy(update={"video": report.video.model_copy(update={"path": record.video_name})})


async def _progress_events(svc: Services, analysis_id: str, request: Request) -> AsyncIterator[str]:
    sent_status: Status | None = None
    sent_progress = None
    record: AnalysisRecord | None = None
    was_live = False
    read_at, beat_at = 0.0, time.monotonic()
    while not await request.is_disconnected():
        now = time.monotonic()
        live = svc.queue.progress(analysis_id)
        if live is not None:
            status, progress = Status.running, live
        else:
            # Read at once when a job here just ended; otherwise (queued, or running elsewhere) now and then.
            if record is None or was_live or now - read_at >= DB_EVERY_S:
                try:
                    record = await run_in_threadpool(svc.store.get, analysis_id)
                except AnalysisNotFoundError as exc:
                    yield sse("error", {"detail": str(exc)})
                    return
                read_at = now
            status, progress = record.status, record.progress
        was_live = live is not None
        if status is not sent_status:
            yield sse("status", {"id": analysis_id, "status": status.value})
            sent_status = status
        if status in ACTIVE and progress != sent_progress and progress.stage is not None:
            yield sse("progress", progress)
            sent_progress = progress
        if status in TERMINAL:
            assert record is not None
            if status is Status.done:
                report = await run_in_threadpool(svc.store.report, analysis_id)
                yield sse("result", presented(report, record))
            else:
                yield sse(TERMINAL[status], {"id": analysis_id, "status": status.value, "error": record.error})
            return
        if now - beat_at >= KEEPALIVE_S:
            yield ": keep-alive\n\n"
            beat_at = now
        await asyncio.sleep(TICK_S)


@router.get("/{analysis_id}/events")
async def events(request: Request, analysis_id: str) -> StreamingResponse:
    """Server-sent events: `status`, `progress` as it runs, then `result` (the report), `failed` or `cancelled`."""
    svc = services(request)
    await run_in_threadpool(svc.store.get, analysis_id)
    return StreamingResponse(
        _progress_events(svc, analysis_id, request), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS
    )


@router.get("/{analysis_id}/report", response_model=Report)
def get_report(request: Request, analysis_id: str) -> Report:
    """The report of a done analysis: the same `Report` JSON that `sitewatch analyze --json` prints."""
    store = services(request).store
    return presented(store.report(analysis_id), store.get(analysis_id))


@router.get("/{analysis_id}/report.html", response_class=FileResponse)
def get_report_html(request: Request, analysis_id: str) -> FileResponse:
    """The HTML report (its keyframe images load from ./keyframes/)."""
    folder = services(request).store.report_folder(analysis_id)
    return FileResponse(folder / "report.html", media_type="text/html; charset=utf-8")


@router.get("/{analysis_id}/keyframes/{key}", response_class=FileResponse)
def get_keyframe(request: Request, analysis_id: str, key: str) -> FileResponse:
    """A keyframe JPEG by number (1 = the first, as in the report) or by its file name."""
    store = services(request).store
    folder = store.report_folder(analysis_id)
    frames = [name for name in store.report(analysis_id).outputs if name.startswith("keyframes/")]
    if key.isdigit():
        if not 1 <= int(key) <= len(frames):
            raise Problem(404, f"analysis {analysis_id} has {len(frames)} keyframe(s); there is no number {key}")
        name = frames[int(key) - 1]
    else:
        # Only names the report lists are served, so no path can reach outside the report folder.
        name = f"keyframes/{key}"
        if name not in frames:
            raise Problem(404, f"analysis {analysis_id} has no keyframe {key!r}")
    return FileResponse(folder / name, media_type="image/jpeg")


@router.post("/{analysis_id}/cancel", status_code=202, response_model=AnalysisRecord)
def cancel(request: Request, analysis_id: str) -> AnalysisRecord:
    """Cancel: a queued analysis never starts, a running one stops at its next progress step (409 if finished)."""
    return services(request).queue.cancel(analysis_id)


@router.delete("/{analysis_id}", status_code=204, response_class=Response)
def delete(request: Request, analysis_id: str) -> Response:
    """Remove an analysis, its chat and its files (its video too when no other analysis uses it)."""
    svc = services(request)
    if svc.store.get(analysis_id).status in ACTIVE:
        # It may have finished meanwhile: then there is nothing to stop.
        with contextlib.suppress(AnalysisStateError):
            svc.queue.cancel(analysis_id)
    svc.chats.close(analysis_id)
    svc.store.delete(analysis_id)
    forget_clip(data_dir(svc.settings) / PLAYABLE_DIR, analysis_id)
    return Response(status_code=204)
