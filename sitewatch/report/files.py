"""Write a report folder all or nothing, replacing only files sitewatch wrote there itself."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from pathlib import Path

from sitewatch.errors import OutputError
from sitewatch.process import pid_alive
from sitewatch.report.html import render_html
from sitewatch.report.keyframes import write_keyframes
from sitewatch.schema import Report
from sitewatch.text import DEFAULT_LANG

log = logging.getLogger(__name__)

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"
KEYFRAME_DIR = "keyframes"
# Staging folders carry the writer's pid, so a later run can tell a killed writer's leftovers from a live one's.
STAGE_PREFIX = ".sitewatch-tmp-"
_STAGE_RE = re.compile(re.escape(STAGE_PREFIX) + r"(\d+)-")
# Hidden temp files of earlier versions, which wrote report.json and report.html through mkstemp.
_LEGACY_TEMP_RE = re.compile(r"^\.report\.(json|html)\.[A-Za-z0-9_]+$")
# A report.json is the user's file and could be edited: only names of this shape are ever deleted from it.
_KEYFRAME_RE = re.compile(rf"^{KEYFRAME_DIR}/[A-Za-z0-9_.-]+\.jpg$")
FILE_MODE = 0o644


class ReportFolderError(OutputError):
    """The output folder holds another video's report, which must not be overwritten."""


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _remove_stale(folder: Path) -> None:
    """Delete staging leftovers of killed sitewatch runs (never anything else)."""
    for entry in folder.iterdir():
        stage = _STAGE_RE.match(entry.name)
        if stage and int(stage.group(1)) != os.getpid() and not pid_alive(int(stage.group(1))):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            log.info("removed a killed run's leftovers %s", entry)
        elif _LEGACY_TEMP_RE.match(entry.name) and entry.is_file():
            entry.unlink(missing_ok=True)
            log.info("removed a killed run's leftovers %s", entry)


def _previous(folder: Path) -> Report | None:
    existing = folder / REPORT_JSON
    if not existing.is_file():
        return None
    try:
        return Report.model_validate_json(existing.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise ReportFolderError(
            f"{folder} holds a {REPORT_JSON} sitewatch cannot read; choose another --out folder"
        ) from exc


def _owned(previous: Report | None) -> set[str]:
    """Files of the folder that sitewatch wrote (reports of older versions listed none: their two fixed names)."""
    if previous is None:
        return set()
    return {REPORT_JSON, REPORT_HTML, *(name for name in previous.outputs if _KEYFRAME_RE.match(name))}


def check_folder(video: str | Path, folder: Path) -> None:
    """Refuse a folder that already holds the report of a different video (before any work is done)."""
    previous = _previous(folder)
    if previous is not None and Path(previous.video.path).resolve() != Path(video).resolve():
        raise ReportFolderError(
            f"{folder} already holds the report of {Path(previous.video.path).name}; choose another --out folder"
        )


def prepare_folder(video: str | Path, folder: str | Path) -> Path:
    """Make sure `folder` can take this video's report, before any analysis: exists, writable, not another's."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: exists and is not a folder; choose another --out folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise OutputError(f"{folder}: cannot be created, part of its path is a file; choose another --out") from exc
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be created ({_why(exc)}); choose another --out folder") from exc
    try:
        # os.access trusts permission bits, which root ignores and read-only mounts do not show: try for real.
        fd, probe = tempfile.mkstemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write there ({_why(exc)}); choose another --out folder") from exc
    check_folder(video, folder)
    _remove_stale(folder)
    return folder


def _stage(report: Report, stage: Path, lang: str) -> tuple[Report, list[str]]:
    """Write every output into `stage`; return the report that lists them and their relative paths."""
    keyframes, warnings = write_keyframes(report, stage / KEYFRAME_DIR)
    if warnings:
        log.warning("keyframes: %s", "; ".join(warnings))
    names = [REPORT_JSON, REPORT_HTML, *(k.path.relative_to(stage).as_posix() for k in keyframes)]
    final = report.model_copy(update={"outputs": names})
    (stage / REPORT_HTML).write_text(render_html(final, keyframes, stage, lang=lang), encoding="utf-8")
    (stage / REPORT_JSON).write_text(final.model_dump_json(indent=2), encoding="utf-8")
    for name in names:
        os.chmod(stage / name, FILE_MODE)
    return final, names


def write_report(report: Report, folder: str | Path, lang: str = DEFAULT_LANG) -> dict[str, Path]:
    """Write report.json, keyframes/ and report.html into `folder` all or nothing; return their paths.

    Everything is written to a hidden staging folder first and moved in when complete, report.json last,
    so a full disk or a kill leaves the previous complete report and no partial files.
    """
    folder = prepare_folder(report.video.path, folder)
    previous = _previous(folder)
    owned = _owned(previous)
    stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-", dir=folder))
    try:
        try:
            _, names = _stage(report, stage, lang)
        except OSError as exc:
            raise OutputError(
                f"{folder}: the report could not be written ({_why(exc)}); any earlier report there is untouched"
            ) from exc
        foreign = [n for n in names if (folder / n).exists() and n not in owned]
        if foreign:
            raise OutputError(
                f"{folder}: would replace {', '.join(foreign[:3])}, which sitewatch did not write; "
                "choose another --out folder"
            )
        (folder / KEYFRAME_DIR).mkdir(exist_ok=True)
        for name in names[2:]:
            os.replace(stage / name, folder / name)
        os.replace(stage / REPORT_HTML, folder / REPORT_HTML)
        os.replace(stage / REPORT_JSON, folder / REPORT_JSON)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    for name in sorted(owned - set(names)):
        # Keyframes of the previous run of this video that this run did not write again.
        (folder / name).unlink(missing_ok=True)
    return {"json": folder / REPORT_JSON, "html": folder / REPORT_HTML, "keyframes": folder / KEYFRAME_DIR}
