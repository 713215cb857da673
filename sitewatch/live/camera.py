"""One watched camera: a reader thread (connect, decode, keep the last seconds) and an analysis thread.

The reader never waits for the analysis: it offers frames at the detector's rate into a queue of a few
frames, and when the analysis falls behind the oldest waiting frame is dropped (and counted), never the
stream. A connection that fails, stalls or sends garbage is retried with growing pauses while the
camera is reported down; the other cameras go on.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from enum import Enum

import av
from pydantic import BaseModel

from sitewatch.detect.base import Detector, DetectorStream, StreamInfo
from sitewatch.live.config import CameraConfig
from sitewatch.live.failures import explain
from sitewatch.live.lying import FoundLying
from sitewatch.live.reader import StreamEnded, read_frames
from sitewatch.live.ring import FrameRing, clip_size
from sitewatch.live.scenes import SceneBook
from sitewatch.live.urls import Source, mask_url, source_for
from sitewatch.live.zones import ZoneJudge
from sitewatch.schema import Event
from sitewatch.video.decode import Frame, Size

log = logging.getLogger(__name__)

QUEUE_FRAMES = 3  # frames waiting for analysis at most: the analysis lags the stream by this many steps at worst
BACKOFF_FIRST_S, BACKOFF_MAX_S = 0.5, 10.0
SCENE_KEEP_S = 60.0  # how often a camera's learned normal is written to the history (and when it stops)
SNAPSHOT_QUALITY = 80  # a console grid refreshes these every few seconds: small files over sharp ones
SNAPSHOT_EVERY_S = 1.0  # the console asks every 2 s: a picture at most a second old, made once for every reader


class CameraState(str, Enum):
    """Where a camera's connection is."""

    connecting = "connecting"
    up = "up"
    down = "down"
    ended = "ended"  # a file without --loop played to its end
    stopped = "stopped"
    # Only `serve` says it, of a camera whose separate watcher has stopped writing its status (killed, hung, cut off).
    quiet = "quiet"


class CameraStatus(BaseModel):
    """What `watch --json` prints, /healthz shows and a watcher publishes in the history for one camera."""

    camera: str
    url: str
    state: CameraState
    since: datetime
    error: str | None = None
    reconnects: int = 0
    frames_read: int = 0
    frames_analysed: int = 0
    frames_dropped: int = 0
    incidents: int = 0


def _jpeg(frame: av.VideoFrame) -> bytes:
    """`frame` shrunk to the clip size as a JPEG; made by the reader itself, since converting a frame in another
    thread while the reader and the clip writer use theirs was seen to hang PyAV for good."""
    width, height = clip_size(frame.width, frame.height)
    out = io.BytesIO()
    frame.to_image(width=width, height=height).save(out, format="JPEG", quality=SNAPSHOT_QUALITY)
    return out.getvalue()


EventSink = Callable[["CameraWatch", Event], None]
StatusSink = Callable[[CameraStatus], None]


class CameraWatch:
    """Reads one camera and runs the online detector on it until `stop`."""

    def __init__(
        self, config: CameraConfig, detector: Detector, ring_s: float, stall_s: float,
        on_event: EventSink, on_status: StatusSink, down_alert_s: float = 0.0, scenes: SceneBook | None = None,
    ) -> None:
        self.config = config
        self._down_alert_s = down_alert_s
        self.name = config.name
        self.ring = FrameRing(ring_s)
        # The watcher replaces them whenever they change in the history.
        self.zones = ZoneJudge(list(config.zones or []), f"camera {config.name}")
        self._detector = detector
        self._scenes = scenes or SceneBook(None)
        self._stall_s = stall_s
        self._on_event = on_event
        self._on_status = on_status
        self._stop = threading.Event()
        self._queue: deque[tuple[int, Frame]] = deque(maxlen=QUEUE_FRAMES)
        self._ready = threading.Condition()
        self._started_mono = time.monotonic()
        self._started_wall = datetime.now(timezone.utc)
        self._anchor_s = 0.0  # camera time of the current connection's first frame
        self._snapshot: bytes | None = None
        self._snapshot_s = float("-inf")  # camera time of the frame in `_snapshot`
        self._status = CameraStatus(
            camera=self.name, url=mask_url(config.url), state=CameraState.connecting, since=self._started_wall
        )
        self._threads = [
            threading.Thread(target=self._read_loop, name=f"read-{self.name}", daemon=True),
            threading.Thread(target=self._analyse_loop, name=f"analyse-{self.name}", daemon=True),
        ]

    # --- the camera's clock ---------------------------------------------------------------------------

    def wall_at(self, time_s: float) -> datetime:
        """The UTC time a moment of this camera's clock (seconds since the watch started) stands for."""
        return self._started_wall + timedelta(seconds=time_s)

    def now_s(self) -> float:
        """This camera's clock now."""
        return time.monotonic() - self._started_mono

    def stream_s(self, time_s: float) -> float:
        """A camera time as seconds into the current connection's stream (a file's own time on its first pass)."""
        return max(0.0, time_s - self._anchor_s)

    # --- life -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start reading and analysing."""
        for thread in self._threads:
            thread.start()

    def stop(self, wait_s: float = 5.0) -> None:
        """Stop both threads (the reader notices within its read timeout)."""
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(wait_s)
        self._set(CameraState.stopped)

    def status(self) -> CameraStatus:
        """A copy of the current status."""
        return self._status.model_copy()

    def snapshot_jpeg(self) -> bytes | None:
        """A frame at most about a second old as a JPEG (640 px on the long side), or None before the first."""
        return self._snapshot

    def count_incident(self) -> None:
        """One more incident was raised on this camera."""
        self._status.incidents += 1

    def _set(self, state: CameraState, error: str | None = None) -> None:
        if state is self._status.state and error == self._status.error:
            return
        self._status.state, self._status.error, self._status.since = state, error, datetime.now(timezone.utc)
        if state is CameraState.down:
            log.warning("camera %s down: %s", self.name, error)
        else:
            log.info("camera %s %s", self.name, state.value)
        self._on_status(self.status())

    # --- reading ----------------------------------------------------------------------------------------

    def _read_loop(self) -> None:
        source = source_for(self.config.url, self._stall_s)
        backoff = BACKOFF_FIRST_S
        generation = 0
        while not self._stop.is_set():
            generation += 1
            read_before = self._status.frames_read
            try:
                self._connection(source, generation)
                return  # stopped
            except StreamEnded:
                if source.realtime and not self.config.loop:
                    self._set(CameraState.ended)
                    return
                if source.realtime:
                    continue  # --loop: the file starts again at once
                error = "the stream ended"
            except (av.error.FFmpegError, OSError) as exc:
                error = explain(exc, self._stall_s)
            if self._stop.is_set():
                return
            if self._status.frames_read > read_before:
                backoff = BACKOFF_FIRST_S  # it worked for a while: retry soon
            self._status.reconnects += 1
            self._set(CameraState.down, error)
            self._stop.wait(backoff)
            backoff = min(BACKOFF_MAX_S, backoff * 2)

    def _connection(self, source: Source, generation: int) -> None:
        """Read one connection until `stop`: every frame into the ring, at the detector's rate into the queue."""
        step_s = 1.0 / self._detector.fps
        size = Size(max_side=self._detector.max_side)
        last_offered: float | None = None
        for decoded in read_frames(source, self._stall_s):
            if self._stop.is_set():
                return
            if last_offered is None:
                self._anchor_s = self.now_s()
                last_offered = -step_s
                self._set(CameraState.up)
            self._status.frames_read += 1
            # A paced file keeps its own timestamps; a network frame is timed by its arrival, since MJPEG and
            # some cameras send none or wrong ones.
            time_s = self._anchor_s + decoded.stream_s if source.realtime else self.now_s()
            self.ring.offer(time_s, decoded.frame)
            if time_s - self._snapshot_s >= SNAPSHOT_EVERY_S:
                self._snapshot_s = time_s
                self._snapshot = _jpeg(decoded.frame)
            if time_s - last_offered >= step_s * 0.9:
                last_offered = time_s
                width, height = size.resolve(decoded.frame.width, decoded.frame.height)
                image = decoded.frame.to_ndarray(width=width, height=height, format="rgb24")
                self._enqueue(generation, Frame(self._status.frames_read, time_s, image))

    def _enqueue(self, generation: int, frame: Frame) -> None:
        with self._ready:
            if len(self._queue) == self._queue.maxlen:
                self._status.frames_dropped += 1
            self._queue.append((generation, frame))
            self._ready.notify()

    # --- analysing --------------------------------------------------------------------------------------

    def _next(self) -> tuple[int, Frame] | None:
        """The oldest waiting frame with its connection's number; None once stopping."""
        with self._ready:
            while not self._queue and not self._stop.is_set():
                self._ready.wait(1.0)
            return None if self._stop.is_set() else self._queue.popleft()

    def _analyse_loop(self) -> None:
        stream: DetectorStream | None = None
        lying: FoundLying | None = None
        generation, kept_s = 0, 0.0
        try:
            while (item := self._next()) is not None:
                item_generation, frame = item
                if stream is None or item_generation != generation:
                    # A new connection: people and motion are followed afresh; the camera's normal carries on.
                    height, width = frame.image.shape[:2]
                    scene = stream.scene() if stream is not None else self._scenes.load(self.name)
                    stream = self._detector.start(StreamInfo(width, height, live=True, scene=scene))
                    generation = item_generation
                    lying = FoundLying(self._down_alert_s) if self._down_alert_s > 0 else None
                    self.zones.restart()
                self._analyse(stream, lying, frame)
                if frame.time_s - kept_s >= SCENE_KEEP_S:
                    kept_s = frame.time_s
                    self._scenes.keep(self.name, stream.scene())
        finally:
            if stream is not None:
                self._scenes.keep(self.name, stream.scene())

    def _analyse(self, stream: DetectorStream, lying: FoundLying | None, frame: Frame) -> None:
        try:
            step = stream.feed(frame)
        except Exception:
            log.exception("camera %s: the detector failed on a frame; it goes on with the next", self.name)
            return
        self._status.frames_analysed += 1
        for event in self.zones.judge(step, [*step.events, *(lying.update(step) if lying else [])]):
            self._on_event(self, event)
