"""What names a result: the video's bytes and the analysis request; and the sub-folder its report goes in."""

from __future__ import annotations

import re
from pathlib import Path

from sitewatch.request import AnalysisRequest

# Characters kept from a file name in its report folder's name (others become "_"); long names are cut.
_UNSAFE = re.compile(r"[^\w.-]+")
NAME_CHARS = 60
HASH_CHARS = 12


def result_key(sha256: str, request: AnalysisRequest) -> str:
    """The name of one video's result under one request."""
    return f"{sha256}-{request.key()[:HASH_CHARS]}"


def folder_name(path: Path, sha256: str) -> str:
    """A report folder name: the file's name and a short content hash, so two a.mp4 never collide."""
    stem = _UNSAFE.sub("_", path.stem).strip("._")[:NAME_CHARS] or "video"
    return f"{stem}-{sha256[:HASH_CHARS]}"
