"""Fall models the operator trained for a site or a camera, kept in `<data>/models` and re-read when replaced.

`sitewatch train --from-history` writes them there, each by a rename (so a half-written file is never read).
A site or camera label only picks among the files the operator's training wrote, by a fixed naming rule:
nothing a visitor sends names a path. A file that cannot be read keeps the model that was read before it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from sitewatch.detect.forest import FallModel, load_model, model_from_dict
from sitewatch.schema import ModelVersion

log = logging.getLogger(__name__)

MODELS_DIR = "models"  # in the data folder
CHECK_S = 5.0  # how often a stream looks at its model file again: a stat, and a read only when it changed
Scope = Literal["site", "camera"]
_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}$")


def model_file(folder: Path, scope: Scope, name: str) -> Path:
    """The file of one site's or camera's model: `site-<name>.json`, the name made safe (with a hash of it) when
    it is not a plain file name (labels may hold '/', ':' or spaces)."""
    if not _PLAIN.match(name):
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60].lstrip(".")
        name = f"{safe}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"
    return folder / f"{scope}-{name}.json"


def write_model(folder: Path, scope: Scope, name: str, document: dict) -> Path:
    """Write a site's or camera's model: to a temporary file beside it, then renamed over the old one, so a
    stream reading the folder sees the old model or the new one, never half of one."""
    folder.mkdir(parents=True, exist_ok=True)
    path = model_file(folder, scope, name)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(document, out, separators=(",", ":"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


@dataclass(frozen=True)
class ChosenModel:
    """A fall model and which one it is."""

    model: FallModel
    version: ModelVersion


ModelSource = Callable[[], ChosenModel]


def shipped() -> ChosenModel:
    """The model shipped inside the package."""
    return ChosenModel(load_model(), ModelVersion())


@dataclass(frozen=True)
class _Read:
    stamp: tuple[int, int]  # the file's mtime (ns) and size when it was read
    chosen: ChosenModel


class SiteModels:
    """One models folder: a stream's model is its camera's, else its site's, else the shipped one."""

    def __init__(self, folder: Path, check_s: float = CHECK_S) -> None:
        self.folder = folder
        self.check_s = check_s
        self._lock = threading.Lock()
        self._read: dict[Path, _Read] = {}
        self._looked: dict[tuple[str | None, str | None], tuple[float, ChosenModel]] = {}

    def choose(self, site: str | None, camera: str | None) -> ChosenModel:
        """The model for a site and camera now; the folder is looked at no more than every `check_s` seconds."""
        now = time.monotonic()
        with self._lock:
            looked = self._looked.get((site, camera))
            if looked is not None and now - looked[0] < self.check_s:
                return looked[1]
            chosen = self._find(site, camera)
            self._looked[(site, camera)] = (now, chosen)
            return chosen

    def source(self, site: str | None, camera: str | None) -> ModelSource:
        """What a detector asks for its model when a stream starts (and a live stream, as it goes)."""
        return lambda: self.choose(site, camera)

    def _find(self, site: str | None, camera: str | None) -> ChosenModel:
        scopes: tuple[tuple[Scope, str | None], ...] = (("camera", camera), ("site", site))
        for scope, name in scopes:
            if name:
                chosen = self._load(model_file(self.folder, scope, name), f"{scope}-{name}")
                if chosen is not None:
                    return chosen
        return shipped()

    def _load(self, path: Path, name: str) -> ChosenModel | None:
        try:
            status = path.stat()
        except OSError:
            self._read.pop(path, None)
            return None
        stamp = (status.st_mtime_ns, status.st_size)
        before = self._read.get(path)
        if before is not None and before.stamp == stamp:
            return before.chosen
        try:
            document = json.loads(path.read_text("utf-8"))
            model = model_from_dict(document)
            trained = document.get("meta", {}).get("trained_at")
            version = ModelVersion(name=name, trained_at=datetime.fromisoformat(trained) if trained else None)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("the model %s could not be read (%s); %s", path, exc,
                        "keeping the one read before" if before else "using the next one")
            return before.chosen if before else None
        chosen = ChosenModel(model, version)
        self._read[path] = _Read(stamp, chosen)
        log.info("fall model for %s read from %s", name, path)
        return chosen


@lru_cache(maxsize=8)
def site_models(folder: Path) -> SiteModels:
    """The one SiteModels of a folder in this process (every stream shares what it has read)."""
    return SiteModels(folder)
