"""16-frame sampling of 60 s 720p clips: sitewatch (exact, keyframe-snapped) vs decord and OpenCV.

Also the peak memory of streaming every frame of a 1-minute and a 10-minute 720p clip at 320 px, and
the detector's fixed-rate reading of a variable-frame-rate clip (seeks, backward seeks, seconds).
Run: python benchmarks/sampling.py   (clips are generated once and cached)
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from clips import CACHE, make_clip
from media import vfr_times, write_video
from rich.console import Console
from rich.table import Table

BITRATES = {"0.5 Mb/s": 500_000, "4 Mb/s": 4_000_000, "20 Mb/s": 20_000_000}
REPEATS = 2


def sitewatch_exact(path: Path) -> int:
    from sitewatch.video.decode import FrameReader
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import uniform_plan

    return sum(1 for _ in FrameReader(path, uniform_plan(probe(path), 16)))


def sitewatch_keyframe(path: Path) -> int:
    from sitewatch.video.decode import FrameReader
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import keyframe_plan

    return sum(1 for _ in FrameReader(path, keyframe_plan(probe(path), 16)))


def decord_batch(path: Path) -> int:
    import decord

    from sitewatch.video.sample import pllava_indices

    vr = decord.VideoReader(str(path), ctx=decord.cpu(0))
    return len(vr.get_batch(pllava_indices(len(vr), 16)).asnumpy())


def opencv_seek(path: Path) -> int:
    import cv2

    from sitewatch.video.sample import pllava_indices

    cap = cv2.VideoCapture(str(path))
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    got = 0
    for i in pllava_indices(count, 16):
        cap.set(cv2.CAP_PROP_POS_FRAMES, i)
        ok, _ = cap.read()
        got += ok
    cap.release()
    return got


METHODS = {
    "sitewatch exact": sitewatch_exact,
    "sitewatch keyframe": sitewatch_keyframe,
    "decord get_batch": decord_batch,
    "opencv seek+read": opencv_seek,
}


def best_time(fn, path: Path) -> float:
    """Best wall time over REPEATS runs (the first run also warms the page cache)."""
    fn(path)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        n = fn(path)
        times.append(time.perf_counter() - t0)
        assert n == 16, f"{fn.__name__} returned {n} frames"
    return min(times)


STREAM_SNIPPET = """
import resource, sys, time
from sitewatch.video.decode import FrameReader, Size
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan
info = probe(sys.argv[1])
t0 = time.perf_counter()
n = sum(1 for _ in FrameReader(sys.argv[1], fps_plan(info, info.fps), size=Size(max_side=320)))
print(n, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def stream_memory(path: Path) -> tuple[int, float, float]:
    """Frames, seconds and peak RSS (MB) of streaming every frame at 320 px, in a fresh process."""
    out = subprocess.run([sys.executable, "-c", STREAM_SNIPPET, str(path)], capture_output=True, text=True, check=True)
    n, secs, mb = out.stdout.split()
    return int(n), float(secs), float(mb)


def vfr_reading() -> dict[str, float]:
    """Read a 26 s 720p variable-rate clip (GOPs of 250 frames) at the detector's 6 fps, counting seeks.

    Before fixed-rate plans were built from the packets' timestamps and `nearest` stopped seeking back:
    36 seeks, 35 of them backwards, 2.6 s; after: 1 seek, none backwards, 0.4 s (2 shared cores).
    """
    from sitewatch.video import decode
    from sitewatch.video.probe import probe
    from sitewatch.video.sample import fps_plan

    path = CACHE / "vfr_1280x720_26s.mp4"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        times = vfr_times(26.0)
        write_video(path, frames=len(times), width=1280, height=720, pts_seconds=times, options={"g": "250"})
    seeks = {"seeks": 0, "backward": 0}
    seek = decode._Cursor._seek

    def counted(cursor: decode._Cursor, t: float) -> bool:
        seeks["seeks"] += 1
        seeks["backward"] += cursor.current is not None and t < cursor.time_of(cursor.current)
        return seek(cursor, t)

    decode._Cursor._seek = counted
    try:
        info = probe(path)
        started = time.perf_counter()
        plan = fps_plan(info, 6.0)
        reader = decode.FrameReader(path, plan, size=decode.Size(max_side=640), approximate=True)
        frames = sum(1 for _ in reader)
        return {"frames": frames, **seeks, "seconds": time.perf_counter() - started}
    finally:
        decode._Cursor._seek = seek


def main() -> None:
    console = Console()
    results: dict[str, dict[str, float]] = {}
    clips = {label: make_clip(60, rate) for label, rate in BITRATES.items()}
    for label, path in clips.items():
        results[label] = {name: best_time(fn, path) for name, fn in METHODS.items()}

    table = Table(title="16-frame sampling, 60 s 1280x720 H.264 (seconds, best of 2; ratio = decord / method)")
    table.add_column("clip")
    for name in METHODS:
        table.add_column(name, justify="right")
    for label, row in results.items():
        ref = row["decord get_batch"]
        table.add_row(label, *(f"{row[m]:.3f} s  ({ref / row[m]:.1f}x)" for m in METHODS))
    console.print(table)

    mem = Table(title="Streaming every frame at 320 px (fresh process each)")
    for col in ("clip", "frames", "seconds", "peak RSS MB"):
        mem.add_column(col, justify="right")
    mem_rows = {}
    for label, path in {
        "1 min 720p": make_clip(60, 1_000_000, grain=4, preset="ultrafast"),
        "10 min 720p": make_clip(600, 1_000_000, grain=4, preset="ultrafast"),
    }.items():
        n, secs, mb = stream_memory(path)
        mem_rows[label] = {"frames": n, "seconds": secs, "peak_rss_mb": mb}
        mem.add_row(label, str(n), f"{secs:.1f}", f"{mb:.0f}")
    console.print(mem)
    vfr = vfr_reading()
    console.print(
        f"variable frame rate, 26 s 720p at 6 fps: {vfr['frames']} frames, {vfr['seeks']} seeks "
        f"({vfr['backward']} backwards), {vfr['seconds']:.2f} s"
    )
    if "--json" in sys.argv:
        print(json.dumps({"sampling": results, "streaming": mem_rows, "vfr": vfr}, indent=2))


if __name__ == "__main__":
    main()
