"""Settings, flags and --out folders, as a careless or hostile user meets them: one line, exit 2, nothing lost."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from media import write_video

from sitewatch.errors import OutputError, SettingsError
from sitewatch.report.files import STAGE_PREFIX, write_report
from sitewatch.service.assess import analyze
from sitewatch.settings import Settings, get_settings, updated

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "samples" / "synthetic_trip.mp4"


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sitewatch", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(out: subprocess.CompletedProcess[str], needle: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and needle in lines[0], out.stderr


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("clip") / "clip.mp4", frames=20, fps=10)


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--fps", "-1"], "--fps: input should be greater than 0"),
        (["--fps", "0"], "--fps: input should be greater than 0"),
        (["--fps", "nan"], "--fps: input should be a finite number"),
        (["--fps", "inf"], "--fps: input should be a finite number"),
        (["--fps", "1000"], "--fps: input should be less than or equal to 60"),
    ],
)
def test_bad_fps_is_refused_before_any_work(clip: Path, flags: list[str], needle: str) -> None:
    assert_one_line_error(run("analyze", str(clip), *flags), needle)


@pytest.mark.parametrize(
    ("variable", "value", "needle"),
    [
        ("SITEWATCH_DETECT_FPS", "abc", "SITEWATCH_DETECT_FPS: input should be a valid number"),
        ("SITEWATCH_DETECT_FPS", "-3", "SITEWATCH_DETECT_FPS: input should be greater than 0"),
        ("SITEWATCH_LANG", "xx", "SITEWATCH_LANG: expected 'ko' or 'en' (got 'xx')"),
        ("SITEWATCH_MAX_PIXELS", "abc", "SITEWATCH_MAX_PIXELS: input should be a valid integer"),
        ("SITEWATCH_MAX_PIXELS", "0", "SITEWATCH_MAX_PIXELS: input should be greater than 0"),
        ("SITEWATCH_MAX_DURATION_S", "nan", "SITEWATCH_MAX_DURATION_S: input should be a finite number"),
        ("SITEWATCH_NUM_FRAMES", "100000", "SITEWATCH_NUM_FRAMES: input should be less than or equal to 256"),
        ("SITEWATCH_TIMEOUT_S", "-1", "SITEWATCH_TIMEOUT_S: input should be greater than 0"),
        ("SITEWATCH_RETRIES", "many", "SITEWATCH_RETRIES: input should be a valid integer"),
        ("SITEWATCH_LOAD_IN_4BIT", "perhaps", "SITEWATCH_LOAD_IN_4BIT: input should be a valid boolean"),
        ("SITEWATCH_TRANSLATOR", "bogus", "SITEWATCH_TRANSLATOR: expected one of none, openai, hf, model"),
        ("SITEWATCH_DEVICE", "tpu9", "SITEWATCH_DEVICE: expected auto, cpu, cuda, cuda:N or mps (got 'tpu9')"),
        ("SITEWATCH_DTYPE", "fp8", "SITEWATCH_DTYPE: expected 'auto', 'bfloat16', 'float16' or 'float32'"),
    ],
)
def test_bad_environment_names_the_variable(clip: Path, variable: str, value: str, needle: str) -> None:
    for command in (["probe", str(clip)], ["analyze", str(clip)]):
        assert_one_line_error(run(*command, env={variable: value}), needle)


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["analyze", "{clip}", "--lang", "xx"], "Invalid value for '--lang': 'xx' is not one of 'ko', 'en'."),
        (["history", "--limit", "-1"], "Invalid value for '--limit': Input should be greater than or equal to 1"),
        (["analyze", "-rf.mp4"], "No such option: -r (a file whose name starts with '-' is written ./-name.mp4"),
        (["analyze", "{clip}", "--out", ""], "Invalid value for '--out' / '-o': it is empty: name a folder"),
        (["frames", "{clip}", "--out", " "], "Invalid value for '--out' / '-o': it is empty: name a folder"),
        (["batch", "{clip}", "--out", ""], "Invalid value for '--out' / '-o': it is empty: name a folder"),
        (["analyze", "{clip}", "--translator", "bogus"], "--translator: expected one of none, openai, hf, model"),
        (["chat", "{clip}", "--translator", "hff:x"], "--translator: expected one of none, openai, hf, model"),
        (["eval", "{clip}", "--cv", "--fps", "3", "--model", "x"],
         "Invalid value for --cv: it scores the detector's training recipe at its own rate, without a model or a "
         "cluster: drop --fps, --model"),
        (["analyse", "{clip}"], "No such command 'analyse'."),
        (["probe"], "Missing argument 'video'."),
    ],
)
def test_bad_flags_are_one_error_line(clip: Path, tmp_path: Path, args: list[str], needle: str) -> None:
    out = run(*[a.format(clip=clip) for a in args], cwd=tmp_path)
    assert_one_line_error(out, needle)
    assert out.stdout == "" and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b'lang = "en\n', "sitewatch.toml: not valid TOML: Illegal character '\\n' (at line 1, column 11)"),
        (b"lang = 'en'\ndetect_fps = = 3\n", "not valid TOML: Invalid value (at line 2, column 14)"),
        (b"lang = 'en'\n\xff\xfe\x00\x01", "sitewatch.toml: not a UTF-8 text file (byte 0xff at line 2, column 1)"),
    ],
    ids=["unclosed string", "double equals", "binary bytes"],
)
def test_a_broken_config_file_is_one_line_naming_file_line_and_column(
    clip: Path, tmp_path: Path, content: bytes, needle: str
) -> None:
    (tmp_path / "sitewatch.toml").write_bytes(content)
    for command in (["probe", str(clip)], ["analyze", str(clip)]):
        assert_one_line_error(run(*command, cwd=tmp_path), needle)
    named = tmp_path / "named" / "site.toml"
    named.parent.mkdir()
    named.write_bytes(content)
    assert_one_line_error(
        run("probe", str(clip), env={"SITEWATCH_CONFIG": str(named)}), needle.replace("sitewatch.toml", str(named))
    )


def test_settings_updates_are_validated() -> None:
    base = Settings()
    with pytest.raises(SettingsError, match=r"--fps: input should be greater than 0"):
        updated(base, labels={"detect_fps": "--fps"}, detect_fps=-1)
    with pytest.raises(SettingsError, match=r"SITEWATCH_NUM_FRAMES"):
        updated(base, num_frames=10**9)
    assert updated(base, detect_fps=3).detect_fps == 3 and base.detect_fps is None


def test_model_folder_with_broken_config_is_one_line(clip: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    for name in (str(folder), f"hf:{folder}"):
        assert_one_line_error(run("analyze", str(clip), "--model", name), "config.json is not valid JSON")
    (folder / "config.json").write_text("[1, 2]")
    assert_one_line_error(run("analyze", str(clip), "--model", str(folder)), "is not a JSON object")


def _timed(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.perf_counter()
    out = run(*args)
    return out, time.perf_counter() - started


def test_out_that_is_a_file_is_refused_before_the_analysis(tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    out, elapsed = _timed("analyze", str(SAMPLE), "--out", str(target))
    assert_one_line_error(out, "exists and is not a folder")
    assert target.read_text() == "mine"
    assert elapsed < 10


def test_out_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    out = run("analyze", str(SAMPLE), "--out", str(tmp_path / "file" / "report"))
    assert_one_line_error(out, "part of its path is a file")


def test_out_holding_another_videos_report_is_refused_first(tmp_path: Path, clip: Path) -> None:
    write_report(analyze(clip), tmp_path / "out")
    before = (tmp_path / "out" / "report.json").read_bytes()
    out, elapsed = _timed("analyze", str(SAMPLE), "--out", str(tmp_path / "out"))
    assert_one_line_error(out, "already holds the report of clip.mp4")
    assert (tmp_path / "out" / "report.json").read_bytes() == before
    assert elapsed < 10


def test_users_files_in_the_out_folder_are_never_deleted(tmp_path: Path, clip: Path) -> None:
    folder = tmp_path / "photos"
    (folder / "keyframes").mkdir(parents=True)
    mine = folder / "keyframes" / "holiday.jpg"
    mine.write_bytes(b"my picture")
    (folder / "notes.txt").write_text("keep me")
    report = analyze(clip)
    write_report(report, folder)
    write_report(report, folder)  # again: replaces its own files only
    assert mine.read_bytes() == b"my picture" and (folder / "notes.txt").read_text() == "keep me"
    saved = json.loads((folder / "report.json").read_text())
    assert "keyframes/holiday.jpg" not in saved["outputs"]
    assert {"report.json", "report.html"} <= set(saved["outputs"])
    assert all((folder / name).is_file() for name in saved["outputs"])


def test_a_user_file_with_a_report_name_is_not_replaced(tmp_path: Path, clip: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "report.html").write_text("my own page")
    with pytest.raises(OutputError, match=r"report\.html, which sitewatch did not write"):
        write_report(analyze(clip), folder)
    assert (folder / "report.html").read_text() == "my own page"
    assert sorted(p.name for p in folder.iterdir()) == ["report.html"]


def test_an_edited_report_json_cannot_make_sitewatch_delete_other_files(tmp_path: Path, clip: Path) -> None:
    folder = tmp_path / "out"
    report = analyze(clip)
    write_report(report, folder)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (folder / "keyframes" / "other.txt").write_text("also precious")
    saved = json.loads((folder / "report.json").read_text())
    saved["outputs"] += ["../victim.txt", "keyframes/other.txt", "/etc/hostname"]
    (folder / "report.json").write_text(json.dumps(saved))
    write_report(report, folder)
    assert victim.read_text() == "precious" and (folder / "keyframes" / "other.txt").is_file()


def test_outputs_are_world_readable_like_other_files(tmp_path: Path, clip: Path) -> None:
    paths = write_report(analyze(clip), tmp_path / "out")
    for path in [paths["json"], paths["html"], *paths["keyframes"].glob("*.jpg")]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path


def test_leftovers_of_a_killed_run_are_removed_and_a_live_runs_kept(tmp_path: Path, clip: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = folder / f"{STAGE_PREFIX}{dead.stdout.strip()}-abc"
    (stale / "keyframes").mkdir(parents=True)
    (stale / "report.json").write_text("{")
    legacy = folder / ".report.json.k2j3h4"
    legacy.write_text("{")
    live = folder / f"{STAGE_PREFIX}1-xyz"  # pid 1 always exists
    live.mkdir()
    write_report(analyze(clip), folder)
    assert not stale.exists() and not legacy.exists() and live.exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(STAGE_PREFIX) and p != live]


def _mount_tmpfs(where: Path, options: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs (to fill a disk or make it read-only) needs root")
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "disk"
    _mount_tmpfs(where, "size=2m")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[Path]:
    where = tmp_path / "ro"
    _mount_tmpfs(where, "ro,size=1m")
    yield where
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_out_is_refused_before_the_analysis(read_only_disk: Path) -> None:
    out, elapsed = _timed("analyze", str(SAMPLE), "--out", str(read_only_disk / "report"))
    assert_one_line_error(out, "cannot be created (Read-only file system)")
    out = run("analyze", str(SAMPLE), "--out", str(read_only_disk))
    assert_one_line_error(out, "cannot write there (Read-only file system)")
    assert elapsed < 10


def test_a_full_disk_keeps_the_previous_report_and_leaves_no_partial_files(small_disk: Path) -> None:
    folder = small_disk / "out"
    first = run("analyze", str(SAMPLE), "--out", str(folder), "--fps", "2", timeout=120)
    if first.returncode != 0:
        pytest.skip(f"the first report did not fit the small disk: {first.stderr.strip()}")
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    free = os.statvfs(small_disk)
    (small_disk / "filler").write_bytes(b"\0" * (free.f_bavail * free.f_frsize - 8192))
    again = run("analyze", str(SAMPLE), "--out", str(folder), "--json", timeout=120)
    assert_one_line_error(again, "No space left on device")
    assert json.loads(again.stdout)["verdict"], "the analysis is still printed when its files cannot be written"
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before


def test_get_settings_errors_are_settings_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITEWATCH_LANG", "fr")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="SITEWATCH_LANG"):
            get_settings()
    finally:
        monkeypatch.delenv("SITEWATCH_LANG")
        get_settings.cache_clear()


def test_a_typo_in_a_setting_is_named_with_the_closest_one(clip: Path, tmp_path: Path) -> None:
    assert_one_line_error(
        run("probe", str(clip), env={"SITEWATCH_DETCT_FPS": "3"}),
        "SITEWATCH_DETCT_FPS: unknown setting (did you mean SITEWATCH_DETECT_FPS?)",
    )
    config = tmp_path / "sitewatch.toml"
    config.write_text('lang = "en"\ndetect_fsp = 3\n')
    assert_one_line_error(
        run("probe", str(clip), env={"SITEWATCH_CONFIG": str(config)}),
        "detect_fsp: unknown setting in the config file (did you mean detect_fps?)",
    )
    assert_one_line_error(
        run("probe", str(clip), env={"SITEWATCH_CONFIG": str(tmp_path / "absent.toml")}), "is not a file"
    )


def test_a_toml_config_file_sets_what_the_environment_does_not(tmp_path: Path) -> None:
    config = tmp_path / "sitewatch.toml"
    config.write_text('lang = "en"\ndetect_fps = 3\nopenai_max_images = 4\n')
    code = "from sitewatch.settings import get_settings as g; s = g(); print(s.lang, s.detect_fps, s.openai_max_images)"
    env = {**os.environ, "SITEWATCH_CONFIG": str(config), "SITEWATCH_DETECT_FPS": "5"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["en", "5.0", "4"]


def test_model_settings_are_part_of_the_model_cache_key() -> None:
    from sitewatch.service.build import _model_key

    base = Settings(_env_file=None)
    assert _model_key("m", base) == _model_key("m", updated(base, lang="en"))
    assert _model_key("m", base) != _model_key("m", updated(base, openai_max_images=4))
    assert _model_key("m", base) != _model_key("m", updated(base, dtype="float16"))
