"""PLLaVA chat on a small random model: first turn vs second turn with the pooled-feature cache.

The first turn encodes the clip (vision tower + pooling projector) and answers; later turns reuse the
features, like the original demo should have. "second turn, no cache" re-encodes, as the original did.
Run: python benchmarks/pllava.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from rich.console import Console
from rich.table import Table

from sitewatch.schema import Message
from sitewatch.settings import Settings
from sitewatch.vlm.base import GenerationOptions, VideoClip
from sitewatch.vlm.pllava.backend import load
from tests.pllava_tiny import Geometry, write_release

# 16 frames of 16x16 patches pooled to (16, 8, 8) = 1024 visual tokens: the released pipeline's shape at
# a fraction of its width, so a CPU run takes seconds.
SMALL = Geometry(
    image_size=224,
    patch=14,
    num_frames=16,
    pooling=[16, 8, 8],
    vision_hidden=256,
    vision_layers=8,
    text_hidden=256,
    text_layers=4,
)
REPEATS = 3
OPTIONS = GenerationOptions(max_new_tokens=16)


def timed(step: Callable[[], object]) -> float:
    """Median wall time of `step` over REPEATS runs, in seconds."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Build the model, run the chat steps and print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_release(Path(tmp) / "small", size=SMALL)
        backend = load(str(folder), Settings(device="cpu"))
    frames = np.random.default_rng(0).integers(0, 256, size=(48, 360, 640, 3), dtype=np.uint8)
    clip = VideoClip(frames=frames, times_s=[i / 8 for i in range(48)], source="random")
    first = [Message(role="user", content="What is the man doing?")]
    video = backend.encode(clip)
    answer = backend.generate(video, first, OPTIONS)
    second = [*first, Message(role="assistant", content=answer), Message(role="user", content="Why?")]

    encode_s = timed(lambda: backend.encode(clip))
    turn1_s = timed(lambda: backend.generate(backend.encode(clip), first, OPTIONS))
    cached_s = timed(lambda: backend.generate(video, second, OPTIONS))
    uncached_s = timed(lambda: backend.generate(backend.encode(clip), second, OPTIONS))

    table = Table(title=f"PLLaVA chat turns, small random model, CPU, median of {REPEATS}")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("vs first turn", justify="right")
    rows = [
        ("encode only (vision tower + pooling)", encode_s),
        ("first turn (encode + answer)", turn1_s),
        ("second turn, cached features", cached_s),
        ("second turn, no cache (original demo)", uncached_s),
    ]
    for name, seconds in rows:
        table.add_row(name, f"{seconds:.3f}", f"{seconds / turn1_s:.2f}x")
    console = Console()
    console.print(table)
    console.print(
        f"{backend.config.tokens_per_video} visual tokens per video, {OPTIONS.max_new_tokens} new tokens; "
        f"the cache saves {uncached_s - cached_s:.3f} s per later turn"
    )


if __name__ == "__main__":
    main()
