"""What names a result: the video's bytes and the analysis options; and the sub-folder its report goes in."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pydantic import BaseModel

from sitewatch import __version__
from sitewatch.settings import Settings
from sitewatch.text import Lang

# Characters kept from a file name in its report folder's name (others become "_"); long names are cut.
_UNSAFE = re.compile(r"[^\w.-]+")
NAME_CHARS = 60
HASH_CHARS = 12


class BatchOptions(BaseModel):
    """Everything that changes a video's report; the same bytes with the same options are analysed once."""

    model_config = {"frozen": True, "extra": "forbid"}

    detector: str
    fps: float | None = None
    model: str | None = None
    translator: str | None = None
    frames: int = 16
    lang: Lang = "ko"
    version: str = __version__

    @classmethod
    def of(cls, settings: Settings, model: str | None = None, translator: str | None = None) -> BatchOptions:
        """The options a run with these settings and flags stands for (no model: no translator either)."""
        return cls(
            detector=settings.detector,
            fps=settings.detect_fps,
            model=model or None,
            translator=(translator if translator is not None else settings.translator) if model else None,
            frames=settings.num_frames,
            lang=settings.lang,
        )

    def key(self) -> str:
        """A short digest of the options."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:HASH_CHARS]


def result_key(sha256: str, options: BatchOptions) -> str:
    """The name of one video's result under one set of options."""
    return f"{sha256}-{options.key()}"


def folder_name(path: Path, sha256: str) -> str:
    """A report folder name: the file's name and a short content hash, so two a.mp4 never collide."""
    stem = _UNSAFE.sub("_", path.stem).strip("._")[:NAME_CHARS] or "video"
    return f"{stem}-{sha256[:HASH_CHARS]}"
