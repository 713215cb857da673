"""Benchmark `sitewatch watch`: alert latency, cameras per machine at the detector's rate, memory over a long run.

Prints three tables:

- alert latency, from the labelled fall moment in the stream to the `new` webhook received (p50/p95; goal
  <= 2 s), over the manifest's fall clips played by a real RTSP server (or as files at their real rate); it
  is mostly the detector's confirmation (the frames after the fall it needs to be sure), so the part after
  detection (the incident and its outbox rows written, the signed POST) is shown apart;
- 1..N cameras watched at once: CPU per camera, frames analysed and dropped (the detector's rate is kept
  while drops stay near zero), and so cameras per core; `--size 720p` watches a 1280x720 30 fps copy of the
  clip, the issue's yardstick (the reader decodes every frame of a live stream, so resolution costs twice);
- memory over a long run of looping cameras raising incidents every cooldown: RSS at start and end and the
  slope of a line fitted to the second half (MB per minute).

    python benchmarks/live.py [--parts latency,capacity,memory] [--rounds 2] [--cameras 1,2,4,6] [--seconds 20]
                              [--size clip|720p] [--memory-minutes 3]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
# The live tests' harness: the RTSP server and the signature-checking webhook receiver.
sys.path.insert(0, str(REPO / "tests"))
from long_video import make_long_video  # noqa: E402
from media import SHARED_VIDEOS  # noqa: E402
from test_live import RtspServer, WebhookReceiver, rtsp_unavailable  # noqa: E402

from sitewatch.live.config import load_config  # noqa: E402
from sitewatch.live.watcher import Watcher  # noqa: E402
from sitewatch.settings import Settings  # noqa: E402
from sitewatch.store import Store  # noqa: E402
from sitewatch.video.probe import probe  # noqa: E402

SECRET = "test-webhook-secret"
LOOP_CLIP = SHARED_VIDEOS / "dev01_sriram2226.mp4"
KEPT_RATE_DROPPED_PCT = 1.0  # at most this share of frames dropped: the cameras are kept at the detector's rate


def fall_clips() -> list[tuple[Path, float]]:
    """The manifest's person-fall clips in H.264 (what the RTSP test server streams) with their fall moment."""
    rows = csv.DictReader((SHARED_VIDEOS / "MANIFEST.csv").open(encoding="utf-8"))
    return [(SHARED_VIDEOS / r["file"], float(r["fall_start_s"])) for r in rows
            if r["event_type"].startswith("person_") and r["fall_start_s"] and (SHARED_VIDEOS / r["file"]).is_file()]


def rss_mb() -> float:
    """This process's resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def watching(folder: Path, cameras: list[dict], **options: object) -> tuple[Watcher, Store]:
    """A started Watcher with its own history in `folder`."""
    settings = Settings(data_dir=folder, webhook_secret=SECRET, lang="en")
    store = Store.open(settings)
    config = load_config(None, [], cameras=cameras, **options)
    return Watcher(config, settings, store).start(), store


def latency(rounds: int, parallel: int, folder: Path) -> tuple[list[float], list[float], int, int, str]:
    """Seconds from each labelled fall to its first webhook alert, and from its detection to the webhook;
    also alerts missed, clips played, how they were played."""
    clips = fall_clips()
    reason = rtsp_unavailable()
    server = None if reason else RtspServer({f"c{i}": p for i, (p, _) in enumerate(clips)}).start()
    receiver = WebhookReceiver(SECRET)
    latencies: list[float] = []
    after_detection: list[float] = []
    missed = played = 0
    try:
        jobs = [(i, fall_s) for _ in range(rounds) for i, (_, fall_s) in enumerate(clips)]
        for start in range(0, len(jobs), parallel):
            batch = jobs[start:start + parallel]
            receiver.alerts.clear()
            cameras = [{"name": f"cam{k}", "url": server.url(f"c{i}") if server else str(clips[i][0])}
                       for k, (i, _) in enumerate(batch)]
            watcher, store = watching(folder / f"lat{start}", cameras, webhooks=[receiver.url], post_roll_s=0,
                                      pre_roll_s=0)
            deadline = time.monotonic() + max(fall_s for _, fall_s in batch) + 8
            while time.monotonic() < deadline and len(receiver.of("new")) < len(batch):
                time.sleep(0.1)
            watcher.stop()
            store.close()
            for k, (_, fall_s) in enumerate(batch):
                played += 1
                alerts = [(t, a) for t, a in receiver.alerts if a["type"] == "new" and a["camera"] == f"cam{k}"]
                if not alerts:
                    missed += 1
                    continue
                received, alert = alerts[0]
                # started_at - stream_s is when this connection's first frame arrived: the stream's zero.
                zero = datetime.fromisoformat(alert["started_at"]).timestamp() - alert["stream_s"]
                latencies.append(received - (zero + fall_s))
                after_detection.append(received - datetime.fromisoformat(alert["detected_at"]).timestamp())
    finally:
        receiver.close()
        if server:
            server.stop()
    return latencies, after_detection, missed, played, ("RTSP (gst-rtsp-server)" if server else f"files ({reason})")


def capacity(count: int, seconds: float, folder: Path, source: Path = LOOP_CLIP) -> dict[str, float]:
    """`count` cameras looping `source` for `seconds`: CPU per camera (cores), frames analysed and dropped."""
    cameras = [{"name": f"cam{k}", "url": str(source), "loop": True} for k in range(count)]
    # No alerts: this measures watching, not incident clips.
    watcher, store = watching(folder / f"cap{count}", cameras, min_confidence=1.0)
    time.sleep(2.0)  # models loaded, streams open
    cpu0, wall0 = time.process_time(), time.monotonic()
    before = watcher.statuses()
    time.sleep(seconds)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    after = watcher.statuses()
    watcher.stop()
    store.close()
    analysed = sum(a.frames_analysed - b.frames_analysed for a, b in zip(after, before, strict=True))
    dropped = sum(a.frames_dropped - b.frames_dropped for a, b in zip(after, before, strict=True))
    return {"cpu_per_camera": cpu / wall / count, "fps_per_camera": analysed / wall / count,
            "dropped_pct": 100 * dropped / max(1, analysed + dropped)}


def memory(minutes: float, count: int, folder: Path) -> tuple[list[tuple[float, float]], int]:
    """RSS samples (minutes, MB) while `count` looping cameras raise an incident every cooldown; incidents made."""
    cameras = [{"name": f"cam{k}", "url": str(LOOP_CLIP), "loop": True} for k in range(count)]
    receiver = WebhookReceiver(SECRET)
    watcher, store = watching(folder / "mem", cameras, webhooks=[receiver.url], cooldown_s=30)
    samples = []
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < minutes * 60:
            samples.append((elapsed / 60, rss_mb()))
            time.sleep(5)
    finally:
        watcher.stop()
        store.close()
        receiver.close()
    return samples, len(receiver.of("new"))


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nan for none)."""
    return float(np.percentile(values, q)) if values else float("nan")


def main() -> None:
    """Run the three measurements and print their tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="latency,capacity,memory", help="which measurements to run")
    parser.add_argument("--rounds", type=int, default=2, help="times each fall clip is played for latency")
    parser.add_argument("--parallel", type=int, default=3, help="fall clips played at once for latency")
    parser.add_argument("--cameras", default="1,2,4,8,12", help="camera counts for the capacity table")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per camera count")
    parser.add_argument("--size", choices=("clip", "720p"), default="clip",
                        help="capacity on the clip as it is (640x360) or on a 1280x720 30 fps copy of it")
    parser.add_argument("--memory-minutes", type=float, default=3.0, help="length of the memory run")
    parser.add_argument("--memory-cameras", type=int, default=2)
    args = parser.parse_args()
    console = Console()
    console.print(f"{os.cpu_count()} CPU cores; detector: pose at 6 fps, one pose thread per camera")
    parts = set(args.parts.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if "latency" in parts:
            latency_table(args, folder, console)
        if "capacity" in parts:
            capacity_table(args, folder, console)
        if "memory" in parts:
            memory_table(args, folder, console)


def latency_table(args: argparse.Namespace, folder: Path, console: Console) -> None:
    """Print the alert-latency table."""
    values, sending, missed, played, how = latency(args.rounds, args.parallel, folder)
    table = Table(title=f"Alert latency: labelled fall -> webhook received ({how})")
    for column in ("falls played", "alerts", "missed", "p50 s", "p95 s", "max s", "after detection p50 s",
                   "goal"):
        table.add_column(column, justify="right")
    table.add_row(str(played), str(len(values)), str(missed), f"{pct(values, 50):.2f}",
                  f"{pct(values, 95):.2f}", f"{max(values, default=float('nan')):.2f}",
                  f"{pct(sending, 50):.3f}", "p95 <= 2 s")
    console.print(table)


def capacity_table(args: argparse.Namespace, folder: Path, console: Console) -> None:
    """Print the cameras-at-once table, and the most cameras kept at the detector's rate per core."""
    source = LOOP_CLIP
    if args.size == "720p":
        source = folder / "loop_720p.mp4"
        make_long_video(LOOP_CLIP, source, minutes=1.0)
    info = probe(source)
    table = Table(title=f"Cameras at once (looping {LOOP_CLIP.name} at {info.width}x{info.height}, "
                        f"{info.fps:g} fps, {args.seconds:g} s each)")
    for column in ("cameras", "CPU per camera (cores)", "total CPU (cores)", "analysed fps per camera",
                   "dropped %"):
        table.add_column(column, justify="right")
    kept = 0
    for count in (int(c) for c in args.cameras.split(",")):
        r = capacity(count, args.seconds, folder, source)
        table.add_row(str(count), f"{r['cpu_per_camera']:.2f}", f"{r['cpu_per_camera'] * count:.2f}",
                      f"{r['fps_per_camera']:.1f}", f"{r['dropped_pct']:.1f}")
        if r["dropped_pct"] <= KEPT_RATE_DROPPED_PCT:
            kept = max(kept, count)
    console.print(table)
    cores = len(os.sched_getaffinity(0))
    console.print(f"kept at the detector's rate (at most {KEPT_RATE_DROPPED_PCT:g} % dropped): {kept} cameras on "
                  f"{cores} cores, {kept / cores:.1f} cameras per core")


def memory_table(args: argparse.Namespace, folder: Path, console: Console) -> None:
    """Print the long-run memory table."""
    samples, incidents = memory(args.memory_minutes, args.memory_cameras, folder)
    half = [s for s in samples if s[0] >= args.memory_minutes / 2] or samples
    slope = float(np.polyfit([m for m, _ in half], [r for _, r in half], 1)[0]) if len(half) > 1 else float("nan")
    table = Table(title=f"Memory: {args.memory_cameras} looping cameras, {args.memory_minutes:g} min, "
                        f"{incidents} incidents (clip + report each)")
    for column in ("RSS start MB", "RSS end MB", "peak MB", "slope, 2nd half (MB/min)"):
        table.add_column(column, justify="right")
    table.add_row(f"{samples[0][1]:.0f}", f"{samples[-1][1]:.0f}", f"{max(r for _, r in samples):.0f}",
                  f"{slope:+.2f}")
    console.print(table)
    console.print(f"median RSS over the run: {statistics.median(r for _, r in samples):.0f} MB")


if __name__ == "__main__":
    main()
