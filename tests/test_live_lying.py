"""A person already lying on the floor when the camera is first watched raises `person_down`.

The stream is the end of a real fall clip (dev01 after 6 s: the worker lies on his back holding his head)
played forwards, backwards and forwards again (~16 s of lying, never upright), served by the real RTSP
server.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import pytest

pytest.importorskip("yaml", reason="sitewatch watch needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="sitewatch watch needs the detect extra")

import test_live
from test_live import FALL_CLIP, RtspServer, Watching, WebhookReceiver, needs_clip, wait_until

# The real servers' fixtures, shared with test_live.py.
rtsp, webhook = test_live.rtsp, test_live.webhook

LYING_FROM_S = 6.0  # dev01: down since ~4.5 s, until the clip ends at 11.3 s


def _lying_stream(path: Path) -> Path:
    """dev01 from `LYING_FROM_S` to its end, then backwards, then forwards again, as one H.264 MP4."""
    with av.open(str(FALL_CLIP)) as source:
        stream_in = source.streams.video[0]
        rate = stream_in.average_rate
        frames = [f.to_ndarray(format="yuv420p") for f in source.decode(stream_in) if (f.time or 0) >= LYING_FROM_S]
        width, height = stream_in.codec_context.width, stream_in.codec_context.height
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23", "g": "24"}
        for count, picture in enumerate([*frames, *frames[::-1], *frames]):
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts, frame.time_base = count, Fraction(1) / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


@needs_clip
def test_a_person_lying_when_watching_starts_raises_person_down(
    tmp_path: Path, rtsp: Callable[..., RtspServer], webhook: WebhookReceiver
) -> None:
    server = rtsp(down=_lying_stream(tmp_path / "lying.mp4"))
    with Watching(tmp_path, [{"name": "aisle", "url": server.url("down")}], webhooks=[webhook.url],
                  down_alert_s=8) as w:
        alert = wait_until(lambda: webhook.of("new"), 30, "the person-down alert")[0]
        wait_until(lambda: w.watcher.statuses()[0].frames_read > 24 * 15, 15, "the stream to play out")
    assert alert["kind"] == "person_down" and alert["camera"] == "aisle"
    assert alert["stream_s"] < 2.0, "dated from when the person was first seen lying: the stream's start"
    assert len(webhook.of("new")) == 1, "one person lying is one alert"
