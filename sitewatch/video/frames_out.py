"""Write decoded frames to disk as JPEGs named by their position and time."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PIL import Image

from sitewatch.video.decode import Frame


def write_jpegs(frames: Iterable[Frame], out: Path, quality: int = 90) -> list[Path]:
    """Save each frame as out/frame_NN_<seconds>s.jpg and return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for frame in frames:
        path = out / f"frame_{frame.index:03d}_{frame.time_s:08.3f}s.jpg"
        Image.fromarray(frame.image).save(path, quality=quality)
        written.append(path)
    return written
