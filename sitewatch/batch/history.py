"""Put a batch's finished analyses into the history that `sitewatch serve` and `sitewatch history` browse."""

from __future__ import annotations

import logging
from pathlib import Path

from sitewatch.batch.jobs import VideoResult
from sitewatch.report.files import REPORT_JSON
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Report, Source
from sitewatch.service.save import save_analysis
from sitewatch.settings import Settings

log = logging.getLogger(__name__)



class History:
    """The store, opened once for a whole batch; each video is saved once per request however often it is run."""

    def __init__(self, settings: Settings, request: AnalysisRequest) -> None:
        from sitewatch.optional import require

        require("sqlalchemy", "api")
        from sitewatch.store import Store

        self.store = Store.open(settings)
        self.request = request

    def save(self, out: Path, result: VideoResult) -> str | None:
        """Save a finished video with the report its batch wrote; return the analysis id (None: already kept)."""
        if result.status != "done" or result.folder is None or result.sha256 is None:
            return None
        if self.store.find_reusable(result.sha256, self.request) is not None:
            return None
        report = Report.model_validate_json((out / result.folder / REPORT_JSON).read_text(encoding="utf-8"))
        record = save_analysis(self.store, Path(result.file), report, self.request, source=Source.batch)
        log.info("saved %s to the history as %s", result.file, record.id)
        return record.id

    def close(self) -> None:
        """Release the database."""
        self.store.close()
