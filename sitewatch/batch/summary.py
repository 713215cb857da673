"""A batch's summary: counts and one row per video, as summary.json, summary.csv and index.html in --out."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from sitewatch.batch.jobs import VideoResult
from sitewatch.batch.journal import write_atomic
from sitewatch.report.files import REPORT_HTML
from sitewatch.report.templates import template
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Verdict
from sitewatch.text import language
from sitewatch.text.style import VERDICT_COLOURS

SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
INDEX_HTML = "index.html"
# Most urgent first; videos that could not be analysed come last.
_VERDICT_ORDER = {Verdict.accident: 0, Verdict.uncertain: 1, Verdict.no_accident: 2, None: 3}
CSV_COLUMNS = ("file", "status", "verdict", "confidence", "events", "duration_s", "people_max", "coverage",
               "report", "error", "warnings", "sha256", "wall_s", "reused")


class BatchSummary(BaseModel):
    """What a batch found: counts, speed, and every video's row (most urgent first)."""

    options: AnalysisRequest
    runner: str
    videos: int
    done: int
    reused: int = Field(description="of the done, how many an earlier run had finished")
    errors: int
    verdicts: dict[Verdict, int]
    video_s: float = Field(description="seconds of video in the done rows")
    run_video_s: float = Field(description="of those, the seconds this run analysed (not reused)")
    wall_s: float = Field(description="wall-clock seconds this run took")
    speed_x: float | None = Field(description="video seconds analysed by this run per wall-clock second")
    results: list[VideoResult]


def urgency(result: VideoResult) -> tuple[int, float, str]:
    """Sort key: verdict (accident first, errors last), then confidence (highest first), then file."""
    return _VERDICT_ORDER[result.verdict], -(result.confidence or 0.0), result.file


def summarise(
    results: Sequence[VideoResult], options: AnalysisRequest, runner: str, wall_s: float
) -> BatchSummary:
    """Count and sort the rows of a batch."""
    done = [r for r in results if r.status == "done"]
    fresh_s = sum(r.duration_s or 0.0 for r in done if not r.reused and r.same_as is None)
    return BatchSummary(
        options=options,
        runner=runner,
        videos=len(results),
        done=len(done),
        reused=sum(r.reused for r in done),
        errors=len(results) - len(done),
        verdicts={v: sum(r.verdict is v for r in done) for v in _VERDICT_ORDER if v is not None},
        video_s=round(sum(r.duration_s or 0.0 for r in done), 3),
        run_video_s=round(fresh_s, 3),
        wall_s=round(wall_s, 3),
        speed_x=round(fresh_s / wall_s, 2) if wall_s and fresh_s else None,
        results=sorted(results, key=urgency),
    )


def _report_link(result: VideoResult) -> str:
    return f"{result.folder}/{REPORT_HTML}" if result.folder and result.status == "done" else ""


def summary_csv(summary: BatchSummary) -> str:
    """One line per video, most urgent first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in summary.results:
        writer.writerow([
            r.file, r.status, r.verdict.value if r.verdict else "", "" if r.confidence is None else r.confidence,
            " ".join(e.value for e in r.events), "" if r.duration_s is None else r.duration_s,
            "" if r.people_max is None else r.people_max, "" if r.coverage is None else r.coverage,
            _report_link(r), r.error or "", " | ".join(r.warnings), r.sha256 or "", r.wall_s, int(r.reused),
        ])
    return buffer.getvalue()


def index_html(summary: BatchSummary, lang: str) -> str:
    """The index page: counts, then one row per video linking to its report, in `lang`."""
    words = language(lang)
    rows = [
        {
            "name": Path(r.file).name,
            "file": r.file,
            "link": _report_link(r),
            "verdict": words.verdicts[r.verdict] if r.verdict else words.t("batch_failed"),
            "colour": VERDICT_COLOURS.get(r.verdict, "#555") if r.verdict else "#555",
            "confidence": words.percent(r.confidence) if r.confidence is not None else "",
            "found": ", ".join(words.events[e] for e in r.events),
            "duration": words.seconds(r.duration_s) if r.duration_s is not None else "",
            "reason": r.error or "",
        }
        for r in summary.results
    ]
    return template("sitewatch.batch", "index.html").render(
        lang=words.code, words=words, summary=summary, counts=counts(summary, lang), rows=rows
    )


def counts(summary: BatchSummary, lang: str) -> str:
    """How many videos were analysed, reused and failed, and this run's speed, as one line in `lang`."""
    words = language(lang)
    line = words.t("batch_counts", done=summary.done, reused=summary.reused, errors=summary.errors)
    if summary.speed_x is None:
        return line
    speed = words.t(
        "batch_speed", video=words.seconds(summary.run_video_s), wall=words.seconds(summary.wall_s),
        speed=summary.speed_x,
    )
    return f"{line} · {speed}"


def write_summaries(out: Path, summary: BatchSummary, lang: str) -> dict[str, Path]:
    """Write summary.json, summary.csv and index.html into `out`, each replaced whole; return their paths."""
    paths = {"json": out / SUMMARY_JSON, "csv": out / SUMMARY_CSV, "html": out / INDEX_HTML}
    write_atomic(paths["json"], summary.model_dump_json(indent=2))
    write_atomic(paths["csv"], summary_csv(summary))
    write_atomic(paths["html"], index_html(summary, lang))
    return paths
