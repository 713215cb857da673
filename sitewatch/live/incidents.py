"""From detector events to incidents: one alert per fall at once, then its clip, report and an updated alert.

The first alert goes out the moment the detector opens an event (the store write follows it, so a slow
database never delays it). After the post-roll the clip is cut from the camera's ring, analysed as any
uploaded video is (the detector again, and the video-language model when one is configured: it
describes and confirms the clip), kept in the history with its report, and the alert is sent again
as an `update` carrying the verdict and the summary.
"""

from __future__ import annotations

import logging
import queue
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.live.alerts import alert_for
from sitewatch.live.camera import CameraState, CameraWatch
from sitewatch.live.clip import write_clip
from sitewatch.live.config import WatchConfig
from sitewatch.live.outbox import Outbox
from sitewatch.schema import Event
from sitewatch.settings import Settings
from sitewatch.store import AnalysisOptions, IncidentRecord, Store

if TYPE_CHECKING:
    from sitewatch.detect.base import Detector
    from sitewatch.vlm.base import VideoLM

log = logging.getLogger(__name__)

PENDING_CLIPS = 16  # incidents waiting for their clip; more at once than this on one process is a flood
POLL_S = 0.1


@dataclass(frozen=True)
class _ClipJob:
    incident: IncidentRecord
    camera: CameraWatch
    start_s: float
    end_s: float


class IncidentDesk:
    """Raises incidents from every camera's events, with cooldown, and makes their clips in one background thread."""

    def __init__(self, config: WatchConfig, settings: Settings, store: Store, outboxes: list[Outbox]) -> None:
        self.config = config
        self.settings = settings
        self.lang = config.lang or settings.lang
        self.store = store
        self.outboxes = outboxes
        self.suppressed = 0
        self._last: dict[str, float] = {}  # camera -> camera time of its last alerted event
        self._lock = threading.Lock()
        self._jobs: queue.Queue[_ClipJob | None] = queue.Queue(PENDING_CLIPS)
        self._worker = threading.Thread(target=self._clip_loop, name="incident-clips", daemon=True)
        self._worker.start()

    def on_event(self, camera: CameraWatch, event: Event) -> None:
        """Called by a camera's analysis thread for each event that just opened."""
        if event.confidence < self.config.min_confidence:
            log.debug("camera %s: %s at %.1f s below the alert threshold", camera.name, event.kind.value, event.start_s)
            return
        with self._lock:
            last = self._last.get(camera.name)
            if last is not None and event.start_s - last < self.config.cooldown_s:
                # The same fall seen again (another track, the lost-after-fall look, an object): one alert.
                self.suppressed += 1
                return
            self._last[camera.name] = event.start_s
        now = datetime.now(timezone.utc)
        incident = IncidentRecord(
            id=uuid.uuid4().hex, camera=camera.name, site=camera.config.site, kind=event.kind,
            confidence=event.confidence, started_at=camera.wall_at(event.start_s), detected_at=now,
            stream_s=round(camera.stream_s(event.start_s), 3), event=event.model_copy(deep=True), updated_at=now,
        )
        self._send(incident)
        camera.count_incident()
        log.warning("camera %s: %s at %s (stream %.1f s, confidence %.2f)", camera.name, event.kind.value,
                    incident.started_at.isoformat(), incident.stream_s, event.confidence)
        try:
            self.store.add_incident(incident)
            self._jobs.put_nowait(_ClipJob(
                incident, camera, event.start_s - self.config.pre_roll_s, event.start_s + self.config.post_roll_s
            ))
        except queue.Full:
            self.store.link_incident(incident.id, None, error="too many incidents at once; no clip was made")
        except Exception:
            log.exception("camera %s: incident %s could not be stored", camera.name, incident.id)

    def _send(self, incident: IncidentRecord) -> None:
        alert = alert_for(incident, self.lang)
        for outbox in self.outboxes:
            outbox.put(alert)

    def close(self, wait_s: float = 120.0) -> None:
        """Finish the clips of incidents already raised (cameras are stopped: with the frames there are)."""
        self._jobs.put(None)
        self._worker.join(wait_s)

    # --- the clip worker ----------------------------------------------------------------------------------

    def _clip_loop(self) -> None:
        from sitewatch.detect.registry import get_detector
        from sitewatch.session import get_model

        detector = get_detector(self.settings.detector, threads=1)
        model = None
        if self.settings.vlm:
            try:
                model = get_model(self.settings.vlm, self.settings)
            except Exception as exc:
                log.error("the video-language model could not be loaded; clips get the detector only: %s", exc)
        while (job := self._jobs.get()) is not None:
            try:
                self._make_clip(job, detector, model)
            except Exception as exc:
                log.exception("incident %s: no clip or report", job.incident.id)
                self.store.link_incident(job.incident.id, None, error=f"{type(exc).__name__}: {exc}"[:500])

    def _make_clip(self, job: _ClipJob, detector: Detector, model: VideoLM | None) -> None:
        from sitewatch.assess import analyze

        # Wait for the post-roll, but not for a camera that went silent or was stopped: cut what there is.
        camera = job.camera
        while ((camera.ring.latest_s or 0.0) < job.end_s and camera.now_s() < job.end_s + self.config.stall_s
               and camera.status().state not in (CameraState.stopped, CameraState.ended)):
            time.sleep(POLL_S)
        frames = job.camera.ring.between(job.start_s, job.end_s)
        if not frames:
            self.store.link_incident(job.incident.id, None, error="no video was kept around the incident")
            return
        folder = Path(tempfile.mkdtemp(prefix="sitewatch-incident-"))
        try:
            clip = write_clip(frames, folder / f"{job.incident.camera}_{job.incident.id[:8]}.mp4")
            report = analyze(clip, self.settings, detector=detector, model=model)
            options = AnalysisOptions(
                lang=self.lang, model=getattr(model, "name", None), frames=self.settings.num_frames,
                site=job.incident.site, camera=job.incident.camera,
            )
            analysis = self.store.save(clip, report, options, source="camera")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        incident = self.store.link_incident(job.incident.id, analysis, report)
        log.info("incident %s: clip analysed (%s), alert updated", incident.id, report.verdict.value)
        self._send(incident)
