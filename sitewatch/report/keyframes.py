"""Keyframe pictures for a report: the frame of each event with the person boxed, over a camera's zones."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageColor, ImageDraw

from sitewatch.schema import Box, Report, Zone
from sitewatch.text.style import EVENT_COLOURS, ZONE_COLOURS
from sitewatch.video.decode import FrameReader, Size
from sitewatch.video.sample import FramePlan

KEYFRAME_SIDE = 640
# With no events, a few evenly spaced frames show what the video looks like.
OVERVIEW_FRAMES = 3
ZONE_FILL_ALPHA = 60  # of 255: the picture stays readable under a zone


@dataclass(frozen=True)
class Keyframe:
    """A written picture and what it shows."""

    path: Path
    time_s: float
    event_index: int | None


def _draw_zones(image: np.ndarray, zones: list[Zone]) -> Image.Image:
    """The picture with each zone filled faintly and outlined in its kind's colour."""
    img = Image.fromarray(image)
    if not zones:
        return img
    w, h = img.size
    overlay = Image.new("RGBA", img.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for zone in zones:
        red, green, blue = ImageColor.getrgb(ZONE_COLOURS[zone.kind])[:3]
        draw.polygon([(x * w, y * h) for x, y in zone.points], fill=(red, green, blue, ZONE_FILL_ALPHA),
                     outline=(red, green, blue, 255), width=max(1, round(max(w, h) / 320)))
    return Image.alpha_composite(img.convert("RGBA"), overlay).convert("RGB")


def _draw_box(img: Image.Image, box: Box, colour: str) -> Image.Image:
    w, h = img.size
    width = max(2, round(max(w, h) / 200))
    ImageDraw.Draw(img).rectangle((box.x1 * w, box.y1 * h, box.x2 * w, box.y2 * h), outline=colour, width=width)
    return img


def write_keyframes(report: Report, folder: Path) -> tuple[list[Keyframe], list[str]]:
    """Decode and save one JPEG per event (or a few overview frames); return them and any warnings."""
    folder.mkdir(parents=True, exist_ok=True)
    info = report.video
    if report.events:
        wanted = [(e.keyframe_s, i) for i, e in enumerate(report.events)]
    else:
        count = 1 if info.is_image else OVERVIEW_FRAMES
        wanted = [(info.duration_s * (k + 0.5) / count, None) for k in range(count)]
    order = sorted(range(len(wanted)), key=lambda k: wanted[k][0])
    plan = FramePlan(times_s=tuple(wanted[k][0] for k in order), mode="nearest")
    reader = FrameReader(info.path, plan, size=Size(max_side=KEYFRAME_SIDE))
    written: list[Keyframe] = []
    for frame in reader:
        _, event_index = wanted[order[frame.index]]
        if event_index is None:
            img = _draw_zones(frame.image, report.zones)
            name = f"overview_{frame.index + 1:02d}_{frame.time_s:.2f}s.jpg"
        else:
            event = report.events[event_index]
            colour = EVENT_COLOURS[event.kind]
            img = _draw_zones(frame.image, report.zones)
            img = _draw_box(img, event.box, colour) if event.box else img
            name = f"event_{event_index + 1:02d}_{event.kind.value}_{frame.time_s:.2f}s.jpg"
        path = folder / name
        img.save(path, quality=88)
        written.append(Keyframe(path=path, time_s=frame.time_s, event_index=event_index))
    return written, reader.warnings
