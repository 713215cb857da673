"""The content-addressed folder: each video under its sha256, its analyses' report folders beside it.

    <data>/videos/ab/abcdef.../video.mp4
    <data>/videos/ab/abcdef.../reports/<analysis id>/report.json, report.html, keyframes/
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

from sitewatch.schema import VideoInfo

log = logging.getLogger(__name__)

STAGING_SUFFIX = ".staging"
# Container names FFmpeg reports, as the suffix a stored file gets (the decoders pick images by suffix).
SUFFIXES = {"mov": ".mp4", "matroska": ".mkv", "jpeg": ".jpg", "jpeg_pipe": ".jpg", "png_pipe": ".png"}


def stored_suffix(info: VideoInfo) -> str:
    """The suffix a stored copy gets, from what probing the bytes found (never from the uploaded name)."""
    name = info.container.lower()
    return SUFFIXES.get(name, "." + "".join(c for c in name if c.isalnum())[:8] or ".bin")


class VideoFolder:
    """Videos by content and the report folders of their analyses; writes land whole or not at all."""

    def __init__(self, root: Path) -> None:
        self.root = root / "videos"
        self.root.mkdir(parents=True, exist_ok=True)

    def folder(self, sha256: str) -> Path:
        """The folder of one video's content."""
        return self.root / sha256[:2] / sha256

    def video(self, sha256: str, file_name: str) -> Path:
        """The stored video."""
        return self.folder(sha256) / file_name

    def keep(self, source: Path, sha256: str, suffix: str, *, move: bool) -> str:
        """Store `source` under its sha256 (once: a second copy of the same bytes is dropped); return its name."""
        name = f"video{suffix}"
        target = self.video(sha256, name)
        if target.is_file():
            if move:
                source.unlink(missing_ok=True)
            return name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{name}.{os.getpid()}.part")
        if move:
            os.replace(source, partial)
        else:
            shutil.copyfile(source, partial)
        os.replace(partial, target)
        return name

    def reports(self, sha256: str, analysis_id: str) -> Path:
        """The published report folder of one analysis (complete whenever it exists)."""
        return self.folder(sha256) / "reports" / analysis_id

    def staging(self, sha256: str, analysis_id: str) -> Path:
        """A fresh, empty folder to write an analysis's report into before it is published."""
        stage = self.reports(sha256, analysis_id).with_name(analysis_id + STAGING_SUFFIX)
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        return stage

    def publish(self, stage: Path, sha256: str, analysis_id: str) -> Path:
        """Move a complete staging folder into place in one rename (replacing an earlier attempt's)."""
        final = self.reports(sha256, analysis_id)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(stage, final)
        return final

    def remove_reports(self, sha256: str, analysis_id: str) -> None:
        """Delete one analysis's report folder and any staging leftovers."""
        final = self.reports(sha256, analysis_id)
        for folder in (final, final.with_name(analysis_id + STAGING_SUFFIX)):
            shutil.rmtree(folder, ignore_errors=True)

    def remove_video(self, sha256: str) -> None:
        """Delete a video's whole folder (when no analysis refers to it any more)."""
        shutil.rmtree(self.folder(sha256), ignore_errors=True)
