"""PLLaVA chat on a small random model: first turn vs second turn with the pooled-feature cache.

The first turn encodes the clip (vision tower + pooling projector) and answers; later turns reuse the
features, like the original demo should have. "second turn, no cache" re-encodes, as the original did.
Run: python benchmarks/pllava.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from rich.console import Console
from rich.table import Table

from sitewatch.schema import GenerationOptions, Message, VideoClip
from sitewatch.settings import Settings
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
REPEATS = 5
OPTIONS = GenerationOptions(max_new_tokens=16)


def best_times(steps: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Best wall time of each step over REPEATS interleaved rounds, so a busy machine hurts all steps alike."""
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(REPEATS):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


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

    times = best_times(
        {
            "encode only (vision tower + pooling)": lambda: backend.encode(clip),
            "first turn (encode + answer)": lambda: backend.generate(backend.encode(clip), first, OPTIONS),
            "second turn, cached features": lambda: backend.generate(video, second, OPTIONS),
            "second turn, no cache (original demo)": lambda: backend.generate(backend.encode(clip), second, OPTIONS),
        }
    )
    turn1_s = times["first turn (encode + answer)"]
    saved_s = times["second turn, no cache (original demo)"] - times["second turn, cached features"]

    table = Table(title=f"PLLaVA chat turns, small random model, CPU, best of {REPEATS} interleaved rounds")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    table.add_column("vs first turn", justify="right")
    for name, seconds in times.items():
        table.add_row(name, f"{seconds:.3f}", f"{seconds / turn1_s:.2f}x")
    console = Console()
    console.print(table)
    console.print(
        f"{backend.config.tokens_per_video} visual tokens per video, {OPTIONS.max_new_tokens} new tokens; "
        f"the cache saves {saved_s:.3f} s per later turn"
    )


if __name__ == "__main__":
    main()
