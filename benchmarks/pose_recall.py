"""How often pose finds a person who is lying, small or seen from above, on frames labelled by eye.

The labels (`benchmarks/data/pose_labels.json`) are people boxes drawn on single frames of the shared
clips. Each frame is decoded as the detector decodes it (640 pixels on the long side) and MoveNet
MultiPose runs on it in several ways, side by side:

- the detector's pass (320-pixel input: the shipped setting), and bigger inputs (448, 640);
- the 320 pass plus 2x2 overlapping tiles at 320 (small people are four times bigger in a tile);
- the 320 pass plus a 320 pass on an enlarged crop around each labelled person (`320+crops*`: what a second
  pass around a tracked or just-lost person would see; the crop comes from the label, so this is an upper
  bound);
- the 320 pass plus the detector's own second look (`relook.py`, as shipped: a 192-pixel pass on a crop
  around someone seen a moment ago and missing now, only where it sees at least 1.5x finer), every labelled
  person taken as seen a moment before (`320+second look*`: again an upper bound on what the tracker hands it).

A labelled person is found when a detection overlaps it (IoU >= 0.25, or each box holds the other's
centre). Recall per kind and view, and milliseconds of pose per frame, are printed.

    python benchmarks/pose_recall.py [--labels PATH] [--data DIR] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from rich.console import Console
from rich.table import Table

from sitewatch.detect.pose import MoveNet, Person
from sitewatch.detect.relook import MISSED_FRAMES, Relook
from sitewatch.video.decode import Size

REPO = Path(__file__).resolve().parents[1]
LABELS = REPO / "benchmarks" / "data" / "pose_labels.json"
DATA = REPO.parent / "shared" / "data"
MAX_SIDE = 640  # the detector's decode size
TILE = 0.6  # each tile spans this share of the frame on each side (tiles overlap by a fifth)
CROP_GROW = 2.0  # a crop around a person is this many times their box, on each side

Box = tuple[float, float, float, float]
Finder = Callable[[np.ndarray, list[Box]], list[Box]]


def frame_at(path: Path, time_s: float) -> np.ndarray:
    """The first frame at or after `time_s`, sized as the detector decodes it."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.time is not None and frame.time >= time_s:
                width, height = Size(max_side=MAX_SIDE).resolve(frame.width, frame.height)
                return frame.to_ndarray(width=width, height=height, format="rgb24")
    raise ValueError(f"{path} has no frame at {time_s} s")


def _boxes(people: list[Person]) -> list[Box]:
    return [tuple(float(v) for v in p.box) for p in people]  # type: ignore[misc]


def _in_region(image: np.ndarray, region: Box, pose: MoveNet) -> list[Box]:
    """Pose on one region of the frame, boxes mapped back to the whole frame."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = region
    crop = image[int(y1 * height):int(y2 * height), int(x1 * width):int(x2 * width)]
    if min(crop.shape[:2]) < 16:
        return []
    return [(x1 + a * (x2 - x1), y1 + b * (y2 - y1), x1 + c * (x2 - x1), y1 + d * (y2 - y1))
            for a, b, c, d in _boxes(pose(crop))]


def _tiles() -> list[Box]:
    starts = (0.0, 1.0 - TILE)
    return [(x, y, x + TILE, y + TILE) for x in starts for y in starts]


def _around(box: Box) -> Box:
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half = max(box[2] - box[0], box[3] - box[1]) * CROP_GROW / 2
    return (max(0.0, cx - half), max(0.0, cy - half), min(1.0, cx + half), min(1.0, cy + half))


def finders() -> dict[str, Finder]:
    """The ways pose is run, by name."""
    base, big, bigger = MoveNet(long_side=320), MoveNet(long_side=448), MoveNet(long_side=640)
    return {
        "320 shipped": lambda image, _: _boxes(base(image)),
        "448": lambda image, _: _boxes(big(image)),
        "640": lambda image, _: _boxes(bigger(image)),
        "320+tiles": lambda image, _: _boxes(base(image)) + [
            b for tile in _tiles() for b in _in_region(image, tile, base)],
        "320+crops*": lambda image, labelled: _boxes(base(image)) + [
            b for box in labelled for b in _in_region(image, _around(box), base)],
        "320+second look*": lambda image, labelled: _second_look(image, labelled, base),
    }


def _second_look(image: np.ndarray, labelled: list[Box], pose: MoveNet) -> list[Box]:
    """The whole-frame pass, then the detector's second look around each labelled person not found by it."""
    relook = Relook(pose)
    relook(image, 0.0, [Person(box=np.array(b, np.float32), keypoints=np.zeros((17, 3), np.float32), score=1.0)
                        for b in labelled])
    whole = pose(image)
    people = list(whole)
    # As the detector: a look from a person's second missing frame on, one every other frame at most. Enough
    # frames for each labelled person to get theirs.
    for _ in range(MISSED_FRAMES + 2 * len(labelled)):
        people = relook(image, 0.1, people)
    return _boxes(people)


def _iou(a: Box, b: Box) -> float:
    w, h = min(a[2], b[2]) - max(a[0], b[0]), min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _holds(box: Box, other: Box) -> bool:
    cx, cy = (other[0] + other[2]) / 2, (other[1] + other[3]) / 2
    return box[0] <= cx <= box[2] and box[1] <= cy <= box[3]


def found(label: Box, detections: list[Box]) -> bool:
    """Whether any detection is this labelled person."""
    return any(_iou(label, d) >= 0.25 or (_holds(label, d) and _holds(d, label)) for d in detections)


def measure(labels: dict, data: Path) -> dict[str, dict]:
    """Recall by kind and by view, and pose milliseconds per frame, for every finder."""
    frames = [(f, frame_at(data / f["clip"], f["time_s"])) for f in labels["frames"]]
    results: dict[str, dict] = {}
    for name, finder in finders().items():
        hits: dict[str, list[bool]] = defaultdict(list)
        started = time.perf_counter()
        for meta, image in frames:
            boxes = [tuple(p["box"]) for p in meta["people"]]
            detections = finder(image, boxes)
            for person, box in zip(meta["people"], boxes, strict=True):
                ok = found(box, detections)
                for key in ("all", f"kind: {person['kind']}", f"view: {meta['view']}"):
                    hits[key].append(ok)
        ms = (time.perf_counter() - started) * 1000 / len(frames)
        results[name] = {"ms_per_frame": round(ms, 1),
                         "recall": {k: [sum(v), len(v)] for k, v in sorted(hits.items())}}
    return results


def show(results: dict[str, dict]) -> None:
    """The side-by-side table."""
    names = list(results)
    table = Table(title="pose recall on frames labelled by eye (found / labelled)")
    table.add_column("people")
    for name in names:
        table.add_column(name, justify="right")
    for key in results[names[0]]["recall"]:
        cells = []
        for name in names:
            hit, total = results[name]["recall"][key]
            cells.append(f"{hit}/{total} ({hit / total:.0%})")
        table.add_row(key, *cells)
    table.add_row("pose ms per frame", *(f"{results[n]['ms_per_frame']:.0f}" for n in names))
    Console().print(table)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    results = measure(json.loads(args.labels.read_text()), args.data)
    show(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
