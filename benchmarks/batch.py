"""Benchmark `sitewatch batch` against `sitewatch analyze` run one by one, in the same run on the same clips.

Prints: throughput (video seconds per wall-clock second, start-up included) of `analyze` per clip, the
process pool with 1 and 2 workers, and a local Ray cluster; Ray's overhead against the pool; and each pool
worker's peak resident memory after 10, 50 and 100 short synthetic videos (flat = no growth per video).

    python benchmarks/batch.py [--clips 8] [--many 100] [--no-ray]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from media import SHARED_VIDEOS, write_video  # noqa: E402

from sitewatch.batch.jobs import VideoResult  # noqa: E402

# The shortest real clips first: the comparison is about the engine, not about long videos.
MAX_CLIP_S = 8.0
CHECKPOINTS = (10, 50, 100)


def sitewatch(*args: str, env: dict[str, str] | None = None) -> tuple[float, str]:
    """Run the CLI (with more environment in `env`); return (wall seconds, stdout)."""
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "sitewatch", *args], capture_output=True, text=True, cwd=REPO,
        env={**os.environ, **(env or {})},
    )
    wall = time.perf_counter() - started
    if run.returncode != 0:
        raise SystemExit(f"sitewatch {' '.join(args)} failed:\n{run.stderr[-2000:]}")
    return wall, run.stdout


def short_clips(count: int, folder: Path) -> list[Path]:
    """Copies of the `count` shortest real clips of the shared manifest (synthetic ones when it is absent)."""
    import csv

    manifest = SHARED_VIDEOS / "MANIFEST.csv"
    if manifest.is_file():
        with manifest.open(encoding="utf-8") as f:
            rows = sorted(csv.DictReader(f), key=lambda r: float(r["duration_s"]))
        chosen = [r["file"] for r in rows if float(r["duration_s"]) <= MAX_CLIP_S][:count]
        return [Path(shutil.copy(SHARED_VIDEOS / name, folder / name)) for name in chosen]
    return [write_video(folder / f"synthetic_{i:02d}.mp4", frames=90 + i, width=320, height=192) for i in range(count)]


def batch_rows(stdout: str) -> tuple[list[VideoResult], dict]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return [VideoResult.model_validate(line) for line in lines[:-1]], lines[-1]["summary"]


def throughput(clips: list[Path], work: Path, use_ray: bool) -> list[tuple[str, float, float]]:
    """(mode, video seconds, wall seconds) for analyze one by one, the pool with 1 and 2 workers, and Ray."""
    results = []
    video_s = 0.0
    wall = 0.0
    for clip in clips:
        seconds, stdout = sitewatch("analyze", str(clip), "--json", "--out", str(work / "one" / clip.stem))
        wall += seconds
        video_s += json.loads(stdout)["video"]["duration_s"]
    results.append(("analyze, one by one", video_s, wall))
    modes = [("batch, pool of 1", ["--workers", "1"]), ("batch, pool of 2", ["--workers", "2"])]
    if use_ray:
        modes.append(("batch, local Ray cluster (2 CPUs)", ["--ray", "local", "--workers", "2"]))
    for name, flags in modes:
        out = work / name.replace(" ", "_").replace(",", "")
        # A loopback cluster needs no token (Ray would otherwise write one into ~/.ray).
        env = {"RAY_AUTH_MODE": "disabled"} if "--ray" in flags else None
        seconds, stdout = sitewatch("batch", str(clips[0].parent), "--out", str(out), "--json", *flags, env=env)
        _, summary = batch_rows(stdout)
        assert summary["errors"] == 0 and summary["reused"] == 0, summary
        results.append((name, summary["video_s"], seconds))
    return results


def memory(count: int, work: Path) -> tuple[dict[str, dict[int, float]], float]:
    """Each pool worker's peak RSS (MiB) after its share of the first 10, 50, 100 videos; and the wall time."""
    folder = work / "many"
    folder.mkdir()
    for i in range(count):
        # Distinct lengths make distinct bytes: identical files would be analysed once.
        write_video(folder / f"v{i:03d}.mp4", frames=60 + i % 40, fps=15, width=320, height=192)
    started = time.perf_counter()
    _, stdout = sitewatch("batch", str(folder), "--out", str(work / "many_out"), "--json", "--workers", "2")
    wall = time.perf_counter() - started
    rows, _ = batch_rows(stdout)  # in the order they finished
    peaks: dict[str, dict[int, float]] = {}
    for n, row in enumerate(rows, 1):
        for checkpoint in CHECKPOINTS:
            if n <= checkpoint:
                peaks.setdefault(row.worker, {})[checkpoint] = row.peak_rss_mb or 0.0
    return peaks, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8, help="real clips for the throughput table")
    parser.add_argument("--many", type=int, default=100, help="synthetic videos for the memory table")
    parser.add_argument("--no-ray", action="store_true", help="leave the Ray row out")
    args = parser.parse_args()
    use_ray = not args.no_ray
    if use_ray:
        try:
            import ray  # noqa: F401
        except ImportError:
            use_ray = False
    console = Console()
    with tempfile.TemporaryDirectory(prefix="sitewatch-batch-bench-") as tmp:
        work = Path(tmp)
        (work / "clips").mkdir()
        clips = short_clips(args.clips, work / "clips")
        rows = throughput(clips, work, use_ray)
        base = rows[0][1] / rows[0][2]
        table = Table(f"mode ({len(clips)} clips)", "video s", "wall s", "video s / wall s", "vs analyze",
                      title="Throughput, start-up included")
        for name, video_s, wall in rows:
            speed = video_s / wall
            table.add_row(name, f"{video_s:.1f}", f"{wall:.1f}", f"{speed:.2f}", f"{speed / base:.2f}x")
        console.print(table)
        walls = {name: wall for name, _, wall in rows}
        ray_rows = [n for n in walls if "Ray" in n]
        if ray_rows:
            pool = walls["batch, pool of 2"]
            extra = walls[ray_rows[0]] - pool
            console.print(f"Ray overhead vs the pool of 2: {extra:+.1f} s ({walls[ray_rows[0]] / pool:.2f}x wall)")

        peaks, wall = memory(args.many, work)
        mem = Table("worker", *(f"peak RSS after {c} videos (MiB)" for c in CHECKPOINTS),
                    title=f"Pool of 2 over {args.many} short synthetic videos ({wall:.1f} s)")
        for worker, by in sorted(peaks.items()):
            mem.add_row(worker, *(f"{by[c]:.0f}" if c in by else "-" for c in CHECKPOINTS))
        console.print(mem)


if __name__ == "__main__":
    main()
