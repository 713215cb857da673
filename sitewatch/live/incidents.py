"""From detector events to incidents: an alert the moment a fall opens, then its clip, report and an update.

Every change of an incident and the alerts it calls for are written in one transaction (the outbox)
before anything is sent. The clip is written as the camera's frames come (pre-roll from the ring, then
live until the post-roll ends) into the data folder, then analysed as any uploaded video is (the
detector again, and the video-language model when one is configured), kept in the history with its
report, and the alert goes out again as an `update`. A more severe event within the cooldown (a fall
after a falling object) upgrades the incident: an `update` with the new kind, the clip made longer.

A process killed mid-incident leaves the row owned by a dead process and the clip written so far; the
next start analyses that clip (or says why there is none) and sends the update.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.live.alerts import AlertType, alert_for
from sitewatch.live.camera import CameraState, CameraWatch
from sitewatch.live.clip import ClipWriter
from sitewatch.live.config import CameraConfig, WatchConfig
from sitewatch.live.outbox import Outbox
from sitewatch.live.zones import ZonedDetector
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Event, EventKind, Report, Source, Zone
from sitewatch.service.save import save_analysis
from sitewatch.settings import Settings
from sitewatch.store import AnalysisNotFoundError, AnalysisRecord, IncidentRecord, Store
from sitewatch.store.database import data_dir
from sitewatch.store.records import DeliveryRecord, Tier
from sitewatch.store.store import Deliveries

if TYPE_CHECKING:
    from sitewatch.detect.base import Detector
    from sitewatch.vlm.base import VideoLM

log = logging.getLogger(__name__)

CLIPS_DIR = "incident-clips"  # in the data folder: clips being written or waiting for their analysis
PENDING_CLIPS = 16  # incidents being recorded at once; more than this on one process is a flood
POLL_S = 0.1
# Which event makes the incident's kind when several come within one cooldown (higher wins).
SEVERITY = {
    EventKind.intrusion: 0,  # someone where they should not be, not yet hurt
    EventKind.object_drop: 1,
    EventKind.person_lost_after_fall: 2,
    EventKind.person_down: 3,
    EventKind.struck_by: 4,
    EventKind.fall: 5,
}


@dataclass
class _Clip:
    """One incident's clip being recorded: camera times from `start_s` to `end_s` (moved by an upgrade)."""

    incident_id: str
    camera: CameraWatch
    start_s: float
    end_s: float
    path: Path
    zones: list[Zone]  # the camera's zones when the incident was raised: its clip is judged through them


@dataclass
class _Open:
    """A camera's latest incident, while its cooldown lasts."""

    clip: _Clip
    kind: EventKind
    start_s: float
    tier: Tier


class IncidentDesk:
    """Raises incidents from every camera's events, with cooldown and upgrades; records and analyses their clips."""

    def __init__(
        self, config: WatchConfig, cameras: list[CameraConfig], settings: Settings, store: Store,
        outboxes: list[Outbox], worker: str,
    ) -> None:
        self.config = config
        # Each camera with the watch-wide values filled in (its language, rate, thresholds).
        self.cameras = {camera.name: camera for camera in cameras}
        self.settings = settings
        self._detectors: dict[tuple[float | None, str | None, str | None], Detector] = {}
        self.store = store
        self.outboxes = outboxes
        self.worker = worker
        self.clips_dir = data_dir(settings) / CLIPS_DIR
        self.suppressed = 0
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()
        self._recorders: list[threading.Thread] = []
        # Incident, clip, and the zones it is judged through (None: the camera's zones in the history now).
        self._analyses: queue.Queue[tuple[str, Path, list[Zone] | None] | None] = queue.Queue()
        self._analyser = threading.Thread(target=self._analyse_loop, name="incident-clips", daemon=True)
        self._analyser.start()

    # --- alerts ---------------------------------------------------------------------------------------------

    def _deliveries(self, type: AlertType, report: Report | None = None) -> Deliveries:
        """The rows that send one alert (one id on every channel) about an incident's new state."""

        def rows(incident: IncidentRecord) -> list[DeliveryRecord]:
            if incident.tier is Tier.possible:
                return []  # kept for the review queue; nobody is paged for it
            camera = self.cameras.get(incident.camera)
            lang = camera.lang if camera and camera.lang else self.config.lang or self.settings.lang
            alert = alert_for(incident, lang, type, report, self.config.public_url)
            return [outbox.delivery(alert) for outbox in self.outboxes]

        return rows

    def _wake_outboxes(self) -> None:
        for outbox in self.outboxes:
            outbox.wake()

    def _finish(
        self, incident_id: str, analysis: AnalysisRecord | None, report: Report | None = None, error: str | None = None
    ) -> None:
        """Link the clip's analysis (or why there is none) and send the update."""
        incident = self.store.link_incident(incident_id, analysis, self._deliveries("update", report), report, error)
        self._wake_outboxes()
        log.info("incident %s: %s, alert updated", incident.id,
                 f"clip analysed ({report.verdict.value})" if report else f"no clip ({error})")

    # --- events ---------------------------------------------------------------------------------------------

    def on_event(self, camera: CameraWatch, event: Event) -> None:
        """Called by a camera's analysis thread for each event that just opened."""
        rules = self.cameras[camera.name]
        tier = Tier.alarm if event.confidence >= (rules.min_confidence or 0.0) else Tier.possible
        if tier is Tier.possible and not self.config.review_possible:
            log.debug("camera %s: %s at %.1f s below the alert threshold", camera.name, event.kind.value, event.start_s)
            return
        promoted = False
        with self._lock:
            current = self._open.get(camera.name)
            if current is not None and event.start_s - current.start_s < (rules.cooldown_s or 0.0):
                # Within the cooldown it is the same accident. An alarm makes a possible one an alarm (its first
                # page); a more severe event changes its kind (an update to those already paged: a load dropped,
                # then someone may have fallen, is worth saying even before it is sure); anything else repeats.
                promoted = current.tier is Tier.possible and tier is Tier.alarm
                severer = SEVERITY[event.kind] > SEVERITY[current.kind]
                if not (promoted or severer):
                    self.suppressed += 1
                    return
                current.kind = event.kind
                current.tier = Tier.alarm if promoted else current.tier
                current.clip.end_s = max(current.clip.end_s, event.start_s + self.config.post_roll_s)
                upgraded: _Open | None = current
            else:
                upgraded = None
        if upgraded is not None:
            self._upgrade(camera, upgraded.clip.incident_id, event, promoted)
        else:
            self._raise(camera, event, tier)

    def _upgrade(self, camera: CameraWatch, incident_id: str, event: Event, promoted: bool) -> None:
        # A promoted incident pages people for the first time: a `new` alert, not an update.
        alert = "new" if promoted else "update"
        try:
            self.store.upgrade_incident(incident_id, event.model_copy(deep=True), self._deliveries(alert),
                                        Tier.alarm if promoted else None)
        except Exception:
            log.exception("camera %s: incident %s could not be upgraded", camera.name, incident_id)
            return
        self._wake_outboxes()
        if promoted:
            camera.count_incident()
        log.warning("camera %s: incident %s is now %s %s (at stream %.1f s)", camera.name, incident_id,
                    "an alarm:" if promoted else "a", event.kind.value, camera.stream_s(event.start_s))

    def _raise(self, camera: CameraWatch, event: Event, tier: Tier) -> None:
        now = datetime.now(timezone.utc)
        incident = IncidentRecord(
            id=uuid.uuid4().hex, camera=camera.name, site=camera.config.site, kind=event.kind,
            confidence=event.confidence, tier=tier, started_at=camera.wall_at(event.start_s), detected_at=now,
            stream_s=round(camera.stream_s(event.start_s), 3), event=event.model_copy(deep=True), updated_at=now,
            worker=self.worker,
        )
        try:
            self.store.add_incident(incident, self._deliveries("new"))
        except Exception:
            log.exception("camera %s: incident %s could not be stored; no alert", camera.name, incident.id)
            return
        self._wake_outboxes()
        if tier is Tier.alarm:
            camera.count_incident()
        log.warning("camera %s: %s%s at %s (stream %.1f s, confidence %.2f)", camera.name,
                    "possible " if tier is Tier.possible else "", event.kind.value, incident.started_at.isoformat(),
                    incident.stream_s, event.confidence)
        clip = _Clip(incident.id, camera, event.start_s - self.config.pre_roll_s,
                     event.start_s + self.config.post_roll_s, self._clip_path(incident), camera.zones.zones)
        with self._lock:
            self._open[camera.name] = _Open(clip, event.kind, event.start_s, tier)
            self._recorders = [t for t in self._recorders if t.is_alive()]
            flood = len(self._recorders) >= PENDING_CLIPS
            if not flood:
                recorder = threading.Thread(target=self._record, args=(clip,), name=f"clip-{incident.id[:8]}",
                                            daemon=True)
                self._recorders.append(recorder)
                recorder.start()
        if flood:
            self._finish(incident.id, None, error="too many incidents at once; no clip was made")

    def _clip_path(self, incident: IncidentRecord) -> Path:
        return self.clips_dir / f"{incident.camera}_{incident.id}.mp4"

    # --- clips ----------------------------------------------------------------------------------------------

    def resume(self, incidents: list[IncidentRecord]) -> None:
        """Finish incidents a stopped process left: analyse the clip it had written, or say there is none."""
        for incident in incidents:
            path = self._clip_path(incident)
            if path.is_file() and path.stat().st_size > 0:
                log.warning("incident %s: analysing the clip a stopped process left", incident.id)
                self._analyses.put((incident.id, path, None))
            else:
                self._finish(incident.id, None, error="the watcher stopped before the incident clip was kept")

    def _post_roll_over(self, clip: _Clip) -> bool:
        """The clip's last frame is in, or will not come (the camera went silent or stopped)."""
        camera = clip.camera
        return ((camera.ring.latest_s or 0.0) >= clip.end_s or camera.now_s() >= clip.end_s + self.config.stall_s
                or camera.status().state in (CameraState.stopped, CameraState.ended))

    def _record(self, clip: _Clip) -> None:
        """Write the clip as its frames reach the ring, until the post-roll is over; then queue its analysis."""
        writer = ClipWriter(clip.path)
        last_s: float | None = None
        try:
            while True:
                over = self._post_roll_over(clip)  # decided before reading, so the frames up to the end are in
                for kept in clip.camera.ring.between(clip.start_s, clip.end_s):
                    if last_s is None or kept.time_s > last_s:
                        writer.add(kept)
                        last_s = kept.time_s
                if over:
                    break
                time.sleep(POLL_S)
            writer.close()
        except Exception as exc:
            log.exception("incident %s: the clip could not be written", clip.incident_id)
            self._finish(clip.incident_id, None, error=f"{type(exc).__name__}: {exc}"[:500])
            return
        if writer.frames == 0:
            self._finish(clip.incident_id, None, error="no video was kept around the incident")
        else:
            self._analyses.put((clip.incident_id, clip.path, clip.zones))

    def _analyse_loop(self) -> None:
        from sitewatch.service.build import get_model

        model = None
        if self.settings.vlm:
            try:
                model = get_model(self.settings.vlm, self.settings)
            except Exception as exc:
                log.error("the video-language model could not be loaded; clips get the detector only: %s", exc)
        while (job := self._analyses.get()) is not None:
            incident_id, path, zones = job
            try:
                self._analyse(incident_id, path, model, zones)
            except Exception as exc:
                log.exception("incident %s: no report", incident_id)
                try:
                    self._finish(incident_id, None, error=f"{type(exc).__name__}: {exc}"[:500])
                except Exception:
                    log.exception("incident %s: the failure could not be recorded", incident_id)

    def _analyse(self, incident_id: str, clip: Path, model: VideoLM | None, zones: list[Zone] | None) -> None:
        from sitewatch.service.assess import analyze
        from sitewatch.service.build import detector_for

        incident = self.store.get_incident(incident_id)
        # An incident a stopped process left may be of a camera no longer configured: the watch-wide values then.
        request = camera_request(
            self.cameras.get(incident.camera), self.settings, model=self.settings.vlm if model is not None else "none",
            site=incident.site, camera=incident.camera,
        )  # fmt: skip
        # The clip is judged as the camera was: the same detector at the same rate, with the camera's model
        # (one per rate and camera, kept).
        key = (request.fps, request.site, request.camera)
        detector = self._detectors.get(key) or self._detectors.setdefault(
            key, detector_for(request, threads=1, settings=self.settings)
        )
        zones = self._zones(incident.camera) if zones is None else zones
        if incident.kind is EventKind.intrusion:
            # The clip starts a pre-roll before the dwell was reached: a person inside since before then has been
            # inside for the clip's whole pre-roll, which is all the clip can show of their stay.
            judged = [z.model_copy(update={"dwell_s": min(z.dwell_s, self.config.pre_roll_s)}) for z in zones]
        else:
            judged = zones
        # Judged through the camera's zones (an intrusion found again, falls in ignore zones left out), drawn on
        # the keyframes.
        report = analyze(clip, self.settings, detector=ZonedDetector(detector, judged), model=model,
                         frames=request.frames).model_copy(update={"zones": zones})
        analysis = save_analysis(self.store, clip, report, request, source=Source.camera)
        self._finish(incident_id, analysis, report=report)
        clip.unlink(missing_ok=True)  # kept in the history now

    def _zones(self, camera: str) -> list[Zone]:
        """A camera's zones in the history now (none for a camera no watcher registered, as before zones): for a
        clip a stopped process left, whose zones when it was raised are not known."""
        try:
            return self.store.camera_zones(camera).plain()
        except AnalysisNotFoundError:
            return []

    def close(self, wait_s: float = 120.0) -> None:
        """Finish the clips of incidents already raised (cameras are stopped: with the frames there are)."""
        deadline = time.monotonic() + wait_s
        with self._lock:
            recorders = list(self._recorders)
        for recorder in recorders:
            recorder.join(max(0.0, deadline - time.monotonic()))
        self._analyses.put(None)
        self._analyser.join(max(0.0, deadline - time.monotonic()))


def camera_request(config: CameraConfig | None, settings: Settings, **choices: object) -> AnalysisRequest:
    """What one camera's video is analysed with: its rate and language over the operator's settings."""
    return AnalysisRequest.of(
        settings, fps=config.fps if config else None, lang=config.lang if config else None, **choices
    )
