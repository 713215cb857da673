"""What one browser session holds: its settings, its chat about one video, and its own temp folder."""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sitewatch.chat import ChatSession
from sitewatch.report.keyframes import Keyframe
from sitewatch.request import AnalysisRequest

log = logging.getLogger(__name__)


@dataclass
class UiSession:
    """One browser session's analysis and chat; `close()` deletes its temp folder."""

    folder: Path
    request: AnalysisRequest  # what the visitor asked for: language, model, frames
    chat: ChatSession
    name: str  # the file name the visitor uploaded (or that a reopened analysis was uploaded under)
    keyframes: list[Keyframe] = field(default_factory=list)
    # The analysis in the shared history (None when the page keeps no history).
    analysis_id: str | None = None

    def close(self) -> None:
        """Remove the session's files (keyframes); the chat's memory goes with the object."""
        remove_folder(self.folder)


def session_folder_path(root: Path, session_hash: str | None) -> Path:
    """Where one browser session keeps its files under the app's temp root."""
    # The hash comes from the browser: keep only characters that cannot climb out of `root`.
    return root / (re.sub(r"[^A-Za-z0-9_-]", "", session_hash or "") or "anonymous")


def session_folder(root: Path, session_hash: str | None) -> Path:
    """The folder for one browser session, created empty."""
    folder = session_folder_path(root, session_hash)
    remove_folder(folder)
    folder.mkdir(parents=True)
    return folder


def remove_folder(folder: Path) -> None:
    """Delete `folder` and everything in it, if it exists."""
    if folder.exists():
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed session folder %s", folder)


def close_session(session: UiSession | None) -> None:
    """gr.State's delete callback: free a session's files when gradio forgets it."""
    if session is not None:
        session.close()
