"""Run one stored analysis: build what its request names, analyse the stored video, publish the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitewatch.settings import Settings
from sitewatch.store.records import AnalysisRecord
from sitewatch.store.store import Store

if TYPE_CHECKING:
    from sitewatch.service.assess import Progress as ProgressCallback


def run_analysis(
    store: Store, record: AnalysisRecord, settings: Settings, progress: ProgressCallback | None = None
) -> AnalysisRecord:
    """Analyse a claimed analysis's stored video and mark it done once its report folder is complete.

    Exceptions (a bad video, a cancel raised from `progress`) leave the record to the caller.
    """
    from sitewatch.report.files import write_report
    from sitewatch.service.assess import analyze
    from sitewatch.service.build import build

    request = record.options
    tools = build(request, settings)
    report = analyze(
        store.video_path(record.id), settings, detector=tools.detector, model=tools.model,
        translator=tools.translator, progress=progress, frames=request.frames,
    )  # fmt: skip
    stage = store.files.staging(record.video_sha256, record.id)
    write_report(report, stage, lang=request.lang)
    return store.complete(record.id, report, stage)
