"""Run a batch: hash each video, skip what an earlier run finished, analyse the rest, keep the summaries current."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sitewatch.batch.history import History
from sitewatch.batch.jobs import Job, VideoResult
from sitewatch.batch.journal import Journal
from sitewatch.batch.keys import folder_name, result_key
from sitewatch.batch.runners import Runner
from sitewatch.batch.summary import BatchSummary, summarise, write_summaries
from sitewatch.content import sha256_file
from sitewatch.errors import OutputError
from sitewatch.request import AnalysisRequest

log = logging.getLogger(__name__)

# Summaries are rewritten this often during a run, so index.html shows progress on a long batch.
SUMMARY_EVERY_S = 30.0

OnResult = Callable[[VideoResult], None]


def prepare_out(out: Path) -> Path:
    """Make sure --out is a folder this process can write, before any work; one clear error line if not."""
    out = out.expanduser()
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        # Permission bits say nothing to root or about read-only mounts: try for real.
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise OutputError(f"{out}: cannot write there ({exc.strerror or exc}); choose another --out folder") from exc
    return out


@dataclass
class _Plan:
    """The rows known so far and which videos repeat another's bytes."""

    rows: list[VideoResult | None]
    first_of: dict[str, int]
    copies: dict[int, str]


def _jobs(paths: Sequence[Path], out: Path, options: AnalysisRequest, journal: Journal, plan: _Plan,
          settle: Callable[[int, VideoResult], None]) -> Iterator[Job]:
    """Jobs for the videos not finished before; rows for the finished, unreadable and repeated ones."""
    for index, path in enumerate(paths):
        job = Job(index, path)
        try:
            sha256 = sha256_file(path)
        except OSError as exc:
            settle(index, VideoResult.failed(job, f"{path}: cannot be read ({exc.strerror or exc})"))
            continue
        key = result_key(sha256, options)
        if key in plan.first_of:
            # The same bytes under another name: analysed once, its row copied at the end.
            plan.copies[index] = key
            continue
        plan.first_of[key] = index
        earlier = journal.finished(key)
        if earlier is not None:
            settle(index, earlier.model_copy(update={"file": str(path), "reused": True}))
            continue
        yield Job(index, path, sha256, out / folder_name(path, sha256), journal.marker(key))


def run_batch(
    paths: Sequence[Path],
    out: Path,
    options: AnalysisRequest,
    runner: Runner,
    *,
    history: History | None = None,
    on_result: OnResult | None = None,
) -> BatchSummary:
    """Analyse every video into `out` (one report folder each) and write the summaries; return the summary."""
    started = time.perf_counter()
    journal = Journal(out)
    plan = _Plan(rows=[None] * len(paths), first_of={}, copies={})
    last_written = time.monotonic()

    def current() -> BatchSummary:
        return summarise([r for r in plan.rows if r is not None], options, runner.name, time.perf_counter() - started)

    def settle(index: int, result: VideoResult) -> None:
        nonlocal last_written
        plan.rows[index] = result
        if history is not None:
            try:
                history.save(out, result)
            except Exception as exc:
                # The report folder is complete either way; the history can take the video on a re-run.
                log.warning("%s: not saved to the history: %s", result.file, exc)
        if on_result is not None:
            on_result(result)
        if time.monotonic() - last_written > SUMMARY_EVERY_S:
            write_summaries(out, current(), options.lang)
            last_written = time.monotonic()

    for done in runner.run(_jobs(paths, out, options, journal, plan, settle)):
        settle(done.index, done.result)
    for index, key in plan.copies.items():
        first = plan.rows[plan.first_of[key]]
        assert first is not None
        settle(index, first.model_copy(update={"file": str(paths[index]), "same_as": first.file}))
    summary = current()
    write_summaries(out, summary, options.lang)
    return summary
