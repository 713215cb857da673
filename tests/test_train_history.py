"""`sitewatch train --from-history` end to end: a history of camera incidents whose clips are real clips of
../shared, reviewed confirmed or false alarm; the command exports them as a corpus manifest, refits the recipe on a
small subset of the shared corpus plus them, prints the scores before and after, and writes the site model only
when it is not worse (then a learned detector of that site decides with it)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("sklearn", reason="training needs the train extra: pip install 'sitewatch[train]'")

from sitewatch.detect.site_models import MODELS_DIR, SiteModels, model_file
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Event, EventKind, Report, Source, Verdict
from sitewatch.service.save import save_analysis
from sitewatch.settings import Settings
from sitewatch.store import IncidentRecord, ReviewRequest, ReviewVerdict, Store
from sitewatch.training.history import COLUMNS, MANIFEST, TRAINING_DIR
from sitewatch.training.site_model import SiteScores, worse_on
from sitewatch.video.probe import probe

REPO = Path(__file__).resolve().parents[1]
TRAIN = REPO.parent / "shared" / "data" / "train"
# A few short clips of three sources: the shared corpus, cut down so the nested CV takes a minute or two.
CORPUS_GROUPS = ("punpayut/Fall-Detection", "Xinchan233/term-cv", "gmdcsa24-subject4")
# The site's camera: another source's clips, as if its incidents had been recorded there.
SITE_CLIPS = {"tr028_gmdcsa24_s1.mp4": ReviewVerdict.confirmed, "tr036_gmdcsa24_s1.mp4": ReviewVerdict.confirmed,
              "tr004_gmdcsa24_s1.mp4": ReviewVerdict.false_alarm, "tr016_gmdcsa24_s1.mp4": ReviewVerdict.false_alarm}
START = datetime(2026, 11, 2, 7, 0, tzinfo=timezone.utc)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (TRAIN / "MANIFEST.csv").is_file(), reason=f"the training corpus {TRAIN} is not here"),
]


def _train_rows() -> list[dict[str, str]]:
    with (TRAIN / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _incident(store: Store, clip: Path, kind: EventKind, fall_s: float, n: int) -> str:
    """A camera incident whose clip (a real one) was analysed and kept, as the watcher leaves it."""
    at = START + timedelta(hours=n)
    event = Event(kind=kind, start_s=fall_s, end_s=fall_s + 1.0, confidence=0.7, keyframe_s=fall_s + 0.5)
    report = Report(verdict=Verdict.accident, confidence=0.7, events=[event], detector="pose (fps 6)",
                    video=probe(clip))
    request = AnalysisRequest(site="plant-3", camera="dock-1", lang="en")
    analysis = save_analysis(store, clip, report, request, Source.camera)
    incident = store.add_incident(IncidentRecord(
        id=uuid.uuid4().hex, camera="dock-1", site="plant-3", kind=kind, confidence=0.7, started_at=at,
        detected_at=at, stream_s=100.0 + n, event=event, updated_at=at), lambda _: [])
    store.link_incident(incident.id, analysis, lambda _: [], report)
    return incident.id


def test_train_from_history_exports_the_reviews_scores_before_and_after_and_keeps_a_model_only_if_not_worse(
    tmp_path: Path,
) -> None:
    rows = {row["file"]: row for row in _train_rows()}
    data = tmp_path / "data"
    store = Store.open(Settings(data_dir=data))
    ids: dict[str, str] = {}
    try:
        for n, (name, verdict) in enumerate(SITE_CLIPS.items()):
            row = rows[name]
            # A false alarm's clip still holds what the detector took for a fall (here: a second in).
            fall_s = float(row["fall_start_s"]) if row["label"] == "fall" else 1.0
            ids[name] = _incident(store, TRAIN / name, EventKind.fall, fall_s, n)
            store.review_incident(ids[name], ReviewRequest(verdict=verdict, note="checked on the floor"))
        dropped = _incident(store, TRAIN / "tr053_gmdcsa24_s4.mp4", EventKind.object_drop, 1.0, 10)
        store.review_incident(dropped, ReviewRequest(verdict=ReviewVerdict.confirmed))
        unreviewed = _incident(store, TRAIN / "tr044_gmdcsa24_s4.mp4", EventKind.fall, 1.0, 11)
    finally:
        store.close()

    corpus = tmp_path / "corpus.csv"
    with corpus.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(next(iter(rows.values()))))
        writer.writeheader()
        writer.writerows({**row, "file": str(TRAIN / row["file"])} for row in rows.values()
                         if row["group"] in CORPUS_GROUPS)
    env = {**os.environ, "SITEWATCH_DATA_DIR": str(data)}
    env.pop("SITEWATCH_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "sitewatch", "train", "--from-history", "--site", "plant-3", "--corpus", str(corpus),
         "--json", "--lang", "en"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    scores = SiteScores.model_validate(json.loads(done.stdout))

    # The manifest: the corpus's own columns, one row per reviewed fall incident, the site as one group.
    manifest = data / TRAINING_DIR / "site-plant-3" / MANIFEST
    assert f"4 reviewed clips (2 falls, 2 false alarms) exported to {manifest}" in done.stderr
    with manifest.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        exported = {row["path_in_repo"].removeprefix("incidents/"): row for row in reader}
        assert tuple(reader.fieldnames or ()) == COLUMNS == tuple(next(iter(rows.values())))
    assert set(exported) == set(ids.values()), "the object drop and the unreviewed fall are not training clips"
    assert f"left out {dropped}: not a person falling" in done.stderr and unreviewed not in done.stderr
    for name, verdict in SITE_CLIPS.items():
        row = exported[ids[name]]
        assert row["group"] == "site:plant-3" and (manifest.parent / row["file"]).is_file()
        if verdict is ReviewVerdict.confirmed:
            assert row["label"] == "fall" and float(row["fall_start_s"]) == pytest.approx(
                float(rows[name]["fall_start_s"]))
        else:
            assert row["label"] == "no_fall" and row["fall_start_s"] == ""

    # The scores: both comparisons made, each a real number, and the decision follows them.
    assert scores.site_clips == 4 and scores.corpus_groups == len(CORPUS_GROUPS)
    for value in (scores.corpus_before, scores.corpus_after, scores.site_before, scores.site_after):
        assert 0.0 <= value <= 1.0
    assert scores.written == (not worse_on(scores)) and scores.worse == worse_on(scores)
    path = model_file(data / MODELS_DIR, "site", "plant-3")
    assert path.exists() == scores.written
    if scores.written:
        assert scores.model_path == str(path)
        chosen = SiteModels(data / MODELS_DIR).choose("plant-3", "dock-1")
        assert chosen.version.name == "site-plant-3" and chosen.version.trained_at is not None
        assert json.loads(path.read_text())["meta"]["site"] == "plant-3"
    print(f"train --from-history: corpus {scores.corpus_before:.3f} -> {scores.corpus_after:.3f}, site "
          f"{scores.site_right_before}/4 -> {scores.site_right_after}/4, written {scores.written}")


def test_a_model_worse_on_either_score_is_not_kept() -> None:
    base = {"target": "site-x", "corpus": "c", "site_manifest": "m", "site_clips": 4, "corpus_groups": 3,
            "site_right_before": 2, "site_right_after": 3, "written": False}
    better = SiteScores(**base, corpus_before=0.7, corpus_after=0.7, site_before=0.5, site_after=0.75)
    assert worse_on(better) == []
    assert worse_on(better.model_copy(update={"corpus_after": 0.69})) == ["corpus"]
    assert worse_on(better.model_copy(update={"site_after": 0.25})) == ["site"]


def test_train_needs_from_history_and_a_site_or_camera(tmp_path: Path) -> None:
    env = {**os.environ, "SITEWATCH_DATA_DIR": str(tmp_path / "data"), "SITEWATCH_LANG": "en"}
    for args, said in ((["train", "--site", "x"], "--from-history"),
                       (["train", "--from-history"], "name the site (--site) or the camera (--camera)"),
                       (["train", "--from-history", "--site", "a#b"], "--site"),
                       (["train", "--from-history", "--camera", "none-here"], "has no reviewed fall incident")):
        done = subprocess.run([sys.executable, "-m", "sitewatch", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 2 and said in done.stderr, (args, done.stderr[-500:])
