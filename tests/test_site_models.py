"""Site models: found only in the operator's models folder by a fixed naming rule, written by a rename, read again
when replaced; a camera's stream moves to a new one as it runs, and a running `serve` uses it for the next upload
without a restart; the report says which model decided."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

from sitewatch.detect.base import StreamInfo
from sitewatch.detect.forest import MODEL_FILE
from sitewatch.detect.learned import LearnedDetector
from sitewatch.detect.site_models import CHECK_S, MODELS_DIR, SiteModels, model_file, write_model
from sitewatch.text import describe
from sitewatch.video.decode import FrameReader, Size
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan

SHARED_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
CLIP_A = SHARED_VIDEOS / "dev06_cwlroda_c.mp4"
CLIP_B = SHARED_VIDEOS / "dev11_cwlroda_e.mp4"
TRAINED = datetime(2026, 11, 20, 9, 30, tzinfo=timezone.utc)

pytestmark = pytest.mark.skipif(not CLIP_A.is_file() or not CLIP_B.is_file(), reason=f"clips of {SHARED_VIDEOS} absent")


def _site_document(possible: float = 0.3) -> dict:
    """The shipped model as a site's own (its trees; its own possible level and training date)."""
    document = json.loads((resources.files("sitewatch.detect") / MODEL_FILE).read_text("utf-8"))
    document["meta"] = {**document["meta"], "trained_at": TRAINED.isoformat(), "site": "plant-3"}
    document["thresholds"]["possible"] = possible
    return document


def _frames(path: Path, n: int) -> list:
    info = probe(path)
    reader = FrameReader(path, fps_plan(info, 6.0), size=Size(max_side=640), approximate=True)
    return [frame for frame, _ in zip(reader, range(n), strict=False)]


def test_names_stay_inside_the_folder_and_a_label_cannot_reach_out(tmp_path: Path) -> None:
    assert model_file(tmp_path, "site", "plant-3") == tmp_path / "site-plant-3.json"
    for hostile in ("../../etc/passwd", "/abs/x", "a:b c", ".hidden", "..", "x" * 100):
        path = model_file(tmp_path, "camera", hostile)
        assert path.parent == tmp_path and path.name.startswith("camera-") and path.suffix == ".json", hostile
        assert "/" not in path.name and ".." not in path.name.removeprefix("camera-")[:2], hostile
    assert model_file(tmp_path, "site", "a/b") != model_file(tmp_path, "site", "a_b"), "made-safe names keep apart"


def test_a_live_stream_moves_to_a_new_site_model_and_ignores_a_broken_file(tmp_path: Path) -> None:
    folder = tmp_path / MODELS_DIR
    models = SiteModels(folder, check_s=0.0)
    detector = LearnedDetector(models=models.source("plant-3", "dock-1"), threads=1)
    frames = _frames(CLIP_A, 6)
    stream = detector.start(StreamInfo(frames[0].image.shape[1], frames[0].image.shape[0], live=True))
    stream.feed(frames[0])
    assert stream.version.name == "shipped"
    write_model(folder, "site", "plant-3", _site_document(possible=0.3))
    assert not [p for p in folder.iterdir() if p.name.startswith(".writing-")], "the temporary file was renamed"
    stream.feed(frames[1])
    assert stream.version.name == "site-plant-3" and stream.version.trained_at == TRAINED
    assert stream.alarms.possible == pytest.approx(0.3), "the new model's own possible level applies at once"
    # A camera's own model wins over its site's.
    write_model(folder, "camera", "dock-1", _site_document(possible=0.35))
    stream.feed(frames[2])
    assert stream.version.name == "camera-dock-1"
    # A file copied in by hand and caught half-written is not read: the model read before stays.
    model_file(folder, "camera", "dock-1").write_text('{"meta": {}, "forest": {"trees": [', encoding="utf-8")
    stream.feed(frames[3])
    assert stream.version.name == "camera-dock-1" and stream.alarms.possible == pytest.approx(0.35)
    # Another camera of the same site has no model of its own: the site's.
    other = LearnedDetector(models=models.source("plant-3", "gate-2"), threads=1).start(StreamInfo(640, 360, live=True))
    assert other.version.name == "site-plant-3"


def test_a_running_serve_uses_a_new_site_model_for_the_next_upload_and_the_report_says_so(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="serve needs the api extra: pip install 'sitewatch[api]'")
    from test_api import Server, upload
    from test_live import wait_until

    data = tmp_path / "data"
    server = Server(data, None).start()
    try:
        with server.client() as client:

            def analysed(path: Path, reused: bool = False) -> dict:
                submitted = upload(client, path, site="plant-3", lang="en")
                assert submitted.status_code in (200, 201, 202), submitted.text
                assert submitted.json()["reused"] is reused, submitted.json()
                analysis_id = submitted.json()["id"]
                wait_until(lambda: client.get(f"/v1/analyses/{analysis_id}").json()["status"] in ("done", "failed"),
                           240, f"the analysis of {path.name}")
                report = client.get(f"/v1/analyses/{analysis_id}/report")
                assert report.status_code == 200, report.text
                return report.json()

            before = analysed(CLIP_A)
            assert before["detector_model"]["name"] == "shipped"
            assert analysed(CLIP_A, reused=True) == before, "the same request with the same model is reused"
            write_model(data / MODELS_DIR, "site", "plant-3", _site_document())
            time.sleep(CHECK_S + 0.5)  # the server looks at the folder again after this long at most
            # The same video asked again: the site's new model is a new analysis, not the shipped model's report.
            after = analysed(CLIP_A)
            assert after["detector_model"]["name"] == "site-plant-3", "picked up without a restart"
            assert after["detector_model"]["trained_at"].startswith("2026-11-20")
    finally:
        server.stop()


def test_the_report_text_names_the_model_in_both_languages() -> None:
    from sitewatch.schema import ModelVersion, Report, Verdict, VideoInfo

    video = VideoInfo(path="a.mp4", size_bytes=1, container="mp4", codec="h264", width=640, height=360, fps=6.0,
                      duration_s=4.0, frame_count=24)
    report = Report(verdict=Verdict.no_accident, confidence=0.9, detector="pose (fps 6)", video=video,
                    detector_model=ModelVersion(name="site-plant-3", trained_at=TRAINED))
    assert "trained for site plant-3 on 2026-11-20" in describe(report, "en").detector
    assert "plant-3 현장에 맞춰" in describe(report, "ko").detector
    shipped = report.model_copy(update={"detector_model": ModelVersion()})
    assert describe(shipped, "en").detector.endswith("decided by the shipped model")
    assert describe(shipped, "ko").detector.endswith("기본 모델로 판단")
