"""`sitewatch -v watch` as an operator runs it, logs to a file: the logs keep flowing and never hold a password.

Three cameras on a real RTSP server (two playing a fall clip, one mount that does not exist), a webhook
receiver and mosquitto, each URL with credentials in it.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

import test_live
from test_live import FALL_CLIP, SECRET, RtspServer, Watching, WebhookReceiver, needs_clip, wait_until
from test_live_outbox import Answering

from sitewatch.store import IncidentQuery

# The real servers' fixtures, shared with test_live.py.
rtsp, mosquitto, webhook = test_live.rtsp, test_live.mosquitto, test_live.webhook

PASSWORDS = ("CamPw77", "HookPw55", "MqttPw31")
INCIDENT_LINE = re.compile(r"camera (\w+): (?:possible )?(?:fall|person_lost_after_fall|person_down) at ")


def _environment(tmp_path: Path) -> dict[str, str]:
    """This process's environment without any SITEWATCH_* setting, with the history in `tmp_path`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")}
    return {**env, "SITEWATCH_DATA_DIR": str(tmp_path / "data"), "SITEWATCH_WEBHOOK_SECRET": SECRET,
            "SITEWATCH_LANG": "en"}


@needs_clip
def test_three_cameras_keep_fd2_on_the_log_file_and_debug_logs_hold_no_password(
    tmp_path: Path, rtsp: Callable[..., RtspServer], mosquitto: str, webhook: WebhookReceiver
) -> None:
    server = rtsp(a=FALL_CLIP, b=FALL_CLIP)
    cameras = [server.url("a").replace("://", "://camuser:CamPw77@"), server.url("b"), server.url("missing")]
    hook = webhook.url.replace("://", "://hookuser:HookPw55@")
    broker = mosquitto.replace("://", "://mqttuser:MqttPw31@")
    log_file, out_file = tmp_path / "err.log", tmp_path / "out.log"
    with log_file.open("wb") as err, out_file.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sitewatch", "-v", "watch", *cameras, "--webhook", hook, "--mqtt", broker,
             "--duration", "90"],
            stdout=out, stderr=err, cwd=tmp_path, env=_environment(tmp_path),
        )
    try:
        # Both playing cameras analysed their fall (each pose interpreter allocated in its own thread).
        wait_until(lambda: {a["camera"] for a in webhook.of("new")} >= {"a", "b"}, 60, "an alert from a and b")
        wait_until(lambda: "camera missing down: no such stream on the camera (404)" in log_file.read_text(), 20,
                   "the missing camera's down line")
        assert os.readlink(f"/proc/{proc.pid}/fd/2") == str(log_file)
        # Logged after every interpreter exists: the file still receives what the process writes. Each
        # camera's incident is logged as it opens, whichever tier (a possible one that grows into an alarm
        # pages later, from the same incident).
        wait_until(lambda: set(INCIDENT_LINE.findall(log_file.read_text())) >= {"a", "b"}, 20,
                   "both incidents logged")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    logs = log_file.read_text()
    assert "DEBUG " in logs and "camera a up" in logs and "camera b up" in logs
    assert "TensorFlow Lite" not in logs, "LiteRT's native INFO line stays hidden"
    everything = logs + out_file.read_text()
    leaked = [p for p in PASSWORDS if p in everything]
    assert not leaked, f"{leaked} in the output"
    assert "***@127.0.0.1" in logs
    assert webhook.bad_signatures == 0


@needs_clip
def test_apprise_tokens_never_reach_the_logs_at_debug(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    receiver = Answering(200)
    port = receiver.url.split(":")[2].split("/")[0]
    # apprise's JSON service: the user, password and path are the secrets here (a bot token in other services).
    notify = f"json://appuser:AppPw99@127.0.0.1:{port}/hook/SecretTok77"
    caplog.set_level(logging.DEBUG)
    try:
        with Watching(tmp_path, [{"name": "dock", "url": str(FALL_CLIP)}], notify=[notify]) as w:
            wait_until(lambda: receiver.posts, 30, "the apprise notification")
            sent = wait_until(lambda: [d for i in w.store.incidents(IncidentQuery()).items
                                       for d in w.store.deliveries(i.id) if d.state.value == "sent"], 10, "sent")
    finally:
        receiver.close()
    assert sent[0].channel == "apprise json"
    assert any(r.name.startswith(("apprise", "urllib3")) for r in caplog.records), "their DEBUG lines were captured"
    leaked = [s for s in ("AppPw99", "SecretTok77", "appuser") if s in caplog.text]
    assert not leaked, f"{leaked} logged"


@needs_clip
def test_the_rule_detector_watches_a_camera_too(tmp_path: Path, webhook: WebhookReceiver) -> None:
    """`SITEWATCH_DETECTOR=pose-rules sitewatch watch`: every registered detector streams, so live takes any."""
    env = {**_environment(tmp_path), "SITEWATCH_DETECTOR": "pose-rules"}
    done = subprocess.run(
        [sys.executable, "-m", "sitewatch", "watch", str(FALL_CLIP), "--webhook", webhook.url, "--json"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=240,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    alerts = webhook.of("new")
    assert [a["kind"] for a in alerts] == ["fall"], alerts
    assert abs(alerts[0]["stream_s"] - test_live.FALL_AT_S) < 1.5
