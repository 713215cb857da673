"""What the console shows over HTTP: watched cameras, their newest frames as JPEG, incident clips a browser plays.

`serve` watches a real fall clip (dev01) played at its real rate and looped; the snapshot and the clip are
decoded back, the clip's index must come before its media (faststart) and a range request gets 206.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("yaml", reason="watching cameras needs the live extra: pip install 'sitewatch[live]'")
pytest.importorskip("ai_edge_litert", reason="watching cameras needs the detect extra")

import av
from fastapi.testclient import TestClient
from PIL import Image
from test_live import FALL_CLIP, wait_until

from sitewatch.api.app import create_app
from sitewatch.settings import Settings

TOKEN = "console-media-token"

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not FALL_CLIP.is_file(), reason=f"{FALL_CLIP} is not here")]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API watching one camera (dev01, looped) with short pre- and post-roll, behind a token."""
    folder = tmp_path_factory.mktemp("console-media")
    config = folder / "cameras.yaml"
    config.write_text(f"pre_roll_s: 2\npost_roll_s: 2\ncameras:\n  - name: dock-1\n    url: {FALL_CLIP}\n"
                      "    site: plant-3\n    loop: true\n")
    settings = Settings(data_dir=folder / "data", watch_config=config, api_token=TOKEN, lang="en")
    with TestClient(create_app(settings), headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        yield c


def test_watched_cameras_are_listed_with_their_state(client: TestClient) -> None:
    cameras = wait_until(lambda: [c for c in client.get("/v1/cameras").json() if c["state"] == "up"], 20, "camera up")
    assert [c["camera"] for c in cameras] == ["dock-1"] and cameras[0]["frames_read"] > 0
    assert client.get("/v1/cameras", headers={"Authorization": ""}).status_code == 401


def test_the_snapshot_is_the_cameras_newest_frame_as_jpeg(client: TestClient) -> None:
    response = wait_until(lambda: (r := client.get("/v1/cameras/dock-1/snapshot.jpg")).status_code == 200 and r,
                          20, "a snapshot")
    assert response.headers["content-type"] == "image/jpeg" and response.headers["cache-control"] == "no-store"
    picture = Image.open(io.BytesIO(response.content))
    assert picture.format == "JPEG" and max(picture.size) == 640
    assert len(picture.convert("L").getcolors(256) or []) > 50, "a real picture, not a flat frame"
    later = wait_until(lambda: (r := client.get("/v1/cameras/dock-1/snapshot.jpg")).content != response.content and r,
                       10, "a newer snapshot")
    assert later.status_code == 200
    for name in ("gate", "..%2F..%2Fetc%2Fpasswd", "dock-1.jpg"):
        assert client.get(f"/v1/cameras/{name}/snapshot.jpg").status_code == 404


def test_an_incident_clip_plays_in_a_browser_with_range_requests(client: TestClient, tmp_path: Path) -> None:
    def clip_ready() -> Any:
        items = client.get("/v1/incidents", params={"camera": "dock-1"}).json()["items"]
        return next((i for i in items if i["analysis_id"]), None)

    incident = wait_until(clip_ready, 90, "an incident with its analysed clip")
    url = f"/v1/incidents/{incident['id']}/clip.mp4"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes"
    body = whole.content
    assert 0 <= body.find(b"moov") < body.find(b"mdat"), "faststart: the index before the media"
    assert b"moof" not in body, "a plain MP4, not fragments"
    saved = tmp_path / "clip.mp4"
    saved.write_bytes(body)
    with av.open(str(saved)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) >= 8 * 3, "at least the pre- and post-roll"

    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == body[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(body)}"
    assert client.get(url).content == body, "served again from the cache, the same bytes"

    assert client.get("/v1/incidents/nope/clip.mp4").status_code == 404

    # Deleting the clip's analysis removes the browser copy too.
    from sitewatch.api.playable import PLAYABLE_DIR
    from sitewatch.store.database import data_dir

    copy = data_dir(client.app.state.services.settings) / PLAYABLE_DIR / f"{incident['analysis_id']}.mp4"
    assert copy.is_file()
    assert client.delete(f"/v1/analyses/{incident['analysis_id']}").status_code == 204
    assert not copy.exists()
