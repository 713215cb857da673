"""One worker's engine: the detector, model and translator loaded once, then one video per call."""

from __future__ import annotations

import logging
import time

from sitewatch.batch.jobs import Done, Job, VideoResult
from sitewatch.batch.journal import mark_done
from sitewatch.errors import SitewatchError
from sitewatch.request import AnalysisRequest
from sitewatch.settings import Settings

log = logging.getLogger(__name__)


class WorkerStartError(SitewatchError):
    """A worker could not load its detector or models: the whole batch stops, not one video."""


class Worker:
    """Analyses videos as `sitewatch analyze` does, with its models loaded once for the process's life."""

    def __init__(self, settings: Settings, request: AnalysisRequest, threads: int | None = None) -> None:
        from sitewatch.service.build import build

        self.settings = settings
        self.request = request
        self.tools = build(request, settings, threads)

    def run(self, job: Job) -> Done:
        """Analyse one video; write its report folder and done-marker when the job has a folder.

        Any failure becomes an error row: one bad file must not take the worker, or the batch, down.
        """
        from sitewatch.report.files import write_report
        from sitewatch.service.assess import analyze

        started = time.perf_counter()
        try:
            tools = self.tools
            report = analyze(
                job.path, self.settings, detector=tools.detector, model=tools.model, translator=tools.translator,
                frames=self.request.frames,
            )  # fmt: skip
            if job.folder is not None:
                write_report(report, job.folder, lang=self.request.lang)
        except SitewatchError as exc:
            # Expected of a bad file: its row says why, so the log need not.
            log.info("%s: %s", job.path, exc)
            return Done(job.index, VideoResult.failed(job, str(exc), time.perf_counter() - started))
        except Exception as exc:
            # A decoder or model bug on one file: logged in full, reported in one line, and the batch goes on.
            log.exception("analysing %s failed", job.path)
            reason = f"{type(exc).__name__}: {exc}"
            return Done(job.index, VideoResult.failed(job, reason, time.perf_counter() - started))
        result = VideoResult.of_report(job, report, time.perf_counter() - started)
        if job.marker is not None:
            mark_done(job.marker, result)
        return Done(job.index, result, report if job.folder is None else None)


def start_worker(settings: Settings, request: AnalysisRequest, threads: int | None = None) -> Worker:
    """A Worker, or WorkerStartError with the one-line reason it could not load what it needs."""
    try:
        return Worker(settings, request, threads)
    except SitewatchError as exc:
        raise WorkerStartError(str(exc)) from exc
    except Exception as exc:
        line = (str(exc).strip().splitlines() or [""])[0]
        raise WorkerStartError(f"a worker could not start ({type(exc).__name__}: {line})") from exc
