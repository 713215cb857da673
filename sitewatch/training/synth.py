"""Synthetic people for training: stick bodies that walk, bend, sit, lie down or fall, filmed by random
cameras (height, tilt, distance, field of view, fisheye, picture shape) with the pose model's noise.

Where real footage runs out (high and top-down cameras, fisheyes, walkers seen from above), these
recordings add pose sequences of the same kinds of motion. They are fitted on and never scored.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sitewatch.detect.observe import Observation, Recording
from sitewatch.detect.pose import Person
from sitewatch.training.corpus import Clip

FPS = 6.0
MIN_SCORE = 0.15  # the pose wrapper's floor: weaker people are never reported
# All synthetic scenes are one group, so together they weigh like one real source.
GROUP = "synthetic"
# Camera kinds: (name, height m, distance m, fisheye share).
CAMERAS: tuple[tuple[str, tuple[float, float], tuple[float, float], float], ...] = (
    ("level", (2.0, 3.5), (4.0, 14.0), 0.0),
    ("high", (4.0, 9.0), (2.5, 10.0), 0.0),
    ("fisheye", (2.2, 4.5), (1.5, 6.0), 1.0),
)
FRAMES = ((640, 360), (640, 480), (360, 640), (640, 360))
FALLS = ("trip", "slip", "side", "collapse")
NORMAL = ("walk", "bend", "sit", "lie down", "crouch")


@dataclass
class Pose3:
    """One body at one moment: where it stands, where it faces, and its posture."""

    x: float
    y: float
    heading: float  # radians, the direction the body faces on the ground
    phase: float = 0.0  # gait phase (radians)
    stride: float = 0.0  # leg swing amplitude (radians)
    crouch: float = 0.0  # 0 straight legs .. 1 a deep squat
    lean: float = 0.0  # trunk pitched forward (radians)
    topple: float = 0.0  # the whole body rotated toward the ground (radians, 0 upright)
    topple_dir: float = 0.0  # relative to the heading: 0 forward, pi backward
    pivot_hips: bool = False  # topple about the hips (a collapse) rather than the feet


def _rotate(points: np.ndarray, axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues' rotation of row vectors about a unit axis through the origin."""
    k = axis / np.linalg.norm(axis)
    c, s = math.cos(angle), math.sin(angle)
    return points * c + np.cross(k, points) * s + np.outer(points @ k, k) * (1 - c)


def body_points(pose: Pose3, height: float) -> np.ndarray:
    """The 17 COCO keypoints of a body (world metres, z up)."""
    h = height
    thigh, shin, ankle_z = 0.245 * h, 0.246 * h, 0.04 * h
    knee_bend = 1.9 * pose.crouch
    legs = []
    for side, offset in ((1.0, 0.0), (-1.0, math.pi)):
        swing = pose.stride * math.sin(pose.phase + offset)
        bend = knee_bend + pose.stride * max(0.0, math.sin(pose.phase + offset + 0.6))
        hip_angle = swing + 0.9 * pose.crouch
        knee = np.array([thigh * math.sin(hip_angle), side * 0.09 * h, -thigh * math.cos(hip_angle)])
        ankle = knee + np.array([shin * math.sin(hip_angle - bend), 0.0, -shin * math.cos(hip_angle - bend)])
        legs.append((side, knee, ankle))
    hip_z = ankle_z - min(a[2] for _, _, a in legs)
    pelvis = np.array([0.0, 0.0, hip_z])

    def trunk(v: tuple[float, float, float]) -> np.ndarray:
        x, y, z = v
        c, s = math.cos(pose.lean), math.sin(pose.lean)
        return pelvis + np.array([x * c + z * s, y, -x * s + z * c])

    arm = 0.85 * pose.stride
    points = np.zeros((17, 3))
    points[0] = trunk((0.045 * h, 0.0, 0.42 * h))
    points[1], points[2] = trunk((0.04 * h, 0.025 * h, 0.44 * h)), trunk((0.04 * h, -0.025 * h, 0.44 * h))
    points[3], points[4] = trunk((0.0, 0.06 * h, 0.43 * h)), trunk((0.0, -0.06 * h, 0.43 * h))
    for index, side in ((5, 1.0), (6, -1.0)):
        shoulder = trunk((0.0, side * 0.13 * h, 0.29 * h))
        swing = -side * arm * math.sin(pose.phase) + pose.lean
        elbow = shoulder + 0.186 * h * np.array([math.sin(swing), 0.0, -math.cos(swing)])
        wrist = elbow + 0.146 * h * np.array([math.sin(swing + 0.35), 0.0, -math.cos(swing + 0.35)])
        points[index], points[index + 2], points[index + 4] = shoulder, elbow, wrist
    for side, knee, ankle in legs:
        left = side > 0
        points[11 if left else 12] = pelvis + np.array([0.0, side * 0.09 * h, 0.0])
        points[13 if left else 14] = pelvis + knee
        points[15 if left else 16] = pelvis + ankle
    if pose.topple:
        pivot = pelvis.copy() if pose.pivot_hips else np.array([0.0, 0.0, 0.0])
        direction = np.array([math.cos(pose.topple_dir), math.sin(pose.topple_dir), 0.0])
        axis = np.cross(np.array([0.0, 0.0, 1.0]), direction)
        points = _rotate(points - pivot, axis, pose.topple) + pivot
        points[:, 2] -= min(0.0, points[:, 2].min())  # a body lies on the floor, never under it
    c, s = math.cos(pose.heading), math.sin(pose.heading)
    world = points @ np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]])
    return world + np.array([pose.x, pose.y, 0.0])


@dataclass
class Camera:
    """A pinhole or equidistant-fisheye camera looking down at the ground."""

    position: np.ndarray
    rotation: np.ndarray  # world -> camera (x right, y down, z forward)
    width: int
    height: int
    focal: float  # pixels
    fisheye: bool

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pixel coordinates of world points, and whether each is in front of the camera."""
        cam = (points - self.position) @ self.rotation.T
        front = cam[:, 2] > 0.2
        z = np.maximum(cam[:, 2], 1e-3)
        if self.fisheye:
            r = np.hypot(cam[:, 0], cam[:, 1])
            theta = np.arctan2(r, cam[:, 2])
            scale = np.where(r > 1e-9, self.focal * theta / np.maximum(r, 1e-9), self.focal / z)
            u, v = cam[:, 0] * scale, cam[:, 1] * scale
        else:
            u, v = self.focal * cam[:, 0] / z, self.focal * cam[:, 1] / z
        return np.stack([u + self.width / 2, v + self.height / 2], axis=1), front


def random_camera(
    rng: np.random.Generator, heights: tuple[float, float], distances: tuple[float, float], fisheye: bool
) -> Camera:
    """A camera somewhere around the scene's centre, aimed near it."""
    width, height = FRAMES[rng.integers(len(FRAMES))]
    yaw = rng.uniform(0, 2 * math.pi)
    distance = rng.uniform(*distances)
    position = np.array([distance * math.cos(yaw), distance * math.sin(yaw), rng.uniform(*heights)])
    target = np.array([rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5), 0.8])
    forward = (target - position) / np.linalg.norm(target - position)
    right = np.cross(forward, np.array([0.0, 0.0, 1.0]))
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    roll = math.radians(rng.uniform(-3, 3))
    right, down = right * math.cos(roll) + down * math.sin(roll), down * math.cos(roll) - right * math.sin(roll)
    half = max(width, height) / 2
    if fisheye:
        focal = math.hypot(width, height) / 2 / math.radians(rng.uniform(65, 90))
    else:
        focal = half / math.tan(math.radians(rng.uniform(55, 100)) / 2)
    return Camera(position, np.stack([right, down, forward]), width, height, focal, fisheye)


Motion = Callable[[float], Pose3]


def _ease(s: float) -> float:
    return float(np.clip(s, 0.0, 1.0)) ** 2


def walker(rng: np.random.Generator, start_s: float = 0.0) -> Motion:
    """Someone crossing the scene in a straight line at a walking pace."""
    heading = rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(0.8, 1.6)
    offset = rng.uniform(-3, 3)
    x0 = np.array(
        [-4.5 * math.cos(heading) - offset * math.sin(heading), -4.5 * math.sin(heading) + offset * math.cos(heading)]
    )

    def at(t: float) -> Pose3:
        walked = speed * max(0.0, t - start_s)
        return Pose3(
            x0[0] + walked * math.cos(heading),
            x0[1] + walked * math.sin(heading),
            heading,
            phase=2 * math.pi * walked / 1.4,
            stride=0.35,
        )

    return at


def actor(rng: np.random.Generator, kind: str, onset_s: float) -> Motion:
    """The scene's main person: walks or stands, then at `onset_s` does `kind` (a fall or a normal act)."""
    heading = rng.uniform(0, 2 * math.pi)
    walking = kind in ("trip", "slip", "side", "walk") or rng.random() < 0.4
    speed = rng.uniform(0.7, 1.4) if walking else 0.0
    direction = np.array([math.cos(heading), math.sin(heading)])
    start = np.array([rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)]) - speed * onset_s * direction
    turn_to = rng.uniform(0, 2 * math.pi)
    bend_to = rng.uniform(1.1, 1.5)
    duration = {
        "trip": rng.uniform(0.6, 1.1),
        "slip": rng.uniform(0.5, 0.9),
        "side": rng.uniform(0.6, 1.0),
        "collapse": rng.uniform(0.9, 1.5),
        "bend": rng.uniform(0.6, 1.0),
        "sit": rng.uniform(0.8, 1.4),
        "lie down": rng.uniform(2.5, 4.5),
        "crouch": rng.uniform(0.6, 1.2),
        "walk": 1.0,
    }[kind]
    hold = rng.uniform(0.5, 2.0)
    side = rng.choice([-1.0, 1.0])

    def at(t: float) -> Pose3:
        moving = speed * (min(t, onset_s) if kind != "walk" else t)
        x, y = start + moving * direction
        gait = speed > 0 and (t < onset_s or kind == "walk")
        pose = Pose3(x, y, heading, phase=2 * math.pi * moving / 1.4, stride=0.35 if gait else 0.0)
        s = (t - onset_s) / duration
        if t < onset_s or kind == "walk":
            return pose
        if kind in ("trip", "slip", "side"):
            pose.topple_dir = {"trip": 0.0, "slip": math.pi, "side": side * math.pi / 2}[kind]
            pose.topple = math.radians(88) * _ease(s)
            pose.crouch = 0.35 * min(1.0, s)
            pose.lean = (0.5 if kind == "trip" else -0.3) * min(1.0, s)
        elif kind == "collapse":
            pose.crouch = min(1.0, 2 * s)
            pose.topple = math.radians(85) * _ease(2 * s - 1)
            pose.topple_dir = turn_to
            pose.pivot_hips = True
        elif kind == "bend":
            back = max(0.0, (t - onset_s - duration - hold) / duration)
            pose.lean = bend_to * (min(1.0, s) - min(1.0, back))
            pose.crouch = 0.2 * (min(1.0, s) - min(1.0, back))
        elif kind == "sit":
            pose.crouch = 0.75 * min(1.0, s)
            pose.lean = 0.25 * min(1.0, s)
        elif kind == "lie down":
            pose.crouch = 0.9 * min(1.0, 2.5 * s)
            pose.topple = math.radians(85) * float(np.clip((s - 0.4) / 0.6, 0.0, 1.0))
            pose.topple_dir = turn_to
            pose.pivot_hips = True
        elif kind == "crouch":
            pose.crouch = 0.85 * min(1.0, s)
            pose.lean = 0.4 * min(1.0, s)
        return pose

    return at


@dataclass
class _Track:
    motion: Motion
    height: float
    quality: float  # how well the pose model sees this person (keypoint scores' level)


def _observe(
    track: _Track, pose: Pose3, pixels: np.ndarray, front: np.ndarray, camera: Camera, rng: np.random.Generator
) -> Person | None:
    """The person (`pose`, projected to `pixels`) as the pose model would report them in this frame, or None
    when it misses them."""
    if not front.all():
        return None
    inside = (pixels[:, 0] >= 0) & (pixels[:, 0] < camera.width) & (pixels[:, 1] >= 0) & (pixels[:, 1] < camera.height)
    if inside.sum() < 5:
        return None
    size = float(
        np.ptp(pixels[inside, 1]) if pose.topple < 0.8 else max(np.ptp(pixels[inside, 0]), np.ptp(pixels[inside, 1]))
    )
    lying = pose.topple > 0.9 or pose.crouch > 0.8
    seen = float(np.clip((size - 15) / 45, 0.0, 1.0)) * (0.75 if lying else 0.95)
    if rng.random() > seen:
        return None
    noise = (0.025 * size + 1.0) * (1.8 if lying else 1.0)
    pixels = pixels + rng.normal(0.0, noise, pixels.shape)
    scores = np.clip(track.quality + rng.normal(0.0, 0.12, 17) - (0.15 if lying else 0.0), 0.01, 0.95)
    scores[~inside] = np.minimum(scores[~inside], rng.uniform(0.01, 0.15, (~inside).sum()))
    facing = math.cos(pose.heading - math.atan2(camera.position[1] - pose.y, camera.position[0] - pose.x))
    if facing < -0.3:  # seen from behind: the face is guessed
        scores[:5] *= 0.4
    score = float(np.clip(scores.mean() * 0.9, 0.0, 1.0))
    if score < MIN_SCORE:
        return None
    found = pixels[scores >= 0.2] if (scores >= 0.2).sum() >= 3 else pixels
    x1, y1 = found.min(axis=0)
    x2, y2 = found.max(axis=0)
    pad = 0.04 * size
    box = np.array([x1 - pad - 0.1 * (x2 - x1), y1 - 0.1 * size, x2 + pad + 0.1 * (x2 - x1), y2 + 0.03 * size])
    scale = np.array([camera.width, camera.height, camera.width, camera.height], float)
    keypoints = np.column_stack([pixels / scale[:2], scores])
    return Person(
        box=np.clip(box / scale, 0, 1).astype(np.float32),
        keypoints=np.clip(keypoints, 0, 1).astype(np.float32),
        score=score,
    )


def synthetic_clip(index: int, camera_kind: int, seed: int = 0) -> tuple[Clip, Recording] | None:
    """One synthetic scene: a camera of `CAMERAS[camera_kind]`, a main person who falls or does something
    ordinary, and a few walkers; None when the main person is barely in the picture."""
    rng = np.random.default_rng([seed, camera_kind, index])
    name, heights, distances, fisheye_share = CAMERAS[camera_kind]
    camera = random_camera(rng, heights, distances, rng.random() < fisheye_share)
    fall = index % 2 == 0
    kind = FALLS[rng.integers(len(FALLS))] if fall else NORMAL[rng.integers(len(NORMAL))]
    duration = rng.uniform(7.0, 12.0)
    onset = rng.uniform(1.5, duration - 3.5)
    tracks = [_Track(actor(rng, kind, onset), rng.uniform(1.55, 1.9), rng.uniform(0.3, 0.75))]
    for _ in range(rng.integers(0, 4)):
        tracks.append(_Track(walker(rng, rng.uniform(-4, duration)), rng.uniform(1.55, 1.9), rng.uniform(0.25, 0.7)))
    floor = rng.uniform(0.3, 2.0)
    recording = Recording(camera.width, camera.height)
    previous: dict[int, np.ndarray] = {}
    actor_seen = 0
    for step in range(int(duration * FPS)):
        t = step / FPS
        people, motion = [], floor + abs(rng.normal(0.0, 0.2))
        for i, track in enumerate(tracks):
            pose = track.motion(t)
            pixels, front = camera.project(body_points(pose, track.height))
            person = _observe(track, pose, pixels, front, camera, rng)
            centre = pixels.mean(axis=0)
            if i in previous:
                area = 0.5 * _area(pixels, camera)
                moved = float(np.hypot(*(centre - previous[i]))) / max(camera.width, camera.height)
                motion += 35.0 * area * min(1.0, moved / 0.03)
            previous[i] = centre
            if person is not None:
                people.append(person)
                actor_seen += i == 0
        people.sort(key=lambda p: -p.score)
        recording.observations.append(Observation(t, people[:6], float(motion)))
    if actor_seen < 0.5 * len(recording.observations):
        return None
    clip = Clip(
        Path(f"synthetic-{name}-{index:03d}.syn"),
        "fall" if fall else "no_fall",
        onset if fall else None,
        GROUP,
        "person_fall" if fall else "none",
        "synthetic",
        duration,
    )
    return clip, recording


def _area(pixels: np.ndarray, camera: Camera) -> float:
    """The share of the picture covered by the bounding box of a body's projected keypoints."""
    w = np.clip(np.ptp(pixels[:, 0]), 0, camera.width) / camera.width
    h = np.clip(np.ptp(pixels[:, 1]), 0, camera.height) / camera.height
    return float(w * h)


def synthetic_set(per_group: int, seed: int = 0) -> list[tuple[Clip, Recording]]:
    """`per_group` scenes of each camera kind (half of them falls), skipping scenes whose person is not seen."""
    out = []
    for camera_kind in range(len(CAMERAS)):
        scenes = (synthetic_clip(index, camera_kind, seed) for index in range(per_group * 4))
        out += itertools.islice((scene for scene in scenes if scene is not None), per_group)
    return out
