"""The `sitewatch` command line end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from media import SHARED_VIDEOS, write_video

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "synthetic_trip.mp4"


def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitewatch", *args], capture_output=True, text=True, timeout=timeout, cwd=REPO
    )


def test_help_starts_fast_and_lists_the_commands() -> None:
    started = time.perf_counter()
    out = run("--help")
    elapsed = time.perf_counter() - started
    assert out.returncode == 0
    for command in ("probe", "frames", "analyze", "eval", "chat", "models", "convert-pllava"):
        assert command in out.stdout
    assert elapsed < 5, "a bare start must not import torch, gradio or the detector"
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, sitewatch.cli; print(sorted(m for m in ('torch', 'gradio', 'cv2', "
         "'transformers', 'ai_edge_litert') if m in sys.modules))"],
        capture_output=True, text=True, check=True,
    )
    assert heavy.stdout.strip() == "[]"


def test_probe_json_of_the_sample() -> None:
    out = run("probe", str(SAMPLE), "--json")
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert (info["width"], info["height"], info["frame_count"], info["codec"]) == (640, 360, 250, "h264")


def test_frames_writes_jpegs(tmp_path: Path) -> None:
    out = run("frames", str(SAMPLE), "--n", "4", "--out", str(tmp_path / "f"), "--max-side", "160")
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "f").glob("frame_*.jpg"))) == 4


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"", "empty"), (b"hello, not a video", "not a video")],
)
def test_bad_input_is_one_clear_line_and_exit_2(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "upload.mp4"
    path.write_bytes(content)
    out = run("analyze", str(path))
    assert out.returncode == 2
    assert needle in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_missing_file_and_directory(tmp_path: Path) -> None:
    assert "no such file" in run("probe", str(tmp_path / "x.mp4")).stderr
    assert "directory" in run("analyze", str(tmp_path)).stderr


def test_analyze_json_and_report_folder(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=40, fps=10)
    out = run("analyze", str(video), "--json", "--out", str(tmp_path / "rep"))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["verdict"] == "no_accident" and report["video"]["frame_count"] == 40
    # What a reader wants comes first; the video's metadata and the signals after.
    keys = list(report)
    assert keys[:3] == ["verdict", "confidence", "events"] and keys.index("video") > keys.index("summary_ko")
    assert '"verdict"' in out.stdout.splitlines()[1]
    assert {p.name for p in (tmp_path / "rep").iterdir()} >= {"report.json", "report.html", "keyframes"}


@pytest.mark.skipif(not (SHARED_VIDEOS / "dev01_sriram2226.mp4").is_file(), reason="shared clips absent")
def test_analyze_prints_a_korean_verdict_for_a_real_fall() -> None:
    out = run("analyze", str(SHARED_VIDEOS / "dev01_sriram2226.mp4"), "--lang", "ko")
    assert out.returncode == 0, out.stderr
    assert "사고 감지" in out.stdout and "사람이 넘어졌습니다" in out.stdout


def test_models_lists_backends_as_json() -> None:
    out = run("models", "--json")
    names = {row["name"] for row in json.loads(out.stdout)}
    assert {"pllava-7b", "pllava-34b"} <= names and any(n.startswith("hf") for n in names)


def test_chat_answers_from_the_report_in_korean(tmp_path: Path) -> None:
    video = write_video(tmp_path / "clip.mp4", frames=30, fps=10)
    out = subprocess.run(
        [sys.executable, "-m", "sitewatch", "chat", str(video)],
        input="영상에서 무슨 일이 생겼어?\n/quit\n", capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    assert "사고를 발견하지 못했습니다" in out.stdout and "SITEWATCH_" not in out.stdout


def test_a_long_job_writes_plain_progress_lines_into_a_log_file() -> None:
    """stderr that is a file gets progress lines (a rich bar draws nothing there), counting up to the end."""
    import io
    import re

    from sitewatch.assess import analyze
    from sitewatch.cli import _progress_bar
    from sitewatch.plain_progress import PlainProgress
    from sitewatch.settings import get_settings

    _, update = _progress_bar()  # pytest captures stderr: not a terminal
    assert isinstance(getattr(update, "__self__", None), PlainProgress)
    log = io.StringIO()
    lines = PlainProgress({"detect": "detecting"}, out=log, first_after_s=0, every_s=0)
    analyze(SHARED_VIDEOS / "dev06_cwlroda_c.mp4", get_settings(), progress=lines.update)
    written = log.getvalue().splitlines()
    counts = [re.fullmatch(r"detecting: (\d+)/(\d+) \(\d+%\), 0:\d\d elapsed(, about 0:\d\d left)?", line)
              for line in written]
    assert written and all(counts), written[:3]
    done = [int(m[1]) for m in counts if m]
    assert done == sorted(done) and done[-1] >= int(counts[-1][2]) - 1
