"""Bad video input through the real CLI: every case ends in one `error:` line and exit code 2 (or works),
never a traceback, a hang or a memory blow-up. Every file is generated here; none is committed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import pytest
from media import write_audio_only, write_png, write_video
from PIL import Image

TIME_LIMIT_S = 10.0
MEMORY_LIMIT_MB = 500.0
# The child reports its own peak memory on the way out, after main() has exited with its code. VmHWM
# starts afresh at exec, unlike ru_maxrss, which Linux carries over from the (large) pytest process.
CHILD = """
import atexit, re, sys
def peak():
    with open("/proc/self/status") as fh:
        print("peak-kb", re.search(r"VmHWM:\\s*(\\d+)", fh.read())[1], file=sys.stderr)
atexit.register(peak)
sys.argv[0] = "sitewatch"
from sitewatch.cli import main
main()
"""
# These tests exercise the video layer, so analyze runs the cheapest shipped detector.
BASE_ENV = {"SITEWATCH_DETECTOR": "pose-rules", "SITEWATCH_LANG": "en"}


@dataclass(frozen=True)
class Run:
    """What one CLI run printed, returned and cost."""

    code: int
    out: str
    err: str
    seconds: float
    peak_mb: float


def sitewatch(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run `sitewatch ARGS` in a fresh interpreter, with no SITEWATCH_* setting but `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SITEWATCH_")} | BASE_ENV | (env or {})
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, env=environ, cwd=cwd,
        timeout=3 * TIME_LIMIT_S,
    )
    seconds = time.perf_counter() - started
    peak = re.search(r"^peak-kb (\d+)$", proc.stderr, re.M)
    err = re.sub(r"^peak-kb \d+\n?", "", proc.stderr, flags=re.M)
    return Run(proc.returncode, proc.stdout, err, seconds, int(peak[1]) / 1024 if peak else 0.0)


# --- the corpus: each maker writes one bad (or odd) file into a folder and returns its path -------


def text(name: str, content: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_text(content)
        return d / name

    return make


def random_bytes(name: str, size: int = 65536) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).write_bytes(np.random.default_rng(7).integers(0, 256, size, dtype=np.uint8).tobytes())
        return d / name

    return make


def picture(
    name: str, size: tuple[int, int] = (64, 48), mode: str = "RGB", fmt: str | None = None
) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))
        img.convert(mode).save(d / name, format=fmt)
        return d / name

    return make


def grey16(d: Path) -> Path:
    Image.fromarray(np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) * 20).save(d / "grey16.png")
    return d / "grey16.png"


def damaged_jpeg(d: Path) -> Path:
    """A valid JPEG header and first third; the rest of its body overwritten with noise."""
    good = picture("good.jpg", (640, 480))(d)
    data = bytearray(good.read_bytes())
    third = len(data) // 3
    data[third:] = np.random.default_rng(0).integers(0, 256, len(data) - third, dtype=np.uint8).tobytes()
    (d / "damaged.jpg").write_bytes(bytes(data))
    return d / "damaged.jpg"


def cut(source: Callable[[Path], Path], name: str, keep: float | int) -> Callable[[Path], Path]:
    """The first `keep` bytes (an int) or fraction (a float) of another case's file."""

    def make(d: Path) -> Path:
        data = source(d).read_bytes()
        (d / name).write_bytes(data[: keep if isinstance(keep, int) else int(len(data) * keep)])
        return d / name

    return make


def renamed(source: Callable[[Path], Path], name: str) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        return source(d).rename(d / name)

    return make


def video(name: str, **options: object) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        return write_video(d / name, **options)

    return make


def unsupported_codec(d: Path) -> Path:
    data = write_video(d / "v.mkv", frames=4).read_bytes()
    (d / "odd.mkv").write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_SITEWATCH/XYZ"))
    return d / "odd.mkv"


def gif(name: str, frames: int) -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        images = [Image.fromarray(np.full((32, 48, 3), 40 * i, np.uint8)) for i in range(frames)]
        images[0].save(d / name, save_all=frames > 1, append_images=images[1:], duration=100, loop=0)
        return d / name

    return make


def gif_header(d: Path) -> Path:
    """A GIF whose screen claims 60000x60000 pixels (and whose body is one tiny frame)."""
    data = bytearray(gif("small.gif", 1)(d).read_bytes())
    data[6:10] = (60000).to_bytes(2, "little") * 2
    (d / "huge.gif").write_bytes(bytes(data))
    return d / "huge.gif"


def symlink(target: str, name: str = "link.mp4") -> Callable[[Path], Path]:
    def make(d: Path) -> Path:
        (d / name).symlink_to(d / target)
        return d / name

    return make


def symlink_loop(d: Path) -> Path:
    (d / "a.mp4").symlink_to(d / "b.mp4")
    (d / "b.mp4").symlink_to(d / "a.mp4")
    return d / "a.mp4"


def fifo(d: Path) -> Path:
    os.mkfifo(d / "pipe.mp4")
    return d / "pipe.mp4"


def unreadable(d: Path) -> Path:
    path = write_video(d / "locked.mp4", frames=4)
    path.chmod(0)
    return path


def in_odd_folder(d: Path) -> Path:
    folder = d / "현장 영상 (복사본)"
    folder.mkdir()
    return write_video(folder / "넘어짐 사고 1.mp4", frames=30)


def under_a_file(d: Path) -> Path:
    (d / "file.mp4").write_text("x")
    return d / "file.mp4" / "clip.mp4"


def gapped(d: Path) -> Path:
    """Three frames, then eleven hours of nothing, then one more: within budget, but no plan of millions."""
    return write_video(d / "gap.mkv", frames=4, pts_seconds=[0.0, 0.1, 0.2, 11 * 3600.0])


def subtitles_only(d: Path) -> Path:
    with av.open(str(d / "subs.mkv"), "w") as out:
        stream = out.add_stream("ass")
        packet = av.Packet(b"hello")
        packet.stream, packet.pts, packet.dts, packet.duration = stream, 0, 0, 1000
        out.mux(packet)
    return d / "subs.mkv"


ALL = ("probe", "frames", "analyze")
# Refusals of the path or of its first bytes happen in probe, which frames runs first as analyze does.
PATH_ONLY = ("probe", "analyze")


@dataclass(frozen=True)
class Case:
    """A generated input, the commands to try on it and the one-line error expected (None: it must work)."""

    make: Callable[[Path], Path]
    error: str | None
    commands: tuple[str, ...] = ALL
    env: dict[str, str] = field(default_factory=dict)
    heavy: bool = False  # also check peak memory
    root_skip: bool = False  # root reads anything


def small_mp4(d: Path) -> Path:
    return write_video(d / "v.mp4", frames=60)


def faststart(d: Path) -> Path:
    return write_video(d / "fs.mp4", frames=240, width=320, height=240, container_options={"movflags": "faststart"})


def matroska(d: Path) -> Path:
    return write_video(d / "long.mkv", frames=240, width=320, height=240)


NOT_MEDIA = r"not a video or image sitewatch can read"
TOO_LONG = r"above the limit of 43,200 s \(raise SITEWATCH_MAX_DURATION_S to allow it\)"
TOO_SMALL = r"is too small to show a person \(at least 16 pixels on each side\)"
TOO_BIG = r"above the limit of 33,177,600 pixels per frame \(raise SITEWATCH_MAX_PIXELS to allow it\)"
DAMAGED_IMAGE = r"the image (is damaged|header is damaged)"

CASES: dict[str, Case] = {
    # the path itself
    "missing file": Case(lambda d: d / "nope.mp4", r"nope\.mp4: no such file", PATH_ONLY),
    "directory": Case(lambda d: d, r"is a directory, not a video file", PATH_ONLY),
    "zero bytes": Case(text("empty.mp4", ""), r"the file is empty \(0 bytes\)", PATH_ONLY),
    "broken symlink": Case(symlink("gone.mp4"), r"a symbolic link to nothing", PATH_ONLY),
    "symlink loop": Case(symlink_loop, r"a symbolic link to nothing \(broken, or a loop of links\)", PATH_ONLY),
    "fifo (must not block)": Case(fifo, r"pipe\.mp4: not a regular file", PATH_ONLY),
    "character device": Case(lambda d: Path("/dev/null"), r"/dev/null: not a regular file", PATH_ONLY),
    "path under a file": Case(under_a_file, r"clip\.mp4: no such file", PATH_ONLY),
    "no read permission": Case(unreadable, r"cannot be read \(permission denied\)", PATH_ONLY, root_skip=True),
    # not media at all
    "text named .mp4": Case(text("notes.mp4", "meeting notes, not a video\n" * 20), NOT_MEDIA, PATH_ONLY),
    "text named .jpg": Case(text("notes.jpg", "not a picture"), NOT_MEDIA, PATH_ONLY),
    "text named .png": Case(text("notes.png", "not a picture either"), NOT_MEDIA, PATH_ONLY),
    "html named .mp4": Case(text("page.mp4", "<!doctype html><html><body>404</body></html>\n"), NOT_MEDIA, PATH_ONLY),
    "random bytes .mp4": Case(random_bytes("noise.mp4"), NOT_MEDIA, PATH_ONLY),
    "random bytes, no suffix": Case(random_bytes("noise"), NOT_MEDIA, PATH_ONLY),
    "one byte": Case(text("one.mp4", "x"), NOT_MEDIA, PATH_ONLY),
    # containers without a usable video stream
    "audio only": Case(lambda d: write_audio_only(d / "voice.m4a"), r"audio only, there is no video stream"),
    "subtitles only": Case(subtitles_only, r"no video stream \(found: subtitle\)"),
    "unsupported codec": Case(unsupported_codec, r"the video codec cannot be decoded"),
    # damaged videos
    "mp4 cut before its index": Case(cut(small_mp4, "cut.mp4", 2000), NOT_MEDIA),
    "mp4 cut to its header": Case(cut(faststart, "head.mp4", 48), r"head\.mp4: no video stream \(found: no streams\)"),
    # budgets, measured from the packets
    "frames 10^7 s apart": Case(
        video("far.mkv", frames=2, pts_seconds=[0.0, 1e7]), TOO_LONG, heavy=True
    ),
    "longer than SITEWATCH_MAX_DURATION_S": Case(
        video("v.mp4", frames=60), r"above the limit of 1 s \(raise SITEWATCH_MAX_DURATION_S",
        env={"SITEWATCH_MAX_DURATION_S": "1"},
    ),
    "more frames than SITEWATCH_MAX_PLANNED_FRAMES": Case(
        video("v.mp4", frames=60), r"needs 12 frames, above the limit of 5 \(raise SITEWATCH_MAX_PLANNED_FRAMES",
        commands=("analyze",), env={"SITEWATCH_MAX_PLANNED_FRAMES": "5"},
    ),
    "1x1 video": Case(video("dot.mkv", frames=3, width=1, height=1, codec="ffv1"), "1x1 " + TOO_SMALL),
    "2x2 video": Case(video("two.mkv", frames=3, width=2, height=2, codec="ffv1"), "2x2 " + TOO_SMALL),
    "8-pixel-high strip": Case(
        video("strip.mp4", frames=3, width=640, height=8), r"640x8 is too small to show a person \(at least 16 pixels"
    ),
    "2x2 bmp": Case(picture("dot.bmp", (2, 2)), r"dot\.bmp: 2x2 is too small to show a person"),
    "8K+ video": Case(
        video("huge.mkv", frames=1, width=8192, height=4352, codec="mjpeg", pix_fmt="yuvj420p"),
        r"8192x4352 is " + TOO_BIG, heavy=True,
    ),
    "video above SITEWATCH_MAX_PIXELS": Case(
        video("v.mp4", frames=4), r"160x96 is above the limit of 10,000", env={"SITEWATCH_MAX_PIXELS": "10000"}
    ),
    # images
    "12000x12000 png (419 KB)": Case(lambda d: write_png(d / "big.png", 12000, 12000), "12000x12000 is " + TOO_BIG,
                                     heavy=True),
    "200000x200000 png header": Case(
        lambda d: write_png(d / "header.png", 200_000, 200_000, pixels=False), r"far above the limit", heavy=True
    ),
    "60000x60000 gif header": Case(gif_header, r"(far above the limit|60000x60000 is above)", heavy=True),
    "jpeg with a damaged body": Case(damaged_jpeg, DAMAGED_IMAGE, heavy=True),
    "jpeg cut in half": Case(cut(picture("whole.jpg", (320, 240)), "half.jpg", 0.5), DAMAGED_IMAGE),
    "png cut in half": Case(cut(picture("whole.png", (320, 240)), "half.png", 0.5), DAMAGED_IMAGE),
    "jpeg header only": Case(cut(picture("whole.jpg", (320, 240)), "head.jpg", 200), NOT_MEDIA),
    "image above SITEWATCH_MAX_PIXELS": Case(
        picture("photo.jpg"), r"64x48 is above the limit of 100 pixels", env={"SITEWATCH_MAX_PIXELS": "100"}
    ),
}

# Odd but usable input: it must work (exit 0, no traceback), quickly.
WORKS: dict[str, Case] = {
    "raw .h264 elementary stream": Case(video("raw.h264", frames=60), None),
    "raw h264 named .mp4": Case(renamed(video("raw.h264", frames=30), "raw.mp4"), None),
    "mp4 named .png": Case(renamed(small_mp4, "clip.png"), None),
    "png named .mp4": Case(picture("shot.mp4", fmt="PNG"), None),
    "jpeg named .mov": Case(picture("photo.mov", fmt="JPEG"), None),
    "still gif": Case(gif("still.gif", 1), None),
    "animated gif": Case(gif("anim.gif", 6), None),
    "one-frame video": Case(video("one.mp4", frames=1), None),
    "eleven-hour gap between frames": Case(gapped, None),
    "path with spaces and Korean": Case(in_odd_folder, None),
    "16-bit grey png": Case(grey16, None),
    "cmyk jpeg": Case(picture("print.jpg", mode="CMYK"), None),
    "palette png": Case(picture("pal.png", mode="P"), None),
    "png with alpha": Case(picture("alpha.png", mode="RGBA"), None),
    "16x16 bmp, the smallest accepted": Case(picture("dot.bmp", (16, 16)), None),
    "webp": Case(picture("photo.webp"), None),
    "tiff": Case(picture("scan.tiff"), None),
    "rotated video": Case(video("turned.mp4", frames=30, rotation=90), None),
    "variable frame rate": Case(
        video("vfr.mp4", frames=45, pts_seconds=[i * 0.02 if i < 30 else 0.6 + (i - 30) * 0.2 for i in range(45)]),
        None,
    ),
    "variable frame rate mkv": Case(
        video("vfr.mkv", frames=45, pts_seconds=[i * 0.02 if i < 30 else 0.6 + (i - 30) * 0.2 for i in range(45)]),
        None,
    ),
}


def _command(command: str, path: Path, d: Path) -> list[str]:
    return {"probe": ["probe", str(path)], "frames": ["frames", str(path), "--out", str(d / "frames_out")]}.get(
        command, ["analyze", str(path), "--json"]
    )


def _check_clean(run: Run) -> None:
    assert "Traceback" not in run.err + run.out, run.err
    assert run.seconds < TIME_LIMIT_S, f"took {run.seconds:.1f} s"


def _prepare(case: Case, tmp_path: Path) -> Path:
    if case.root_skip and os.geteuid() == 0:
        pytest.skip("root reads files without read permission")
    return case.make(tmp_path)


@pytest.mark.parametrize(("name", "command"), [(name, c) for name, case in CASES.items() for c in case.commands])
def test_bad_input_is_refused_in_one_line(name: str, command: str, tmp_path: Path) -> None:
    case = CASES[name]
    path = _prepare(case, tmp_path)
    run = sitewatch(_command(command, path, tmp_path), cwd=tmp_path, env=case.env)
    _check_clean(run)
    assert run.code == 2, (run.code, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.err
    assert re.search(case.error or "", lines[0]), lines[0]
    if case.heavy:
        assert run.peak_mb < MEMORY_LIMIT_MB, f"peak {run.peak_mb:.0f} MB"


@pytest.mark.parametrize("command", ALL)
@pytest.mark.parametrize("name", list(WORKS))
def test_odd_input_works(name: str, command: str, tmp_path: Path) -> None:
    path = _prepare(WORKS[name], tmp_path)
    run = sitewatch(_command(command, path, tmp_path), cwd=tmp_path)
    _check_clean(run)
    assert run.code == 0, run.err
    if command == "analyze":
        report = json.loads(run.out)
        assert report["coverage"] >= 0.95, report["warnings"]
    if command == "frames":
        assert len(list((tmp_path / "frames_out").glob("*.jpg"))) == 16


@pytest.mark.parametrize("source", [faststart, matroska], ids=["mp4 faststart", "mkv"])
def test_truncated_video_is_read_in_part_and_never_confidently_clear(source, tmp_path: Path) -> None:
    cut_path = cut(source, "cut" + source(tmp_path).suffix, 0.1)(tmp_path)
    run = sitewatch(["analyze", str(cut_path), "--json"], cwd=tmp_path)
    _check_clean(run)
    assert run.code == 0, run.err
    report = json.loads(run.out)
    assert report["coverage"] < 0.5
    assert any(re.match(r"only \d+\.\d of 8\.\d s could be read", w) for w in report["warnings"]), report["warnings"]
    assert report["verdict"] != "no_accident" and report["confidence"] <= 0.5
    frames = sitewatch(["frames", str(cut_path), "--out", str(tmp_path / "f")], cwd=tmp_path)
    _check_clean(frames)
    assert frames.code == 0, frames.err

