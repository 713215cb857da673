"""The page's link to the shared history: it saves what it analyses and reopens past analyses and chats."""

from __future__ import annotations

import importlib.util
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.errors import SitewatchError
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Report, Source
from sitewatch.service.save import save_analysis
from sitewatch.settings import Settings
from sitewatch.text import language

if TYPE_CHECKING:
    from sitewatch.chat import ChatTurn
    from sitewatch.store import Store

log = logging.getLogger(__name__)

# Rows the history table shows (newest first).
HISTORY_ROWS = 50


def _local(moment: datetime) -> datetime:
    """A stored time (UTC) in this machine's time zone, as the operator reads clocks."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone()


@dataclass(frozen=True)
class PastAnalysis:
    """A stored analysis reopened: its report, its stored video and its conversation so far."""

    analysis_id: str
    name: str  # the file name it was uploaded under
    report: Report  # its video path points at the stored copy
    video: Path
    history: list[ChatTurn]


class PageHistory:
    """The history store as the page uses it; every call is a no-op when the `api` extra is absent."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # The operator may keep the page out of the history (SITEWATCH_PAGE_HISTORY=false): then nothing is kept.
        self.available = settings.page_history and importlib.util.find_spec("sqlalchemy") is not None
        self._store: Store | None = None
        self._lock = threading.Lock()

    def _opened(self) -> Store | None:
        if not self.available:
            return None
        with self._lock:
            if self._store is None:
                from sitewatch.store import Store

                self._store = Store.open(self.settings)
            return self._store

    def save(self, video: Path, report: Report, request: AnalysisRequest) -> str | None:
        """Keep a finished analysis from the page; its id, or None when there is no history to keep it in."""
        store = self._opened()
        if store is None:
            return None
        try:
            return save_analysis(store, video, report, request, source=Source.page).id
        except (OSError, SitewatchError) as exc:
            # The analysis is on the page either way: a history that cannot take it is worth a log line.
            log.warning("could not keep the analysis in the history: %s", exc)
            return None

    def add_turn(self, analysis_id: str | None, turn: ChatTurn) -> None:
        """Store one completed chat turn with its analysis."""
        store = self._opened()
        if store is None or analysis_id is None:
            return
        try:
            store.add_turn(analysis_id, turn)
        except SitewatchError as exc:
            log.warning("could not keep the chat turn in the history: %s", exc)

    def choices(self, lang: str) -> list[tuple[str, str]]:
        """The newest finished analyses as (label, id) pairs: time, file, verdict and confidence in `lang`."""
        store = self._opened()
        if store is None:
            return []
        from sitewatch.store import AnalysisQuery, Status

        words = language(lang)
        page = store.query(AnalysisQuery(status=Status.done, limit=HISTORY_ROWS))
        return [
            (
                " · ".join(
                    part
                    for part in (
                        _local(record.created_at).strftime("%Y-%m-%d %H:%M"),
                        record.video_name,
                        words.verdicts[record.verdict] if record.verdict else "",
                        words.percent(record.confidence) if record.confidence is not None else "",
                    )
                    if part
                ),
                record.id,
            )
            for record in page.items
        ]

    def open(self, analysis_id: str) -> PastAnalysis:
        """A stored analysis with its video and conversation (SitewatchError when it is not there)."""
        store = self._opened()
        if store is None:
            raise SitewatchError("the history needs the api extra (pip install 'sitewatch[api]')")
        record = store.get(analysis_id)
        video = store.video_path(analysis_id)
        report = store.report(analysis_id)
        return PastAnalysis(
            analysis_id=analysis_id,
            name=record.video_name,
            report=report.model_copy(update={"video": report.video.model_copy(update={"path": str(video)})}),
            video=video,
            history=store.chat_history(analysis_id),
        )
