"""Synthetic benchmark clips made with PyAV's encoder, cached between runs."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import av
import numpy as np

log = logging.getLogger(__name__)

CACHE = Path(os.environ.get("SITEWATCH_BENCH_CACHE", Path.home() / ".cache" / "sitewatch-bench"))


def _texture(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth, detailed background so the encoder has real work (not a flat colour)."""
    small = rng.integers(0, 255, size=(height // 16 + 2, width // 16 + 2, 3), dtype=np.uint8)
    big = np.kron(small, np.ones((16, 16, 1), dtype=np.uint8))
    return big[:height, :width]


def make_clip(
    seconds: float,
    bitrate: int,
    width: int = 1280,
    height: int = 720,
    fps: int = 30,
    grain: int = 12,
    preset: str = "veryfast",
) -> Path:
    """Encode (or reuse) an H.264 clip: a panning texture with moving boxes and film grain."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"clip_{width}x{height}_{int(seconds)}s_{bitrate // 1000}k_g{grain}.mp4"
    if path.exists() and path.stat().st_size > 0:
        return path
    log.warning("encoding %s (once; cached in %s)", path.name, CACHE)
    rng = np.random.default_rng(0)
    base = _texture(height, width * 2, rng)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.bit_rate = bitrate
        stream.options = {"preset": preset}
        noise = rng.integers(-grain, grain + 1, size=(8, height, width, 1), dtype=np.int16) if grain else None
        for i in range(int(seconds * fps)):
            shift = (i * 3) % width
            img = base[:, shift : shift + width].astype(np.int16)
            x = (i * 7) % (width - 200)
            img[200:400, x : x + 200] = (i * 5) % 255
            if noise is not None:
                img += noise[i % 8]
            frame = av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    tmp.rename(path)
    return path
