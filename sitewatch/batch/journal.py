"""The batch's memory across runs: one done-marker per finished video, and files replaced atomically."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from sitewatch.batch.jobs import VideoResult
from sitewatch.process import pid_alive
from sitewatch.report.files import REPORT_JSON

log = logging.getLogger(__name__)

JOURNAL_DIR = ".sitewatch-batch"
# Temporary files carry their writer's pid, so a later run can tell a killed writer's leftovers.
_TEMP_RE = re.compile(r"^\..+\.(\d+)\.tmp$")


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` whole: readers see the old file or the new one, never a part."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with temp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def remove_stale_temps(folder: Path) -> None:
    """Delete temporary files that killed runs left in `folder` (never a live writer's, never anything else)."""
    for entry in folder.iterdir():
        match = _TEMP_RE.match(entry.name)
        if match and entry.is_file() and not pid_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            log.info("removed a killed run's leftovers %s", entry)


class Journal:
    """Done-markers under `out/.sitewatch-batch/`, one per (video bytes, options): `<key>.json` holds its row."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.folder = out / JOURNAL_DIR
        self.folder.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(self.folder)
        remove_stale_temps(out)

    def marker(self, key: str) -> Path:
        """Where the marker of the result `key` goes."""
        return self.folder / f"{key}.json"

    def finished(self, key: str) -> VideoResult | None:
        """The row of an earlier run's finished result, when its marker and its report are both there."""
        marker = self.marker(key)
        try:
            result = VideoResult.model_validate_json(marker.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable marker %s: %s", marker, exc)
            return None
        if result.status != "done" or not result.folder or not (self.out / result.folder / REPORT_JSON).is_file():
            return None
        return result


def mark_done(marker: Path, result: VideoResult) -> None:
    """Record a finished result (called by the worker right after its report folder is complete)."""
    write_atomic(marker, result.model_dump_json(indent=2))
