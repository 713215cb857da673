"""Benchmark `sitewatch serve` against calling `analyze` directly, in the same run on the same clip.

Prints: API overhead vs a direct `analyze` (and vs `analyze` + `write_report`, the same work the server
does), clips per minute with 1 and 2 workers, p50/p95 time from upload to the first progress event, and
8 concurrent clients (errors, cross-talk, server RSS).

    python benchmarks/api.py [--clip PATH] [--repeat 5] [--batch 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
# The API tests' harness: a real `sitewatch serve` subprocess and an SSE reader.
sys.path.insert(0, str(REPO / "tests"))
from media import SHARED_VIDEOS, write_video  # noqa: E402
from test_api import Server, events, upload  # noqa: E402

from sitewatch.report.files import write_report  # noqa: E402
from sitewatch.service.assess import analyze  # noqa: E402
from sitewatch.settings import get_settings  # noqa: E402

DEFAULT_CLIP = SHARED_VIDEOS / "dev01_sriram2226.mp4"
FALLBACK_CLIP = REPO / "samples" / "synthetic_trip.mp4"


def timed_api_run(server: Server, clip: Path) -> tuple[float, float]:
    """(seconds from upload to the result event, seconds from upload to the first progress event)."""
    with server.client() as c:
        started = time.perf_counter()
        analysis_id = upload(c, clip, force="true").json()["id"]
        first = None
        for event, _ in events(c, f"/v1/analyses/{analysis_id}/events"):
            if event == "progress" and first is None:
                first = time.perf_counter() - started
            if event in ("result", "failed", "cancelled"):
                assert event == "result", event
                return time.perf_counter() - started, first or 0.0
    raise AssertionError("the event stream ended without a result")


def timed_direct_run(clip: Path, folder: Path | None) -> float:
    settings = get_settings()
    started = time.perf_counter()
    report = analyze(clip, settings)
    if folder is not None:
        write_report(report, folder, lang=settings.lang)
    return time.perf_counter() - started


def throughput(server: Server, clip: Path, batch: int) -> tuple[float, list[float]]:
    """Clips per minute for `batch` simultaneous uploads, and each one's time to its first progress event."""
    started = time.perf_counter()
    with ThreadPoolExecutor(batch) as pool:
        runs = list(pool.map(lambda _: timed_api_run(server, clip), range(batch)))
    return batch / (time.perf_counter() - started) * 60, [first for _, first in runs]


def server_rss_mb(server: Server) -> tuple[float, float]:
    """(resident now, peak) of the server process, in MiB."""
    assert server.proc is not None
    values = {}
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def concurrent_clients(server: Server, folder: Path) -> tuple[int, int]:
    """Eight clients with different clips at once: (errors, results that belong to another client)."""
    clips = [write_video(folder / f"client_{i}.mp4", frames=60 + 15 * i, width=320, height=180) for i in range(8)]

    def one(clip: Path) -> tuple[bool, bool]:
        try:
            with server.client() as c:
                analysis_id = upload(c, clip, force="true").json()["id"]
                last = list(events(c, f"/v1/analyses/{analysis_id}/events"))[-1]
                report = c.get(f"/v1/analyses/{analysis_id}/report").json()
            own = last[0] == "result" and report["video"]["path"] == clip.name == last[1]["video"]["path"]
            return True, own
        except Exception as exc:
            print(f"client error: {exc!r}", file=sys.stderr)
            return False, True

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, clips))
    return sum(not ok for ok, _ in outcomes), sum(not own for _, own in outcomes)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP if DEFAULT_CLIP.is_file() else FALLBACK_CLIP)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per way (after one warm-up each)")
    parser.add_argument("--batch", type=int, default=6, help="clips submitted at once for clips/min")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="sitewatch-bench-api-") as tmp:
        root = Path(tmp)
        server = Server(root / "one", SITEWATCH_API_WORKERS="1", SITEWATCH_UPLOAD_LIMIT_MB="500").start()
        try:
            timed_api_run(server, args.clip)
            timed_direct_run(args.clip, None)
            direct, direct_files, api, first = [], [], [], []
            # Interleaved, so both ways see the same machine load.
            for i in range(args.repeat):
                direct.append(timed_direct_run(args.clip, None))
                direct_files.append(timed_direct_run(args.clip, root / f"out{i}"))
                total, to_first = timed_api_run(server, args.clip)
                api.append(total)
                first.append(to_first)
            per_min_1, first_1 = throughput(server, args.clip, args.batch)
        finally:
            server.stop()
        server = Server(root / "two", SITEWATCH_API_WORKERS="2", SITEWATCH_UPLOAD_LIMIT_MB="500").start()
        try:
            timed_api_run(server, args.clip)
            per_min_2, first_2 = throughput(server, args.clip, args.batch)
            errors, crossed = concurrent_clients(server, root)
            rss, peak = server_rss_mb(server)
        finally:
            server.stop()

    d, df, a = statistics.median(direct), statistics.median(direct_files), statistics.median(api)
    rows += [
        ("clip", f"{args.clip.name}"),
        ("direct analyze, median s", f"{d:.2f}"),
        ("direct analyze + write_report, median s", f"{df:.2f}"),
        ("API upload → result event, median s", f"{a:.2f}"),
        ("API overhead vs analyze", f"{(a - d) / d:+.1%}"),
        ("API overhead vs analyze + write_report", f"{(a - df) / df:+.1%}"),
        ("upload → first progress event, idle server p50 / p95 s", f"{pct(first, 0.5):.3f} / {pct(first, 0.95):.3f}"),
        (f"clips/min, 1 worker ({args.batch} at once)", f"{per_min_1:.1f}"),
        (f"clips/min, 2 workers ({args.batch} at once)", f"{per_min_2:.1f}"),
        ("first progress event under load p50 / p95 s, 1 worker",
         f"{pct(first_1, 0.5):.2f} / {pct(first_1, 0.95):.2f}"),
        ("first progress event under load p50 / p95 s, 2 workers",
         f"{pct(first_2, 0.5):.2f} / {pct(first_2, 0.95):.2f}"),
        ("8 concurrent clients: errors / cross-talk", f"{errors} / {crossed}"),
        ("server RSS after them / peak, MiB", f"{rss:.0f} / {peak:.0f}"),
    ]
    table = Table("measure", "value", title=f"sitewatch serve vs direct analyze ({args.repeat} runs each)")
    for name, value in rows:
        table.add_row(name, value)
    Console().print(table)


if __name__ == "__main__":
    main()
