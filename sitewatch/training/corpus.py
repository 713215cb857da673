"""Labelled clips and their cached observations, one pose pass per clip and picture variant."""

from __future__ import annotations

import csv
import functools
import hashlib
import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitewatch.detect.observe import Observer, Recording
from sitewatch.detect.pose import MoveNet

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]
TRAIN_MANIFEST = REPO.parent / "shared" / "data" / "train" / "MANIFEST.csv"
DEV_MANIFEST = REPO.parent / "shared" / "data" / "videos" / "MANIFEST.csv"
# Long normal footage (no falls): negatives inside the folds, and false alarms per hour.
NORMAL_MANIFEST = REPO.parent / "shared" / "data" / "normal" / "MANIFEST.csv"
DEFAULT_INPUT = 320  # the detector's pose input (long side), as in LearnedDetector
# Bump when the observation (pose input, frame size, rate) changes, so stale caches are not reused.
CACHE_VERSION = "v4"  # v4: a sparse-reference source is no longer read with pictures repeated


def cache_dir() -> Path:
    """Where observations are cached (outside the repository): $SITEWATCH_FEATURES or ~/.cache."""
    default = Path.home() / ".cache" / "sitewatch" / "features"
    return Path(os.environ.get("SITEWATCH_FEATURES", default))


@dataclass(frozen=True)
class Clip:
    """One labelled clip of a manifest."""

    path: Path
    label: str  # fall | no_fall | other
    fall_start_s: float | None
    group: str
    event_type: str
    setting: str
    duration_s: float

    @property
    def name(self) -> str:
        """The file name."""
        return self.path.name


def read_clips(manifest: Path, videos: Path | None = None) -> list[Clip]:
    """Clips of a manifest (videos beside it unless `videos`); without a `group` column the source
    repository (or the file) is the group."""
    folder = videos or manifest.parent
    with manifest.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [
        Clip(
            path=folder / row["file"],
            label=row["label"].strip(),
            fall_start_s=float(row["fall_start_s"]) if (row.get("fall_start_s") or "").strip() else None,
            group=(row.get("group") or row.get("source_repo") or row["file"]).strip(),
            event_type=(row.get("event_type") or "").strip(),
            setting=(row.get("setting") or "").strip(),
            duration_s=float(row.get("duration_s") or 0.0),
        )
        for row in rows
    ]


Transform = Callable[[np.ndarray], np.ndarray]


def _far(image: np.ndarray, seed: int) -> np.ndarray:
    """The frame shrunk into one quarter of a same-size canvas: people half as tall, at half the pixels."""
    import cv2

    h, w = image.shape[:2]
    canvas = np.empty_like(image)
    canvas[:] = image.reshape(-1, 3).mean(axis=0).astype(np.uint8)
    small = cv2.resize(image, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    y, x = (seed % 2) * (h - h // 2), ((seed // 2) % 2) * (w - w // 2)
    canvas[y : y + h // 2, x : x + w // 2] = small
    return canvas


def _small(image: np.ndarray) -> np.ndarray:
    """A low-resolution camera: long side 240 pixels, blurred by the down and up scaling of its encoder."""
    import cv2

    h, w = image.shape[:2]
    scale = 240 / max(h, w)
    return cv2.resize(image, (max(2, round(w * scale)), max(2, round(h * scale))), interpolation=cv2.INTER_AREA)


def _portrait(image: np.ndarray, centre_x: float) -> np.ndarray:
    """A 9:16 strip of a landscape frame around where the people were, as from a portrait camera."""
    h, w = image.shape[:2]
    strip = min(w, round(h * 9 / 16))
    x = int(np.clip(centre_x * w - strip / 2, 0, w - strip))
    return np.ascontiguousarray(image[:, x : x + strip])


# A fisheye lens: `benchmarks/detect.py --lens` films dev and the normal footage through it. Not a training
# variant: fitted on it too (round 6), the recipe scored the same out of fold, raised one more alarm on the
# normal footage, and did no better through the lens.
FISHEYE_K = 1.0  # the lens's bend: the middle is shown tan(K) / K times larger (1.56x), the corners 2.2x smaller


@functools.lru_cache(maxsize=8)
def _fisheye_maps(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Where each pixel of a fisheye picture comes from in the flat one (corners stay corners)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    cx, cy = (width - 1) / 2, (height - 1) / 2
    dx, dy = x - cx, y - cy
    r = np.hypot(dx, dy) / max(math.hypot(cx, cy), 1e-9)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(r > 1e-6, np.tan(FISHEYE_K * r) / (math.tan(FISHEYE_K) * r), FISHEYE_K / math.tan(FISHEYE_K))
    return (cx + dx * scale).astype(np.float32), (cy + dy * scale).astype(np.float32)


def fisheye(image: np.ndarray) -> np.ndarray:
    """The frame as a doorbell or ceiling fisheye lens bends it: straight lines bow, people near the edges
    are squeezed and tilted, those in the middle are larger."""
    import cv2

    map_x, map_y = _fisheye_maps(*image.shape[:2])
    return cv2.remap(image, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


@dataclass(frozen=True)
class Occluder:
    """A flat box standing in front of the people (a counter, a parked cart): normalised x1, y1, x2, y2."""

    box: tuple[float, float, float, float]
    colour: tuple[int, int, int]


def occluder(recording: Recording, seed: int) -> Occluder | None:
    """A box over the lower part of where the clip's people stand, so a body going down may end behind it
    (None when nobody was seen). Placed from the unaltered recording: the same box on every frame."""
    boxes = np.array([p.box for o in recording.observations for p in o.people], np.float32)
    if not len(boxes):
        return None
    rng = np.random.default_rng(seed)
    left, right = float(np.percentile(boxes[:, 0], 10)), float(np.percentile(boxes[:, 2], 90))
    floor = float(np.percentile(boxes[:, 3], 90))
    height = float(np.median(boxes[:, 3] - boxes[:, 1]))
    width = max(rng.uniform(0.4, 0.7) * (right - left), float(np.median(boxes[:, 2] - boxes[:, 0])))
    x1 = rng.uniform(left, max(left, right - width))
    top = floor - rng.uniform(0.35, 0.65) * height
    grey = int(rng.integers(30, 200))
    colour = tuple(int(np.clip(grey + rng.integers(-20, 21), 0, 255)) for _ in range(3))
    return Occluder((x1, top, x1 + width, min(1.0, floor + 0.15 * height)), colour)  # type: ignore[arg-type]


def occlude(image: np.ndarray, cover: Occluder) -> np.ndarray:
    """The frame with `cover` painted over it (a copy)."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = cover.box
    out = image.copy()
    out[max(0, round(y1 * h)) : max(0, round(y2 * h)), max(0, round(x1 * w)) : max(0, round(x2 * w))] = cover.colour
    return out


def people_centre_x(recording: Recording) -> float:
    """Mean horizontal centre of everyone the pose model saw (0.5 with nobody)."""
    xs = [float(p.box[0] + p.box[2]) / 2 for o in recording.observations for p in o.people]
    return float(np.mean(xs)) if xs else 0.5


# "shifted" is the clip as filmed, read half a step later: a camera's frames fall at any phase of the detector's
# ticks, and a fall seen on one set of frames must not vanish on the next.
VARIANTS = ("orig", "shifted", "far", "small", "portrait")
# Occlusion synthesised on the pixels, then pose again, so the pose noise is the real model's (round 16:
# `train_detector.py --occluded`).
OCCLUDED = "occluded"
_FROM_ORIG = ("portrait", OCCLUDED)  # variants placed from where the unaltered recording saw the people


def name_seed(name: str) -> int:
    """A seed of its own for each clip name, the same in every run."""
    return int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def record(clip: Clip, variant: str, fps: float, pose: MoveNet, orig: Recording | None = None) -> Recording | None:
    """Run pose and motion over one clip's frames (the detector's reading path) under a picture variant."""
    from sitewatch.video.decode import FrameReader, Size
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import fps_plan

    info = probe(clip.path)
    transform: Transform
    start_s = 0.5 / fps if variant == "shifted" else 0.0  # the same picture, read half a step later
    if variant in ("orig", "shifted"):
        transform = lambda image: image  # noqa: E731
    elif variant == "far":
        seed = name_seed(clip.name)
        transform = lambda image: _far(image, seed)  # noqa: E731
    elif variant == "small":
        transform = _small
    elif variant == "portrait":
        if info.height >= info.width or orig is None:
            return None  # already portrait: nothing to imitate
        centre = people_centre_x(orig)
        transform = lambda image: _portrait(image, centre)  # noqa: E731
    elif variant == OCCLUDED:
        cover = occluder(orig, name_seed(clip.name)) if orig is not None else None
        if cover is None:
            return None
        transform = lambda image: occlude(image, cover)  # noqa: E731
    else:
        raise ValueError(f"unknown variant {variant!r}")
    reader = FrameReader(clip.path, fps_plan(info, fps, start_s), size=Size(max_side=640), approximate=True)
    observer = Observer(pose)
    recording: Recording | None = None
    for frame in reader:
        image = transform(frame.image)
        if recording is None:
            recording = Recording(image.shape[1], image.shape[0])
        recording.observations.append(observer(image, frame.time_s))
    return recording


def cached_recording(clip: Clip, variant: str, fps: float, pose: MoveNet) -> Recording | None:
    """The clip's recording under `variant` (and the pose model's input size), from the cache or made now."""
    # Files are told apart by their folder as well as their name.
    where = hashlib.sha256(str(clip.path.resolve().parent).encode()).hexdigest()[:10]
    sized = variant if pose.long_side == DEFAULT_INPUT else f"{variant}-input{pose.long_side}"
    folder = cache_dir() / f"{CACHE_VERSION}-fps{fps:g}" / sized / where
    path = folder / f"{clip.path.stem}.npz"
    skipped = path.with_suffix(".none")
    if path.exists():
        return Recording.load(path)
    if skipped.exists():
        return None
    orig = None
    if variant in _FROM_ORIG:  # placed from the unaltered recording at the detector's own input (mostly cached)
        unaltered = pose if pose.long_side == DEFAULT_INPUT else MoveNet(long_side=DEFAULT_INPUT)
        orig = cached_recording(clip, "orig", fps, unaltered)
    recording = record(clip, variant, fps, pose, orig)
    folder.mkdir(parents=True, exist_ok=True)
    if recording is None:
        skipped.touch()
    else:
        recording.save(path)
        log.info("recorded %s/%s: %d frames", variant, clip.name, len(recording.observations))
    return recording
