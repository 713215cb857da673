"""Write a report folder: report.json first (never lost), then keyframes and report.html."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from sitewatch.errors import SitewatchError
from sitewatch.report.html import render_html
from sitewatch.report.keyframes import write_keyframes
from sitewatch.schema import Report

log = logging.getLogger(__name__)


class ReportFolderError(SitewatchError):
    """The output folder holds another video's report, which must not be overwritten."""


def _atomic_write(path: Path, text: str) -> None:
    # A crash mid-write leaves the old file (or none), never half a report.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_folder(video: str | Path, folder: Path) -> None:
    """Refuse a folder that already holds the report of a different video (before any work is done)."""
    existing = folder / "report.json"
    if not existing.is_file():
        return
    try:
        previous = Report.model_validate_json(existing.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReportFolderError(
            f"{folder} holds a report.json sitewatch cannot read; choose another --out folder"
        ) from exc
    if Path(previous.video.path).resolve() != Path(video).resolve():
        raise ReportFolderError(
            f"{folder} already holds the report of {Path(previous.video.path).name}; choose another --out folder"
        )


def write_report(report: Report, folder: str | Path, lang: str = "ko") -> dict[str, Path]:
    """Write report.json, keyframes/ and report.html into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    check_folder(report.video.path, folder)
    json_path = folder / "report.json"
    _atomic_write(json_path, report.model_dump_json(indent=2))
    keyframe_dir = folder / "keyframes"
    for old in keyframe_dir.glob("*.jpg"):
        old.unlink()
    keyframes, warnings = write_keyframes(report, keyframe_dir)
    if warnings:
        log.warning("keyframes: %s", "; ".join(warnings))
    html_path = folder / "report.html"
    _atomic_write(html_path, render_html(report, keyframes, folder, lang=lang))
    return {"json": json_path, "html": html_path, "keyframes": keyframe_dir}
