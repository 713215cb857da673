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


# The top-level modules of every extra but `detect`: what `scripts/run.sh` (the README's first command) does
# not install. Blocked, they import as if missing.
NOT_IN_DETECT = ("sqlalchemy", "alembic", "fastapi", "uvicorn", "multipart", "psycopg", "gradio", "transformers",
                 "ray", "paho", "apprise", "yaml", "sklearn", "openai", "playwright")


def test_the_quick_start_analysis_needs_only_the_detect_extra(tmp_path: Path) -> None:
    """`analyze` of the sample, as the README's first command runs it, with the other extras missing."""
    block = f"import sys; sys.modules.update(dict.fromkeys({NOT_IN_DETECT!r}))"
    out = subprocess.run(
        [sys.executable, "-c", f"{block}; from sitewatch.cli import main; sys.argv[0] = 'sitewatch'; main()",
         "analyze", str(SAMPLE), "--lang", "ko", "--out", str(tmp_path / "sample"), "--json"],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["verdict"] and (tmp_path / "sample" / "report.html").is_file()


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
    assert keys[:3] == ["verdict", "confidence", "events"] and keys.index("video") > keys.index("summary")
    assert '"verdict"' in out.stdout.splitlines()[1]
    assert {p.name for p in (tmp_path / "rep").iterdir()} >= {"report.json", "report.html", "keyframes"}


@pytest.mark.skipif(not (SHARED_VIDEOS / "dev01_sriram2226.mp4").is_file(), reason="shared clips absent")
def test_analyze_prints_a_korean_verdict_for_a_real_fall() -> None:
    out = run("analyze", str(SHARED_VIDEOS / "dev01_sriram2226.mp4"), "--lang", "ko")
    assert out.returncode == 0, out.stderr
    assert "사고 감지" in out.stdout and "사람이 넘어졌습니다" in out.stdout
    assert "자세 분석, 초당 " in out.stdout and "pose (fps" not in out.stdout  # the detector in plain words


def test_models_lists_backends_as_json() -> None:
    out = run("models", "--json")
    rows = json.loads(out.stdout)
    names = {row["name"] for row in rows}
    assert {"pllava-7b", "pllava-34b"} <= names and any(n.startswith("hf") for n in names)
    hardware = {row["name"]: row["hardware"] for row in rows}
    assert hardware["pllava-7b"] == "a GPU with 16 GB" and "72 GB" in hardware["pllava-34b"]


def test_models_says_each_size_once_and_fits_80_columns() -> None:
    import os

    from sitewatch.vlm.registry import ALIASES, BACKENDS

    out = subprocess.run([sys.executable, "-m", "sitewatch", "models"], capture_output=True, text=True, timeout=60,
                         cwd=REPO, env={**os.environ, "COLUMNS": "80"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines) and "…" not in out.stdout
    for name in ALIASES:
        assert sum(line.split()[:1] == [name] for line in lines) == 1, name  # one row each, name whole
    assert out.stdout.count("with 16 GB") == 1 and out.stdout.count("with 72 GB") == 1  # pllava-7b, -34b
    assert all(out.stdout.count(f"{b}:<") == 1 for b in BACKENDS)


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

    from sitewatch.cli.plain_progress import PlainProgress
    from sitewatch.cli.progress import progress_bar
    from sitewatch.service.assess import analyze
    from sitewatch.settings import get_settings

    _, update = progress_bar()  # pytest captures stderr: not a terminal
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


# --- sitewatch history (issue 21) -------------------------------------------------------------------


def _history_env(data: Path, **extra: str) -> dict[str, str]:
    import os

    return {**os.environ, "SITEWATCH_DATA_DIR": str(data), "TZ": "Asia/Seoul", "COLUMNS": "80", **extra}


def _sitewatch(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sitewatch", *args], capture_output=True, text=True, timeout=300,
                          cwd=REPO, env=env)


@pytest.fixture(scope="module")
def saved_history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Two real clips analysed by the real detector and kept in a history of their own."""
    data = tmp_path_factory.mktemp("history")
    ids = []
    for clip in ("dev01_sriram2226.mp4", "dev06_cwlroda_c.mp4"):
        out = _sitewatch("analyze", str(SHARED_VIDEOS / clip), "--save", env=_history_env(data))
        assert out.returncode == 0, out.stderr
        ids.append(out.stderr.split("saved to the history as ")[1].split()[0])
    return data, ids


@pytest.mark.skipif(not SHARED_VIDEOS.is_dir(), reason="shared clips absent")
def test_history_speaks_korean_in_local_time_and_keeps_whole_cells_at_80_columns(saved_history) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    data, _ = saved_history
    listed = json.loads(_sitewatch("history", "--json", env=_history_env(data)).stdout)["items"]
    for lang, verdict_words in (("ko", "사고 감지"), ("en", "Accident detected")):
        out = _sitewatch("history", "--lang", lang, env=_history_env(data))
        assert out.returncode == 0, out.stderr
        lines = out.stdout.splitlines()
        assert all(len(line) <= 80 for line in lines)
        assert "KST" in out.stdout and "UTC" not in out.stdout  # the zone is named, and it is the local one
        for item in listed:
            seoul = datetime.fromisoformat(item["created_at"]).astimezone(ZoneInfo("Asia/Seoul"))
            row = next(line for line in lines if line.startswith(item["id"][:8]))
            assert seoul.strftime("%Y-%m-%d %H:%M") in row and verdict_words in row and item["video_name"] in row
            assert f"{item['confidence']:.0%}" in row
    korean = _sitewatch("history", env=_history_env(data)).stdout
    assert "분석 기록 2건" in korean and "신뢰도" in korean and "넘어짐" in korean
    assert "created" not in korean and "verdict" not in korean


@pytest.mark.skipif(not SHARED_VIDEOS.is_dir(), reason="shared clips absent")
@pytest.mark.parametrize("word", ["사고 감지", "accident detected", "ACCIDENT", "Accident_Detected"])
def test_history_verdict_takes_the_words_users_see(saved_history, word: str) -> None:
    data, ids = saved_history
    out = _sitewatch("history", "--json", "--verdict", word, env=_history_env(data))
    assert out.returncode == 0, out.stderr
    assert {item["id"] for item in json.loads(out.stdout)["items"]} == set(ids)
    for same in ("사고 의심", "possible accident", "Uncertain"):
        unsure = _sitewatch("history", "--json", "--verdict", same, env=_history_env(data))
        assert unsure.returncode == 0 and json.loads(unsure.stdout)["total"] == 0


def test_history_refuses_an_unknown_verdict_with_the_accepted_words(tmp_path: Path) -> None:
    out = _sitewatch("history", "--verdict", "broken", env=_history_env(tmp_path))
    assert out.returncode == 2 and out.stderr.startswith("error: --verdict: unknown verdict 'broken'")
    assert len(out.stderr.strip().splitlines()) == 1
    for accepted in ("uncertain", "사고 의심", "Possible accident", "no_accident"):
        assert accepted in out.stderr


@pytest.mark.skipif(not SHARED_VIDEOS.is_dir(), reason="shared clips absent")
def test_history_show_opens_one_entry_by_its_listed_id(saved_history) -> None:
    data, ids = saved_history
    shown = _sitewatch("history", "show", ids[0][:8], env=_history_env(data))
    assert shown.returncode == 0, shown.stderr
    assert "dev01_sriram2226.mp4" in shown.stdout and "KST" in shown.stdout and "사고 감지" in shown.stdout
    html = next(line for line in shown.stdout.splitlines() if line.startswith("보고서: ")).removeprefix("보고서: ")
    assert Path(html).is_file() and Path(html).name == "report.html"
    as_json = json.loads(_sitewatch("history", "show", ids[0], "--json", env=_history_env(data)).stdout)
    assert as_json["analysis"]["id"] == ids[0] and as_json["report_html"] == html
    assert as_json["report"]["verdict"] == "accident"
    missing = _sitewatch("history", "show", "ffffffff", env=_history_env(data))
    assert missing.returncode == 2 and missing.stderr.startswith("error: no analysis with id")
