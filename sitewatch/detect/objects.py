"""Falling-object evidence from dense optical flow: a sudden downward burst in a quiet, still scene.

A load dropping from above shows as a region moving downward for a good fraction of a second in
a scene that was still just before. Everything else that moves is told apart physically: people
(their boxes are masked out), a moving camera (median flow, skipped), a scene cut (most pixels
change at once, skipped), and busy scenes or machines that move all the time (the scene must have
been quiet for the seconds before, so only a single burst counts).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass

import numpy as np

from sitewatch.detect.scoring import ramp
from sitewatch.optional import require
from sitewatch.schema import Box, Event, EventKind

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DropConfig:
    """Thresholds in physical units: frame long sides per second, fractions of the frame, seconds."""

    side: int = 240  # flow resolution (long side, pixels): a falling load is still a few pixels wide
    min_down_speed: float = 0.025  # downward speed of a moving pixel, long sides per second
    moving_speed: float = 0.0375  # any-direction speed that counts as "something moves"
    camera_speed: float = 0.06  # median flow above this: the camera moves, so flow means little
    cut_fraction: float = 0.5  # pixels changed at once above this: a scene cut, not an object
    min_area: float = 0.03  # downward region, fraction of the frame outside people
    sustain_s: float = 0.3  # the region keeps falling this long (3 samples at 6 fps)
    quiet_s: float = 2.0  # how long the scene must have been still before the burst
    quiet_activity: float = 0.01  # median moving fraction (outside people) of a still scene
    person_pad: float = 0.15  # people boxes grown by this share of their size: limbs, blur



class FallingObjects:
    """Feeds on frames and people boxes; returns a falling-object score per frame, collects events."""

    def __init__(self, config: DropConfig | None = None) -> None:
        self.config = config or DropConfig()
        self._cv2 = require("cv2", "detect")
        self._flow = self._cv2.DISOpticalFlow_create(self._cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self._previous: tuple[float, np.ndarray, np.ndarray] | None = None  # time, grey, people mask
        self._history: deque[tuple[float, float]] = deque()  # (time, moving fraction) of still frames
        self._burst: list[tuple[float, float, np.ndarray]] = []  # (time, area, bbox) of the open burst
        self._armed = True  # a new event needs the scene to calm down again after the last one
        self.events: list[Event] = []

    def _grey(self, image: np.ndarray) -> np.ndarray:
        cv2 = self._cv2
        height, width = image.shape[:2]
        scale = self.config.side / max(height, width)
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        grey = cv2.cvtColor(cv2.resize(image, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        return cv2.GaussianBlur(grey, (5, 5), 0)

    def _people_mask(self, shape: tuple[int, int], boxes: list[np.ndarray]) -> np.ndarray:
        height, width = shape
        pad = self.config.person_pad
        mask = np.zeros(shape, bool)
        for x1, y1, x2, y2 in boxes:
            bw, bh = x2 - x1, y2 - y1
            top, bottom = max(0, int((y1 - pad * bh) * height)), int((y2 + pad * bh) * height) + 1
            left, right = max(0, int((x1 - pad * bw) * width)), int((x2 + pad * bw) * width) + 1
            mask[top:bottom, left:right] = True
        return mask

    def update(self, time_s: float, image: np.ndarray, boxes: list[np.ndarray]) -> float:
        """Process one RGB frame and its people boxes (normalised x1,y1,x2,y2); return 0..1 evidence."""
        cfg = self.config
        grey = self._grey(image)
        people = self._people_mask(grey.shape, boxes)
        previous, self._previous = self._previous, (time_s, grey, people)
        if previous is None or previous[1].shape != grey.shape or time_s <= previous[0]:
            return 0.0
        dt = time_s - previous[0]
        scale = float(max(grey.shape)) * dt  # pixels per sample -> long sides per second
        flow = self._flow.calc(previous[1], grey, None)
        median = np.median(flow.reshape(-1, 2), axis=0)
        changed = float((self._cv2.absdiff(grey, previous[1]) > 25).mean())
        if float(np.hypot(*median)) / scale > cfg.camera_speed or changed > cfg.cut_fraction:
            # Nothing to compare against while the view itself moves or changes: start over.
            self._history.clear()
            self._close_burst()
            return 0.0
        flow -= median
        outside = ~(people | previous[2])
        vx, vy = flow[..., 0] / scale, flow[..., 1] / scale
        moving = outside & (np.hypot(vx, vy) > cfg.moving_speed)
        down = outside & (vy > cfg.min_down_speed) & (vy > 2.0 * np.abs(vx))
        activity, area = float(moving.mean()), float(down.mean())
        quiet = self._was_quiet(time_s)
        self._history.append((time_s, activity))
        if area >= cfg.min_area and (self._burst or (quiet and self._armed)):
            ys, xs = np.nonzero(down)
            h, w = grey.shape
            bbox = np.array([xs.min() / w, ys.min() / h, (xs.max() + 1) / w, (ys.max() + 1) / h], np.float32)
            self._burst.append((time_s, area, bbox))
        else:
            self._close_burst()
        if quiet:
            self._armed = True
        return round(ramp(area, 0.0, 2 * cfg.min_area), 4)

    def _was_quiet(self, now: float) -> bool:
        """The scene (outside people) was still for the last `quiet_s`, by the median moving fraction."""
        cfg = self.config
        while self._history and now - self._history[0][0] > cfg.quiet_s + 0.5:
            self._history.popleft()
        span = [a for t, a in self._history if now - t <= cfg.quiet_s]
        # After a stall (no frames for a while) nothing recent is known: that is not a still scene.
        covered = bool(span) and now - self._history[0][0] >= cfg.quiet_s
        return covered and float(np.median(span)) <= cfg.quiet_activity

    def _close_burst(self) -> None:
        burst, self._burst = self._burst, []
        if not burst or burst[-1][0] - burst[0][0] < self.config.sustain_s - 1e-6:
            return
        cfg = self.config
        weakest = min(a for _, a, _ in burst)
        boxes = np.stack([b for _, _, b in burst])
        x1, y1 = boxes[:, :2].min(axis=0)
        x2, y2 = boxes[:, 2:].max(axis=0)
        self._armed = False
        self.events.append(
            Event(
                kind=EventKind.object_drop,
                start_s=round(burst[0][0], 3),
                end_s=round(burst[-1][0], 3),
                confidence=round(0.5 + 0.2 * ramp(weakest, cfg.min_area, 3 * cfg.min_area), 3),
                keyframe_s=round(burst[len(burst) // 2][0], 3),
                box=Box(x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2)),
                details={"min_area": round(weakest, 4), "duration_s": round(burst[-1][0] - burst[0][0], 3)},
                description="a large region fell quickly in a scene that was still just before",
            )
        )
        log.debug("object drop at %.2f s (area %.3f)", burst[0][0], weakest)

    def finish(self) -> list[Event]:
        """Close an open burst at the end of the video and return the events."""
        self._close_burst()
        return list(self.events)


def _overlap(a: Box, b: Box) -> bool:
    return min(a.x2, b.x2) > max(a.x1, b.x1) and min(a.y2, b.y2) > max(a.y1, b.y1)


def struck_by(drops: list[Event], falls: list[Event], within_s: float = 2.0) -> list[Event]:
    """A struck-by for each person whose fall overlaps an object drop's region within `within_s` after it."""
    found = []
    for drop in drops:
        for fall in falls:
            if drop.box is None or fall.box is None or not _overlap(drop.box, fall.box):
                continue
            if drop.start_s - 0.5 <= fall.keyframe_s <= drop.end_s + within_s:
                found.append(
                    fall.model_copy(
                        update={
                            "kind": EventKind.struck_by,
                            "start_s": drop.start_s,
                            "confidence": max(drop.confidence, fall.confidence),
                            "details": {**fall.details, "drop_s": drop.start_s},
                            "description": "a falling object reached a person who then went down",
                        }
                    )
                )
    return found
