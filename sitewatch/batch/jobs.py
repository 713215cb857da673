"""What crosses between the batch engine and its workers: a job in, a result (and maybe the report) out."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sitewatch.schema import EventKind, Report, Verdict

# An error row's reason is one line of at most this many characters.
REASON_CHARS = 300
WORKER_DIED = "the worker process died analysing this file"


@dataclass(frozen=True)
class Job:
    """One video to analyse; `folder` gets its report (else the Report comes back), `marker` records it done."""

    index: int
    path: Path
    sha256: str | None = None
    folder: Path | None = None
    marker: Path | None = None


class VideoResult(BaseModel):
    """One row of a batch: the video, what was found and where its report is, or why it failed."""

    file: str = Field(description="the video as the sources listed it")
    sha256: str | None = None
    folder: str | None = Field(None, description="its report folder, relative to the batch's --out")
    status: Literal["done", "error"]
    verdict: Verdict | None = None
    confidence: float | None = None
    events: list[EventKind] = Field(default_factory=list, description="kinds of the events found, in order")
    people_max: int | None = None
    duration_s: float | None = None
    coverage: float | None = None
    warnings: list[str] = Field(default_factory=list)
    error: str | None = Field(None, description="one-line reason when status is error")
    wall_s: float = 0.0
    worker: str = Field("", description="host:pid of the process that analysed it")
    peak_rss_mb: float | None = Field(None, description="that worker's peak resident memory so far")
    reused: bool = Field(False, description="finished by an earlier run with the same options")
    same_as: str | None = Field(None, description="the listed file with the same bytes, whose analysis this shares")

    @classmethod
    def of_report(cls, job: Job, report: Report, wall_s: float) -> VideoResult:
        """The row of a finished analysis."""
        return cls(
            file=str(job.path),
            sha256=job.sha256,
            folder=job.folder.name if job.folder is not None else None,
            status="done",
            verdict=report.verdict,
            confidence=report.confidence,
            events=list(dict.fromkeys(e.kind for e in report.events)),
            people_max=report.people_max,
            duration_s=report.video.duration_s,
            coverage=report.coverage,
            warnings=report.warnings,
            wall_s=round(wall_s, 3),
            **process_facts(),
        )

    @classmethod
    def failed(cls, job: Job, reason: str, wall_s: float = 0.0) -> VideoResult:
        """The row of a video that could not be analysed, with the first line of the reason."""
        line = (reason.strip().splitlines() or ["unknown error"])[0]
        return cls(
            file=str(job.path), sha256=job.sha256, status="error", error=line[:REASON_CHARS], wall_s=round(wall_s, 3)
        )


def process_facts() -> dict[str, object]:
    """This process as a worker: host:pid and its peak resident memory in MiB."""
    import resource

    # ru_maxrss is KiB on Linux (bytes on macOS, where the figure is only indicative).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"worker": f"{socket.gethostname()}:{os.getpid()}", "peak_rss_mb": round(peak, 1)}


@dataclass(frozen=True)
class Done:
    """A worker's answer to a job: its row, and the Report itself when the job had no folder to write to."""

    index: int
    result: VideoResult
    report: Report | None = None
