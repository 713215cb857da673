"""Turn the command's SOURCES (folders, a manifest CSV, a list of paths, videos) into the videos to analyse."""

from __future__ import annotations

import csv
import fnmatch
import logging
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from sitewatch.errors import SitewatchError

log = logging.getLogger(__name__)

# What a folder's walk picks up unless --include says otherwise (images: --include '*.jpg').
VIDEO_PATTERNS = ("*.mp4", "*.mov", "*.m4v", "*.mkv", "*.avi", "*.webm", "*.mpg", "*.mpeg", "*.ts", "*.wmv",
                  "*.flv", "*.3gp")
LIST_SUFFIXES = (".txt", ".lst", ".list")


class SourceError(SitewatchError):
    """A source cannot be read or names nothing to analyse."""


def _matches(relative: str, patterns: Sequence[str]) -> bool:
    # A pattern matches the path below the folder or just the file name, case-insensitively.
    name = relative.rsplit("/", 1)[-1].lower()
    return any(fnmatch.fnmatch(relative.lower(), p.lower()) or fnmatch.fnmatch(name, p.lower()) for p in patterns)


def walk_folder(
    folder: Path, include: Sequence[str] = (), exclude: Sequence[str] = (), skip: Path | None = None
) -> Iterator[Path]:
    """Files under `folder` (recursively, sorted, hidden ones left out) that match `include` and not `exclude`."""
    wanted = include or VIDEO_PATTERNS
    folder = folder.resolve()
    skip = skip.resolve() if skip is not None else None
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith(".") for part in parts) or (skip is not None and path.is_relative_to(skip)):
            continue
        relative = "/".join(parts)
        if path.is_file() and _matches(relative, wanted) and not _matches(relative, exclude):
            yield path


def read_manifest_files(manifest: Path) -> list[Path]:
    """The `file` column of a manifest CSV, relative to the manifest's folder."""
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        if "file" not in columns:
            raise SourceError(f"{manifest}: a manifest needs a 'file' column (found: {', '.join(columns)})")
        return [manifest.parent / row["file"].strip() for row in reader if (row.get("file") or "").strip()]


def read_path_list(listing: Path) -> list[Path]:
    """Paths one per line (blank lines and # comments skipped), relative to the list's folder."""
    lines = (line.strip() for line in listing.read_text(encoding="utf-8").splitlines())
    return [listing.parent / Path(line).expanduser() for line in lines if line and not line.startswith("#")]


def find_videos(
    sources: Iterable[Path], include: Sequence[str] = (), exclude: Sequence[str] = (), skip: Path | None = None
) -> list[Path]:
    """Every video the sources name, once each, in the order given; `skip` (the output folder) is never walked.

    A folder is walked, a .csv is a manifest, a .txt/.lst/.list is a list of paths, anything else is a video.
    Listed files that are missing stay in the list: they become error rows, not a refusal of the whole batch.
    """
    found: dict[Path, None] = {}
    for source in sources:
        source = source.expanduser()
        if source.is_dir():
            paths = list(walk_folder(source, include, exclude, skip))
        elif not source.exists():
            raise SourceError(f"{source}: no such file or folder")
        elif source.suffix.lower() == ".csv":
            paths = read_manifest_files(source)
        elif source.suffix.lower() in LIST_SUFFIXES:
            paths = read_path_list(source)
        else:
            paths = [source]
        for path in paths:
            found.setdefault(path.absolute(), None)
    if not found:
        raise SourceError("no videos found in " + ", ".join(str(s) for s in sources))
    return list(found)
