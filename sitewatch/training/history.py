"""The site's reviewed incidents as training clips: a manifest in the corpus format, with the incidents' clips.

A confirmed fall is a `fall` clip (its fall starts where the clip's own analysis found it); a false alarm is a
`no_fall` clip. Every clip of one site (or camera) is one `group`, so cross-validation keeps them together.
Incidents that are not about a person falling, or have no kept clip, are left out with the reason.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sitewatch.detect.site_models import Scope, model_file
from sitewatch.schema import EventKind, Report
from sitewatch.store import IncidentQuery, IncidentRecord, Status, Store
from sitewatch.store.records import ReviewVerdict

log = logging.getLogger(__name__)

TRAINING_DIR = "training"  # in the data folder: one exported manifest per site or camera
MANIFEST = "MANIFEST.csv"
# The columns of the shared corpus's MANIFEST.csv, in its order.
COLUMNS = (
    "file", "source_repo", "path_in_repo", "commit", "license", "label", "setting", "people_count", "duration_s",
    "fps", "resolution", "description", "fall_start_s", "event_type", "frames", "size_bytes", "sha256",
    "source_sha256", "stored_sha256", "group",
)  # fmt: skip
# What the fall decision judges: a person going down. Falling objects and zone intrusions are other detectors'.
FALL_KINDS = frozenset({EventKind.fall, EventKind.person_down, EventKind.person_lost_after_fall})
PAGE = 500
# Why a reviewed incident is not a training clip (the words are in sitewatch.text: train_skip_<reason>).
Skipped = Literal["not_a_fall", "no_clip", "no_fall_found"]


@dataclass(frozen=True)
class Target:
    """Whose model: a site's or one camera's."""

    scope: Scope
    name: str

    @property
    def group(self) -> str:
        """The cross-validation group of its clips."""
        return f"{self.scope}:{self.name}"

    @property
    def label(self) -> str:
        """How the model is named in reports: site-<name> or camera-<name>."""
        return f"{self.scope}-{self.name}"


@dataclass
class Export:
    """The manifest written, how many clips of each label it holds, and the incidents left out (with why)."""

    manifest: Path
    falls: int = 0
    false_alarms: int = 0
    skipped: dict[str, Skipped] = field(default_factory=dict)  # incident id -> why it was left out

    @property
    def clips(self) -> int:
        """Clips in the manifest."""
        return self.falls + self.false_alarms


def reviewed(store: Store, target: Target, site: str | None = None) -> list[IncidentRecord]:
    """Every reviewed incident of the site or camera (a camera's: of `site` when given), oldest first."""
    query = {"site": target.name} if target.scope == "site" else {"camera": target.name, "site": site}
    found: list[IncidentRecord] = []
    while True:
        page = store.incidents(IncidentQuery(reviewed=True, limit=PAGE, offset=len(found), **query))
        found += page.items
        if not page.items or len(found) >= page.total:
            return found[::-1]


def fall_start(report: Report) -> float | None:
    """Where the clip's own analysis saw the person go down (None when it saw no fall)."""
    starts = [e.start_s for e in report.events if e.kind in FALL_KINDS]
    return min(starts) if starts else None


def _place(source: Path, target: Path) -> None:
    """The clip beside the manifest: a hard link to the history's copy (no second copy), else a copy."""
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def export(store: Store, target: Target, data: Path, site: str | None = None) -> Export:
    """Write `<data>/training/<site-or-camera>/MANIFEST.csv` and its clips from the reviewed incidents (a
    camera's: of `site` when given)."""
    folder = data / TRAINING_DIR / model_file(Path(), target.scope, target.name).stem
    folder.mkdir(parents=True, exist_ok=True)
    result = Export(folder / MANIFEST)
    rows = []
    for incident in reviewed(store, target, site):
        assert incident.review is not None
        if incident.kind not in FALL_KINDS:
            result.skipped[incident.id] = "not_a_fall"
            continue
        if incident.analysis_id is None or store.get(incident.analysis_id).status is not Status.done:
            result.skipped[incident.id] = "no_clip"
            continue
        report = store.report(incident.analysis_id)
        confirmed = incident.review.verdict is ReviewVerdict.confirmed
        start = fall_start(report) if confirmed else None
        if confirmed and start is None:
            result.skipped[incident.id] = "no_fall_found"
            continue
        video = store.video_path(incident.analysis_id)
        name = f"{incident.id}{video.suffix}"
        _place(video, folder / name)
        sha256 = store.get(incident.analysis_id).video_sha256
        info = report.video
        note = f"; note: {incident.review.note}" if incident.review.note else ""
        rows.append({
            "file": name, "source_repo": "sitewatch history", "path_in_repo": f"incidents/{incident.id}",
            "commit": "", "license": "the site's own footage", "label": "fall" if confirmed else "no_fall",
            "setting": "site", "people_count": report.people_max, "duration_s": round(info.duration_s, 2),
            "fps": round(info.fps, 3), "resolution": f"{info.width}x{info.height}",
            "description": f"camera {incident.camera}, {incident.kind.value} at {incident.started_at.isoformat()}, "
                           f"reviewed {incident.review.verdict.value} by {incident.review.reviewer}{note}",
            "fall_start_s": "" if start is None else round(start, 2), "event_type": "person_fall" if confirmed else "",
            "frames": info.frame_count, "size_bytes": info.size_bytes, "sha256": sha256, "source_sha256": sha256,
            "stored_sha256": sha256, "group": target.group,
        })  # fmt: skip
        if confirmed:
            result.falls += 1
        else:
            result.false_alarms += 1
    for stale in folder.iterdir():
        # Clips of incidents no longer reviewed (or reviewed differently) from an earlier export.
        if stale.name != MANIFEST and stale.name not in {row["file"] for row in rows}:
            stale.unlink()
    temporary = result.manifest.with_suffix(".tmp")
    with temporary.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(result.manifest)
    log.info("exported %d reviewed clips of %s to %s", result.clips, target.label, result.manifest)
    return result
