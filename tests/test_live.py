"""`sitewatch watch` against real servers on loopback: a GStreamer RTSP server, mosquitto, a webhook receiver.

Each test plays a real fall clip (dev01: a worker slips at ~3.7 s) at its real rate and stops as soon as
what it checks has arrived; pre- and post-roll are short so the incident clip follows quickly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("sqlalchemy", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

from media import SHARED_VIDEOS

from sitewatch.live.camera import CameraState, CameraStatus
from sitewatch.live.config import load_config
from sitewatch.live.watcher import Watcher
from sitewatch.settings import Settings
from sitewatch.store import Store
from sitewatch.store.records import IncidentQuery, Tier

REPO = Path(__file__).resolve().parents[1]
FALL_CLIP = SHARED_VIDEOS / "dev01_sriram2226.mp4"
FALL_AT_S = 3.7  # the labelled moment the worker slips
SECRET = "test-webhook-secret"
SYSTEM_PYTHON = "/usr/bin/python3"

needs_clip = pytest.mark.skipif(not FALL_CLIP.is_file(), reason=f"the fall clip {FALL_CLIP} is not here")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps access logs out of the test output."""

    def log_message(self, *args: object) -> None:
        pass


class LoopbackReceiver:
    """An HTTP receiver served on loopback (`serve_loopback`); `close()` stops it."""

    _server: ThreadingHTTPServer
    url: str

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()


def serve_loopback(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """`handler` served on a free loopback port in a thread; the server and its /hook URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


# --- a webhook receiver that checks the signature ----------------------------------------------------------


class WebhookReceiver(LoopbackReceiver):
    """A loopback HTTP server that records each alert with its arrival time; a bad signature is a 401."""

    def __init__(self, secret: str = SECRET) -> None:
        self.alerts: list[tuple[float, dict]] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(self.headers.get("X-Sitewatch-Signature", ""), expected):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                else:
                    receiver.alerts.append((time.time(), json.loads(body)))
                    self.send_response(204)
                self.end_headers()

        self._server, self.url = serve_loopback(Handler)

    def of(self, kind: str, camera: str | None = None) -> list[dict]:
        """Alerts of one type ('new' or 'update'), for one camera if given."""
        return [a for _, a in self.alerts if a["type"] == kind and camera in (None, a["camera"])]


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


# --- a real RTSP server --------------------------------------------------------------------------------------


def rtsp_unavailable() -> str | None:
    if not Path(SYSTEM_PYTHON).is_file():
        return f"{SYSTEM_PYTHON} is missing"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0'); "
         "from gi.repository import GstRtspServer"], capture_output=True,
    )
    if probe.returncode:
        return ("GStreamer's RTSP server is not installed (apt-get install gstreamer1.0-rtsp "
                "gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)")
    return None


class RtspServer:
    """tests/rtsp_server.py in a subprocess: start, stop (kill), pause (SIGSTOP: a stalled stream), resume."""

    def __init__(self, mounts: dict[str, Path]) -> None:
        self.port = _free_port()
        self.mounts = mounts
        self.proc: subprocess.Popen[str] | None = None

    def url(self, mount: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{mount}"

    def start(self) -> RtspServer:
        args = [f"{name}={path}" for name, path in self.mounts.items()]
        self.proc = subprocess.Popen([SYSTEM_PYTHON, str(REPO / "tests" / "rtsp_server.py"), "--port", str(self.port),
                                      *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.strip() == "ready", f"the RTSP server did not start: {line}"
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            self.proc.kill()
            self.proc.wait()

    def pause(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)


@pytest.fixture
def rtsp() -> Iterator[Callable[..., RtspServer]]:
    reason = rtsp_unavailable()
    if reason:
        pytest.skip(reason)
    servers: list[RtspServer] = []

    def start(**mounts: Path) -> RtspServer:
        servers.append(RtspServer(mounts).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# --- a real MQTT broker ----------------------------------------------------------------------------------------


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("mosquitto") or next((p for p in ("/usr/sbin/mosquitto",) if Path(p).is_file()), None)
    if binary is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    port = _free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until(lambda: _listening(port), 10, "mosquitto to listen")
    yield f"mqtt://127.0.0.1:{port}"
    proc.kill()
    proc.wait()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# --- the watcher in this process -------------------------------------------------------------------------------


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", webhook_secret=SECRET, webhook_retries=2, timeout_s=5, lang="en")


class Watching:
    """A Watcher over the given cameras with every status change recorded."""

    def __init__(self, tmp_path: Path, cameras: list[dict], settings: dict | None = None, **options: Any) -> None:
        self.settings = _settings(tmp_path).model_copy(update=settings or {})
        self.store = Store.open(self.settings)
        self.statuses: list[CameraStatus] = []
        config_file = tmp_path / "cameras.yaml"
        config_file.write_text(json.dumps({"cameras": cameras, "pre_roll_s": 2, "post_roll_s": 2,
                                           "stall_s": 2, **options}))
        self.config = load_config(config_file, [])
        self.watcher = Watcher(self.config, self.settings, self.store, on_status=self.statuses.append)

    def __enter__(self) -> Watching:
        self.watcher.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.watcher.stop()
        self.store.close()

    def states(self, camera: str) -> list[CameraState]:
        return [s.state for s in self.statuses if s.camera == camera]


def _check_alert(alert: dict, camera: str, stream_s: float) -> None:
    assert alert["camera"] == camera
    assert alert["kind"] in ("fall", "person_lost_after_fall")
    # The event starts when the worker was last upright: at the slip, give or take the detector's step.
    assert abs(alert["stream_s"] - stream_s) < 1.0, alert
    assert alert["title"] and alert["message"]


@needs_clip
def test_a_file_played_at_its_rate_raises_one_alert_with_clip_report_and_history(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    """Core path: alert within 2 s of the fall, then the update with the stored clip analysis; GET /v1/incidents."""
    started = time.time()
    with Watching(tmp_path, [{"name": "dock-1", "url": str(FALL_CLIP), "site": "plant-3"}],
                  webhooks=[webhook.url]) as w:
        new = wait_until(lambda: webhook.of("new"), 15, "the alert")
        received, alert = webhook.alerts[0]
        _check_alert(alert, "dock-1", FALL_AT_S)
        assert alert["site"] == "plant-3"
        # From the fall's moment in the stream (the file plays from `started`) to the webhook: the goal is 2 s
        # (benchmarks/live.py measures it); a second more keeps this test steady on busy shared cores.
        assert received - (started + FALL_AT_S) < 3.0
        update = wait_until(lambda: webhook.of("update"), 30, "the updated alert")[0]
        assert update["id"] == new[0]["id"] and update["analysis_id"] and update["verdict"]
        record = w.store.get_incident(update["id"])
        assert record.analysis_id == update["analysis_id"]
        folder = w.store.report_folder(record.analysis_id)
        assert (folder / "report.json").is_file() and list((folder / "keyframes").glob("*.jpg"))
        assert w.store.video_path(record.analysis_id).stat().st_size > 10_000
    assert len(webhook.of("new")) == 1, "one fall is one alert"
    assert webhook.bad_signatures == 0

    from fastapi.testclient import TestClient

    from sitewatch.api.app import create_app

    with TestClient(create_app(_settings(tmp_path))) as client:
        page = client.get("/v1/incidents", params={"camera": "dock-1"}).json()
        assert page["total"] == 1 and page["items"][0]["id"] == alert["id"]
        assert client.get(f"/v1/incidents/{alert['id']}").json()["analysis_id"] == update["analysis_id"]
        assert client.get("/v1/incidents/nope").status_code == 404


@needs_clip
def test_a_configured_model_describes_the_incident_clip_and_the_alert_is_updated(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    from openai_stub import OpenAIStub

    answer = json.dumps({"accident": "yes", "kind": "fall", "who": "a worker", "when": "middle",
                         "severity": "serious", "description": "A worker carrying a box slips and falls."})
    with OpenAIStub(lambda request: answer) as stub:
        model = {"vlm": f"openai:stub-vlm@{stub.base_url}"}
        with Watching(tmp_path, [{"name": "dock-2", "url": str(FALL_CLIP)}], model, webhooks=[webhook.url],
                      public_url="https://sitewatch.example/") as w:
            update = wait_until(lambda: webhook.of("update"), 40, "the model-checked alert")[0]
            report = w.store.report(update["analysis_id"])
        assert stub.requests, "the model was asked about the clip"
    assert "stub-vlm" in (report.model or "") and "slips and falls" in report.scene_en
    assert update["verdict"] == "accident"
    link = f"https://sitewatch.example/v1/analyses/{update['analysis_id']}/report.html"
    assert update["report_url"] == link
    # Each thing said once: the wall-clock time with its zone, the verdict, the model's words, the link;
    # no time inside the clip ("3.0 s"), which means nothing to the reader.
    message = update["message"]
    assert message.count("Accident detected") == 1 and message.count("slips and falls") == 1, message
    when = datetime.fromisoformat(update["started_at"]).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    assert message.endswith(f"Report: {link}") and when in message and " s " not in message, message
    assert webhook.of("new")[0]["report_url"] is None


@needs_clip
def test_each_camera_may_override_the_watch_wide_rate_language_and_thresholds(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    cameras = [
        {"name": "gate-ko", "url": str(FALL_CLIP), "lang": "ko"},
        {"name": "gate-en", "url": str(FALL_CLIP)},
        # Nothing reaches this bar: the fall is kept as a possible accident for the review queue, unpaged.
        {"name": "gate-review", "url": str(FALL_CLIP), "min_confidence": 1.0},
        {"name": "gate-slow", "url": str(FALL_CLIP), "min_confidence": 1.0, "fps": 3},
    ]
    with Watching(tmp_path, cameras, webhooks=[webhook.url], fps=6) as w:
        rates = {c.name: c._detector.fps for c in w.watcher.cameras}
        assert rates == {"gate-ko": 6, "gate-en": 6, "gate-review": 6, "gate-slow": 3}
        updates = wait_until(lambda: len(webhook.of("update")) >= 2 and webhook.of("update"), 60, "both updates")
        by_camera = {u["camera"]: u for u in updates}
        report = w.store.report(by_camera["gate-ko"]["analysis_id"])
        options = w.store.get(by_camera["gate-ko"]["analysis_id"]).options
        kept = wait_until(lambda: [i for i in w.store.incidents(IncidentQuery(camera="gate-review")).items
                                   if i.analysis_id], 60, "the possible incident's analysed clip")
    titles = {alert["camera"]: alert["title"] for alert in webhook.of("new")}
    assert set(titles) == {"gate-ko", "gate-en"}, "a camera whose bar is 1.0 pages nobody"
    assert "카메라" in titles["gate-ko"] and "camera" in titles["gate-en"].lower()
    assert {i.tier for i in kept} == {Tier.possible} and all(u["camera"] != "gate-review" for u in updates)
    # The clip is judged as its camera was: at the rate the camera inherits, in the camera's language.
    assert (options.fps, options.lang, options.camera) == (6, "ko", "gate-ko") and "6" in report.detector


def test_an_unknown_config_key_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "cameras.yaml"
    config.write_text("cameras:\n  - name: gate\n    url: rtsp://cam/1\n    fps_limit: 5\n")
    result = subprocess.run([sys.executable, "-m", "sitewatch", "watch", "--config", str(config)],
                            capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {config}: cameras.0.fps_limit: extra inputs are not permitted"
    ]


def test_credentials_never_show(tmp_path: Path) -> None:
    # Loopback, a port nothing listens on: the camera is refused, its URL still shown.
    config = load_config(None, [f"rtsp://admin:hunter2@127.0.0.1:{_free_port()}/stream1"])
    with Watching(tmp_path, [c.model_dump() for c in config.cameras]) as w:
        status = w.watcher.statuses()[0]
    assert "hunter2" not in status.model_dump_json() and "***@127.0.0.1:" in status.url


# --- RTSP and MQTT ----------------------------------------------------------------------------------------------


class Subscriber:
    """A paho client recording every message under sitewatch/#."""

    def __init__(self, url: str) -> None:
        import paho.mqtt.client as mqtt

        self.messages: list[tuple[str, dict]] = []
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self._client.on_message = lambda _c, _u, m: self.messages.append((m.topic, json.loads(m.payload)))
        host, port = url.removeprefix("mqtt://").split(":")
        self._client.connect(host, int(port))
        self._client.subscribe("sitewatch/#", qos=1)
        self._client.loop_start()

    def on(self, topic: str) -> list[dict]:
        return [m for t, m in self.messages if t == topic]

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


@needs_clip
def test_rtsp_fall_reaches_webhook_and_mqtt_once(
    tmp_path: Path, rtsp: Callable[..., RtspServer], mosquitto: str, webhook: WebhookReceiver
) -> None:
    server = rtsp(fall=FALL_CLIP)
    subscriber = Subscriber(mosquitto)
    try:
        with Watching(tmp_path, [{"name": "gate", "url": server.url("fall")}], webhooks=[webhook.url],
                      mqtt=mosquitto) as w:
            wait_until(lambda: webhook.of("new"), 20, "the alert")
            _check_alert(webhook.of("new")[0], "gate", FALL_AT_S)
            wait_until(lambda: subscriber.on("sitewatch/gate/events"), 10, "the MQTT alert")
            wait_until(lambda: webhook.of("update"), 30, "the updated alert")
            # Let the rest of the fall (lying, the lost track) play: still one alert.
            wait_until(lambda: w.watcher.statuses()[0].frames_read > 240, 15, "the clip to play out")
        assert len(webhook.of("new")) == 1 and len(webhook.of("update")) == 1
        mqtt_alerts = subscriber.on("sitewatch/gate/events")
        assert [a["type"] for a in mqtt_alerts] == ["new", "update"]
        assert mqtt_alerts[0]["id"] == webhook.of("new")[0]["id"]
        assert any(s["state"] == "up" for s in subscriber.on("sitewatch/gate/status"))
    finally:
        subscriber.close()


@needs_clip
def test_rtsp_server_restarted_mid_stream_is_reconnected(
    tmp_path: Path, rtsp: Callable[..., RtspServer], webhook: WebhookReceiver
) -> None:
    server = rtsp(fall=FALL_CLIP)
    with Watching(tmp_path, [{"name": "yard", "url": server.url("fall")}], webhooks=[webhook.url]) as w:
        wait_until(lambda: w.watcher.statuses()[0].frames_read > 24, 15, "the first second of video")
        server.stop()
        wait_until(lambda: CameraState.down in w.states("yard"), 10, "the camera reported down")
        server.start()
        wait_until(lambda: w.states("yard")[-1] is CameraState.up, 20, "the camera back up")
        # The restarted server plays the clip from its start: the fall comes 3.7 s into the new stream.
        alert = wait_until(lambda: webhook.of("new"), 20, "the alert after reconnecting")[0]
        _check_alert(alert, "yard", FALL_AT_S)
        assert w.watcher.statuses()[0].reconnects >= 1
    errors = {s.error for s in w.statuses if s.state is CameraState.down}
    # Said plainly: the stream ended, nothing listening while the server was away, or the read timing out.
    assert errors and errors <= {"the stream ended", "connection refused: nothing listens at that address and port",
                                 "no data for 2 s", "the camera closed the connection"}, errors


@needs_clip
def test_a_stalled_stream_is_reported_down_then_recovers(tmp_path: Path, rtsp: Callable[..., RtspServer]) -> None:
    server = rtsp(fall=FALL_CLIP)
    with Watching(tmp_path, [{"name": "crane", "url": server.url("fall")}]) as w:
        wait_until(lambda: w.watcher.statuses()[0].frames_read > 24, 15, "the first second of video")
        server.pause()  # the connection stays open, nothing comes
        paused = time.monotonic()
        wait_until(lambda: CameraState.down in w.states("crane"), 10, "the stall reported")
        assert time.monotonic() - paused < 2 + 3, "reported within the stall timeout (2 s) and a margin"
        assert next(s.error for s in w.statuses if s.state is CameraState.down) == "no data for 2 s"
        server.resume()
        wait_until(lambda: w.states("crane")[-1] is CameraState.up, 20, "the camera back up")
        before = w.watcher.statuses()[0].frames_read
        wait_until(lambda: w.watcher.statuses()[0].frames_read > before + 24, 10, "frames after recovering")


@needs_clip
def test_two_cameras_at_once_each_alert_under_its_name(
    tmp_path: Path, rtsp: Callable[..., RtspServer], webhook: WebhookReceiver
) -> None:
    server = rtsp(a=FALL_CLIP, b=FALL_CLIP)
    cameras = [{"name": "north", "url": server.url("a")}, {"name": "south", "url": server.url("b")}]
    with Watching(tmp_path, cameras, webhooks=[webhook.url], pre_roll_s=0, post_roll_s=0) as w:
        wait_until(lambda: webhook.of("new", "north") and webhook.of("new", "south"), 25, "an alert from each camera")
        for name in ("north", "south"):
            _check_alert(webhook.of("new", name)[0], name, FALL_AT_S)
        assert all(s.state is CameraState.up for s in w.watcher.statuses())


@needs_clip
def test_serve_with_a_cameras_file_shows_them_in_healthz(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from sitewatch.api.app import create_app

    config = tmp_path / "cameras.yaml"
    config.write_text(f"cameras:\n  - name: lobby\n    url: file://{FALL_CLIP}\n    loop: true\n")
    settings = _settings(tmp_path).model_copy(update={"watch_config": config})
    with TestClient(create_app(settings)) as client:
        cameras = wait_until(
            lambda: [c for c in client.get("/healthz").json()["cameras"] if c["state"] == "up"], 15, "the camera up"
        )
        assert cameras[0]["camera"] == "lobby" and cameras[0]["url"] == f"file://{FALL_CLIP}"


def test_webhooks_without_a_secret_are_warned_about_once_and_in_healthz(
    tmp_path: Path, webhook: WebhookReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from sitewatch.api.app import create_app

    config = tmp_path / "cameras.yaml"
    config.write_text(json.dumps({"cameras": [{"name": "lobby", "url": str(FALL_CLIP)}], "webhooks": [webhook.url]}))
    settings = _settings(tmp_path).model_copy(update={"watch_config": config, "webhook_secret": None})
    with caplog.at_level("WARNING", logger="sitewatch.live"), TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json()["warnings"] == ["webhooks_unsigned"]
    assert [r.message for r in caplog.records if "unsigned" in r.message] == [
        "webhooks go out unsigned: set SITEWATCH_WEBHOOK_SECRET so receivers can check them"
    ]
    signed = _settings(tmp_path).model_copy(update={"watch_config": config})
    with TestClient(create_app(signed)) as client:
        assert "warnings" not in client.get("/healthz").json()
