"""Run one stored analysis: load what its options name, analyse the stored video, publish the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sitewatch.settings import Settings, updated
from sitewatch.store.records import AnalysisOptions, AnalysisRecord
from sitewatch.store.store import Store

if TYPE_CHECKING:
    from sitewatch.assess import Progress as ProgressCallback


def analysis_settings(settings: Settings, options: AnalysisOptions) -> Settings:
    """The operator's settings with one analysis's options applied (validated)."""
    return updated(settings, lang=options.lang, num_frames=options.frames)


def run_analysis(
    store: Store, record: AnalysisRecord, settings: Settings, progress: ProgressCallback | None = None
) -> AnalysisRecord:
    """Analyse a claimed analysis's stored video and mark it done once its report folder is complete.

    Exceptions (a bad video, a cancel raised from `progress`) leave the record to the caller.
    """
    from sitewatch.assess import analyze
    from sitewatch.report.files import write_report
    from sitewatch.session import get_model, get_translator

    job_settings = analysis_settings(settings, record.options)
    model = get_model(record.options.model, job_settings)
    translator = get_translator(None, job_settings, model) if model is not None else None
    report = analyze(
        store.video_path(record.id), job_settings, model=model, translator=translator, progress=progress
    )
    stage = store.files.staging(record.video_sha256, record.id)
    write_report(report, stage, lang=record.options.lang)
    return store.complete(record.id, report, stage)
