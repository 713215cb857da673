"""The detectors: registry, rules on synthetic poses, and known positives and hard negatives on real clips.

`pose` is the learned default; `pose-rules` the hand-set rules it replaced, kept for comparison.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

from sitewatch.detect import detector_names, get_detector
from sitewatch.detect.base import Detection, first_accident_s, verdict_for
from sitewatch.detect.fall import FallRules
from sitewatch.detect.pose import Person
from sitewatch.detect.track import Tracker
from sitewatch.errors import MissingExtraError
from sitewatch.schema import EventKind, Verdict

VIDEOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos"
SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "synthetic_trip.mp4"
needs_videos = pytest.mark.skipif(not VIDEOS.is_dir(), reason=f"real test videos not found at {VIDEOS}")

FRAME_ASPECT = 16 / 9


def standing(x: float, top: float, height: float = 0.45) -> Person:
    """A synthetic upright person whose box starts at `top`."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    kp[:, 0] = x
    kp[:, 1] = np.linspace(top + 0.02, top + height - 0.02, 17)
    kp[[5, 6], 1], kp[[11, 12], 1] = top + 0.1 * height / 0.45, top + 0.22 * height / 0.45
    kp[[5, 11], 0], kp[[6, 12], 0] = x - 0.02, x + 0.02
    box = np.array([x - 0.05, top, x + 0.05, top + height], np.float32)
    return Person(box=box, keypoints=kp, score=0.6)


def lying(x: float, y: float) -> Person:
    """A synthetic person lying horizontally around height `y`."""
    kp = np.zeros((17, 3), np.float32)
    kp[:, 2] = 0.8
    kp[:, 0] = np.linspace(x - 0.18, x + 0.18, 17)
    kp[:, 1] = y
    kp[[5, 6], 0], kp[[11, 12], 0] = x - 0.1, x + 0.02
    box = np.array([x - 0.2, y - 0.05, x + 0.2, y + 0.05], np.float32)
    return Person(box=box, keypoints=kp, score=0.5)


def replay(sequence: list[tuple[float, list[Person]]]):
    tracker, rules = Tracker(), FallRules(FRAME_ASPECT)
    for t, people in sequence:
        rules.update(t, tracker.update(people, t), set(tracker.tracks))
    return rules.finish(sequence[-1][0])


def frames(start: float, end: float, fps: float = 6.0) -> list[float]:
    return [round(start + k / fps, 3) for k in range(int((end - start) * fps))]


def test_registry() -> None:
    assert {"pose", "pose-rules"} <= set(detector_names())
    with pytest.raises(ValueError, match="unknown detector"):
        get_detector("nope")


def test_missing_extra_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    from sitewatch.detect.pose import MoveNet

    monkeypatch.setitem(sys.modules, "ai_edge_litert.interpreter", None)
    with pytest.raises(MissingExtraError, match=r"sitewatch\[detect\]"):
        MoveNet()


def test_quick_fall_then_lying_is_a_fall_and_person_down() -> None:
    seq = [(t, [standing(0.5, 0.2)]) for t in frames(0, 3)]
    seq += [(t, [lying(0.5, 0.62)]) for t in frames(3.3, 9)]
    events = replay(seq)
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.fall, EventKind.person_down]
    fall = events[0]
    assert 2.5 <= fall.start_s <= 3.3 and fall.confidence >= 0.5 and fall.people == [1]
    assert fall.box is not None and fall.end_s >= 8.5


def test_lying_all_along_is_only_worth_a_look() -> None:
    events = replay([(t, [lying(0.5, 0.6)]) for t in frames(0, 20)])
    assert [e.kind for e in events] == [EventKind.person_down]
    assert events[0].confidence < 0.5
    assert verdict_for(events) == Verdict.uncertain


def test_slow_lying_down_is_not_a_fall() -> None:
    seq = [(t, [standing(0.5, 0.2)]) for t in frames(0, 3)]
    seq += [(t, []) for t in frames(3, 6)]  # out of sight for a while, then found lying
    seq += [(t, [lying(0.5, 0.62)]) for t in frames(6, 8)]
    assert [e for e in replay(seq) if e.kind == EventKind.fall] == []


def test_bending_and_getting_up_is_quiet() -> None:
    seq = [(t, [standing(0.5, 0.2)]) for t in frames(0, 3)]
    seq += [(t, [lying(0.5, 0.45)]) for t in frames(3.2, 3.7)]
    seq += [(t, [standing(0.5, 0.2)]) for t in frames(3.7, 6)]
    assert replay(seq) == []


def test_signals_are_binned() -> None:
    from sitewatch.detect.signals import BinnedSignal

    peak, mean = BinnedSignal("peak", step_s=0.5), BinnedSignal("mean", step_s=0.5, how="mean")
    for t, v in [(0.0, 1.0), (0.2, 3.0), (0.6, 2.0), (1.7, 4.0)]:
        peak.add(t, v)
        mean.add(t, v)
    assert (peak.series().times_s, peak.series().values) == ([0.0, 0.5, 1.5], [3.0, 2.0, 4.0])
    assert mean.series().values == [2.0, 2.0, 4.0]


def test_two_people_keep_their_tracks() -> None:
    tracker = Tracker()
    for t in frames(0, 2):
        seen = tracker.update([standing(0.2 + 0.05 * t, 0.2), standing(0.8 - 0.05 * t, 0.3)], t)
    assert sorted(track.track_id for track in seen) == [1, 2]


def test_someone_who_left_through_the_side_is_not_found_again_away_from_it() -> None:
    """A walker leaves through the right side; a detection away from it that does not overlap them, half a
    second or a frame later, is not them (it was a table's base through a fisheye), while one lying across
    that side, or one overlapping where they stood, still is."""

    def ids(last: Person, gap: bool = True) -> tuple[int, int]:
        tracker = Tracker()
        out = [tracker.update([standing(x, 0.2)], t)[0].track_id for t, x in ((0.0, 0.8), (0.17, 0.88), (0.33, 0.96))]
        if gap:
            tracker.update([], 0.5)
            tracker.update([], 0.67)
        return out[-1], tracker.update([last], 0.83)[0].track_id

    walker, other = ids(lying(0.6, 0.8))
    assert walker != other
    assert len(set(ids(lying(0.82, 0.8)))) == 1  # lying across the side they left by
    assert len(set(ids(standing(0.9, 0.2), gap=False))) == 1  # stepping back in
    assert len(set(ids(lying(0.6, 0.8), gap=False))) == 2  # the next frame, far from where they stood
    assert len(set(ids(lying(0.75, 0.6), gap=False))) == 1  # going down where they stood


def _scene(n: int, seed: int = 0) -> list[np.ndarray]:
    """`n` RGB frames (180x320) of one textured background, as from a fixed camera."""
    import cv2

    rng = np.random.default_rng(seed)
    texture = cv2.GaussianBlur(rng.integers(0, 255, (180, 640), dtype=np.uint8), (9, 9), 0)
    return [cv2.cvtColor(texture[:, :320].copy(), cv2.COLOR_GRAY2RGB) for _ in range(n)]


def _drops(images: list[np.ndarray], fps: float = 6.0) -> list:
    from sitewatch.detect.objects import FallingObjects

    objects = FallingObjects()
    for index, image in enumerate(images):
        objects.update(index / fps, image, [])
    return objects.finish()


def test_a_load_dropping_into_a_still_scene_is_an_object_drop() -> None:
    images = _scene(30)
    for k, image in enumerate(images[18:24]):
        top = 5 + 2 * k * k + 8 * k  # accelerating, in pixels of the 180-pixel frame
        image[top : top + 30, 120:220] = (220, 200, 40)
        image[top : top + 30 : 6, 120:220] = 0  # stripes give the flow something to follow
    events = _drops(images)
    assert [e.kind for e in events] == [EventKind.object_drop]
    assert 2.9 <= events[0].start_s <= 3.5 and events[0].confidence >= 0.5


def test_a_still_scene_or_a_pan_is_no_object_drop() -> None:
    still = _scene(30)
    pan = [np.roll(image, 6 * k, axis=1) for k, image in enumerate(_scene(30, seed=1))]
    assert _drops(still) == []
    assert _drops(pan) == []


def _manifest() -> dict[str, dict[str, str]]:
    with (VIDEOS / "MANIFEST.csv").open(newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def _runner(detector_name: str):
    from sitewatch.service.assess import run_detector
    from sitewatch.settings import Settings
    from sitewatch.video.probe import probe

    detector = get_detector(detector_name)

    def run(path: Path) -> Detection:
        # The very reading path `sitewatch analyze` uses.
        return run_detector(path, probe(path), detector, Settings(_env_file=None)).detection

    return run


@pytest.fixture(scope="module")
def detect():
    run = _runner("pose")
    return lambda name: run(VIDEOS / name)


POSITIVES = [
    "dev01_sriram2226.mp4",  # warehouse slip, stock footage
    # UR Fall, depth | RGB side by side; the fall ends cut by the picture's edge. Round 4's recipe waited 0.5 s
    # before such a body pages and reported it as a possible accident; round 5's waits 0.3 s.
    "dev05_cwlroda_b.mp4",
    "dev09_thanhnc58.mp4",  # portrait phone video
    "dev10_cwlroda_d.mp4",  # collapse in a lift, CCTV
    # Struck by a branch and knocked down, overhead CCTV, several people: missed by rounds 2 and 3, found by
    # round 4's model, missed again by the refits of rounds 5 and 7 (dev is never tuned on). Expected to fail
    # until a model finds it again.
    pytest.param(
        "dev11_cwlroda_e.mp4", marks=pytest.mark.xfail(strict=True, reason="rounds 5 and 7 miss this knock-down")
    ),
    "dev03_yihong1120.mp4",  # a load of beams drops in a construction yard; few people seen
]
NEGATIVES = [
    "dev21_taufeeque9_b.mp4",  # lies on a mat for the whole clip
    "dev22_taufeeque9_c.mp4",  # bends to pick something up: rounds 2 to 5 alarmed on it, round 7 is quiet
    "dev28_pllava_yoga.mp4",  # yoga flow on the ground
    "dev15_felix_kevin14.mp4",  # crowd squatting at a briefing
    "dev19_cwlroda_f.mp4",  # square with pedestrians and cyclists passing
    "dev16_dandia_k.mp4",  # machine fixture moving a part, no people
    "dev18_safestep_telos_a.mp4",  # crowd walking, seen from high above
]


@pytest.mark.slow
@needs_videos
@pytest.mark.parametrize("name", POSITIVES)
def test_known_falls_are_found_on_time(detect, name: str) -> None:
    found = detect(name)
    assert verdict_for(found.events) == Verdict.accident, [e.model_dump() for e in found.events]
    first = first_accident_s(found.events)
    assert first is not None
    assert abs(first - float(_manifest()[name]["fall_start_s"])) <= 2.0
    assert found.people_max >= 1 and found.frames_seen > 0
    assert {s.name for s in found.signals} >= {"fallness", "motion_energy", "people"}


@pytest.mark.slow
@needs_videos
@pytest.mark.parametrize("name", NEGATIVES)
def test_hard_negatives_stay_quiet(detect, name: str) -> None:
    found = detect(name)
    assert verdict_for(found.events) != Verdict.accident, [e.model_dump() for e in found.events]


@pytest.mark.slow
@needs_videos
@pytest.mark.parametrize("start_s", [0.0, 1 / 12, 1.0], ids=["from-the-start", "half-a-step-later", "a-second-late"])
def test_a_fall_is_found_whichever_frames_are_read(start_s: float) -> None:
    """A camera's frames fall at any phase of the detector's ticks, and a watch starts whenever it starts:
    neither may decide whether the warehouse slip is found (a late RTSP start once lost it)."""
    from sitewatch.video.decode import FrameReader, Size
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import fps_plan

    path = VIDEOS / "dev01_sriram2226.mp4"
    detector, info = get_detector("pose"), probe(path)
    reader = FrameReader(path, fps_plan(info, detector.fps, start_s), size=Size(max_side=detector.max_side))
    found = detector.run(reader, info)
    assert verdict_for(found.events) == Verdict.accident, [e.model_dump() for e in found.events]
    first = first_accident_s(found.events)
    assert first is not None and abs(first - float(_manifest()[path.name]["fall_start_s"])) <= 2.0


@pytest.mark.slow
def test_the_sample_whose_figure_is_lost_mid_fall_is_not_called_safe() -> None:
    """The drawn worker tilts, drops and vanishes from the pose model: a look, never a confident all-clear."""
    from sitewatch.service.assess import analyze
    from sitewatch.settings import Settings

    report = analyze(SAMPLE, Settings(_env_file=None))
    assert report.verdict is not Verdict.no_accident
    lost = [e for e in report.events if e.kind is EventKind.person_lost_after_fall]
    assert lost and 3.5 <= lost[0].start_s <= 5.0


@pytest.mark.slow
@needs_videos
def test_the_rule_detector_is_still_there_to_compare() -> None:
    found = _runner("pose-rules")(VIDEOS / "dev05_cwlroda_b.mp4")
    assert verdict_for(found.events) == Verdict.accident and found.accident_probability is None


@pytest.mark.slow
@needs_videos
def test_the_learned_detector_reports_a_calibrated_probability(detect) -> None:
    fall, quiet = detect("dev10_cwlroda_d.mp4"), detect("dev21_taufeeque9_b.mp4")
    assert fall.accident_probability is not None and quiet.accident_probability is not None
    assert fall.accident_probability >= 0.5 > quiet.accident_probability
    assert {s.name for s in fall.signals} >= {"fallness", "motion_energy", "people", "falling_object"}
