"""Generate samples/synthetic_trip.mp4: a drawn worker walks across a warehouse floor, trips and lies still.

Everything in the clip is drawn by this script (no third-party material), so the clip is CC0-1.0.
Run: python samples/make_sample.py   (needs numpy, opencv-python-headless and av)
"""

from __future__ import annotations

import math
from pathlib import Path

import av
import cv2
import numpy as np

WIDTH, HEIGHT, FPS, SECONDS = 640, 360, 25, 10
TRIP_AT_S, FALL_S = 4.0, 0.7
OUT = Path(__file__).with_name("synthetic_trip.mp4")


def background(rng: np.random.Generator) -> np.ndarray:
    """A wall, a concrete floor and a stack of cartons."""
    img = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    img[:200] = (168, 176, 182)
    img[200:] = (112, 118, 120)
    img = np.clip(img.astype(int) + rng.integers(-8, 8, (HEIGHT, WIDTH, 1)), 0, 255).astype(np.uint8)
    cv2.rectangle(img, (470, 120), (600, 215), (70, 110, 150), -1)
    cv2.rectangle(img, (480, 60), (590, 120), (80, 120, 160), -1)
    cv2.line(img, (0, 200), (WIDTH, 200), (90, 90, 90), 2)
    return img


def joints(phase: float) -> dict[str, tuple[float, float]]:
    """Standing joints (x right, y up, feet at 0) with a walking swing."""
    s = math.sin(phase)
    return {
        "head": (0, 185), "neck": (0, 165), "lsh": (-18, 160), "rsh": (18, 160),
        "lel": (-22 + 8 * s, 125), "rel": (22 - 8 * s, 125), "lwr": (-20 + 14 * s, 92), "rwr": (20 - 14 * s, 92),
        "lhip": (-11, 95), "rhip": (11, 95), "lkn": (-10 + 12 * s, 50), "rkn": (10 - 12 * s, 50),
        "lan": (-10 + 20 * s, 5), "ran": (10 - 20 * s, 5),
    }


def draw_worker(img: np.ndarray, pose: dict[str, tuple[float, float]], tilt_deg: float, feet: tuple[int, int]) -> None:
    """Draw the worker rotated forward by `tilt_deg` about the feet (0 upright, 90 lying)."""
    a = math.radians(tilt_deg)
    p = {
        k: (int(feet[0] + x * math.cos(a) + y * math.sin(a)), int(feet[1] + x * math.sin(a) - y * math.cos(a)))
        for k, (x, y) in pose.items()
    }
    skin, vest, pants, shirt = (130, 160, 205), (0, 140, 255), (70, 50, 40), (140, 90, 70)
    for a_, b_, colour, width in (
        ("lhip", "lkn", pants, 16), ("lkn", "lan", pants, 14), ("rhip", "rkn", pants, 16), ("rkn", "ran", pants, 14),
    ):
        cv2.line(img, p[a_], p[b_], colour, width, cv2.LINE_AA)
    torso = np.array([p["lsh"], p["rsh"], p["rhip"], p["lhip"]], np.int32)
    cv2.fillConvexPoly(img, torso, vest, cv2.LINE_AA)
    for a_, b_, colour, width in (
        ("lsh", "lel", shirt, 12), ("lel", "lwr", skin, 10), ("rsh", "rel", shirt, 12), ("rel", "rwr", skin, 10),
        ("neck", "head", skin, 10),
    ):
        cv2.line(img, p[a_], p[b_], colour, width, cv2.LINE_AA)
    cv2.circle(img, p["head"], 14, skin, -1, cv2.LINE_AA)
    cv2.ellipse(img, (p["head"][0], p["head"][1] - 6), (16, 9), tilt_deg, 180, 360, (0, 220, 255), -1)


def main() -> None:
    """Render and encode the clip."""
    rng = np.random.default_rng(7)
    base = background(rng)
    with av.open(str(OUT), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "26", "preset": "slow"}
        for i in range(FPS * SECONDS):
            t = i / FPS
            walked = min(t, TRIP_AT_S)
            feet = (int(60 + 45 * walked), 330)
            tilt = 0.0 if t < TRIP_AT_S else min(90.0, 90.0 * ((t - TRIP_AT_S) / FALL_S) ** 2)
            phase = walked * 2 * math.pi * 1.2
            img = base.copy()
            draw_worker(img, joints(phase), tilt, feet)
            frame = av.VideoFrame.from_ndarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
