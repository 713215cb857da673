"""Keeping a finished analysis: the service writes the report files, the store only keeps what it is given."""

from __future__ import annotations

from pathlib import Path

from sitewatch.report.files import write_report
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Report, Source
from sitewatch.store import Store
from sitewatch.store.records import AnalysisRecord, Status


def save_analysis(
    store: Store, video: Path, report: Report, request: AnalysisRequest, source: Source
) -> AnalysisRecord:
    """Keep a finished analysis (as `analyze --save` makes): the video, the report files and the record."""
    kept = store.keep_video(video, report.video)
    record = store.add(kept.sha256, kept.file, video.name, request, source, status=Status.running)
    stage = store.files.staging(kept.sha256, record.id)
    try:
        write_report(report, stage, lang=request.lang)
    except BaseException:
        store.delete(record.id)
        raise
    return store.complete(record.id, report, stage)
