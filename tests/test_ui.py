"""The web page: handlers and rendering in-process, then the real page in headless Chromium."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("gradio", reason="the ui extra (gradio) is not installed")

from browser import CHROMIUM, chromium, free_port
from media import SHARED_VIDEOS, write_video

from sitewatch.chat import ChatTurn
from sitewatch.settings import get_settings
from sitewatch.text import LANGS, language, t
from sitewatch.ui.app import SitewatchUI, launch
from sitewatch.ui.render import chat_messages
from sitewatch.ui.state import close_session

FALL_CLIP = SHARED_VIDEOS / "dev01_sriram2226.mp4"
QUIET_CLIP = SHARED_VIDEOS / "dev17_hes254_a.mp4"
QUESTION_KO = "영상에서 무슨 일이 생겼어?"


def _no_progress(*_args: object, **_kwargs: object) -> None:
    return None


def _named(ui: SitewatchUI, updates: dict) -> dict[str, object]:
    """A handler's {component: value} by component name (what the page registered)."""
    return {name: updates[c] for name, c in ui.page.components.items() if c in updates}


def _start(ui: SitewatchUI, path: Path | None, session_hash: str, lang: str = "ko", session=None, **options):
    request = SimpleNamespace(session_hash=session_hash)
    chosen = {"backend": "none", "frames": 16, **options}
    updates = ui.start(
        str(path) if path else None, None, session, lang, chosen["backend"], chosen["frames"], 200, 0.0, request,
        _no_progress,
    )  # fmt: skip
    return _named(ui, updates)


def _ask(ui: SitewatchUI, session, question: str, lang: str = "ko") -> dict[str, object]:
    """The last update of the streamed answer, by component name."""
    return _named(ui, list(ui.ask(question, session, lang, 200, 0.0))[-1])


def _built(ui: SitewatchUI) -> SitewatchUI:
    ui.build()
    return ui


@pytest.fixture
def ui(tmp_path: Path) -> SitewatchUI:
    return _built(SitewatchUI(get_settings().model_copy(update={"lang": "ko"}), "ko", tmp_path / "sessions", []))


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_video(tmp_path / "synthetic.mp4", frames=30, fps=15)


def test_every_string_has_both_languages():
    english_only_empty = ("chat_no_translator", "chat_untranslated")
    for code in LANGS:
        assert all(language(code).strings[key] for key in language("ko").strings if key not in english_only_empty)


def test_korean_answer_keeps_english_original_folded():
    turn = ChatTurn(question="q", question_en="", answer="4.0초~11.2초", answer_en="4.0 s to 11.2 s", lang="ko")
    messages = chat_messages([turn], "ko")
    assert [m["role"] for m in messages] == ["user", "assistant", "assistant"]
    assert messages[1]["content"] == "4.0초\\~11.2초"  # not struck through by Markdown
    assert messages[2]["metadata"] == {"title": t("ko", "english_original"), "status": "done"}
    streaming = chat_messages([], "ko", turn.model_copy(update={"answer": "", "complete": False}))
    assert streaming[1]["content"] == t("ko", "translating") and streaming[2]["metadata"]["status"] == "pending"
    english = chat_messages([turn.model_copy(update={"lang": "en", "answer": turn.answer_en})], "en")
    assert len(english) == 2


def test_sessions_have_their_own_files_and_chat(ui: SitewatchUI, clip: Path):
    a = _start(ui, clip, "aaa")["session"]
    b = _start(ui, clip, "bbb")["session"]
    assert a.folder != b.folder and a.chat is not b.chat
    assert list((a.folder / "keyframes").glob("*.jpg"))
    answered = _ask(ui, a, "What happened in the video?", lang="en")
    assert answered["chatbot"][0]["content"] == "What happened in the video?" and answered["question"] == ""
    assert len(a.chat.history) == 1 and b.chat.history == []

    cleared = _named(ui, ui.clear(a, "ko"))
    assert cleared["chatbot"] == [] and a.chat.history == [] and cleared["status"] == t("ko", "status_cleared")

    restarted = _named(ui, ui.restart(a, "ko"))
    assert restarted["session"] is None and not a.folder.exists() and b.folder.exists()
    ui.unload(SimpleNamespace(session_hash="bbb"))
    assert not b.folder.exists()


def test_new_start_replaces_the_old_session(ui: SitewatchUI, clip: Path):
    first = _start(ui, clip, "same")["session"]
    _ask(ui, first, QUESTION_KO)
    second = _start(ui, clip, "same", session=first)["session"]
    assert second.chat.history == [] and list(second.folder.glob("keyframes/*.jpg"))
    close_session(second)  # what gr.State's delete callback does
    assert not second.folder.exists()


def test_bad_upload_gives_a_clear_message(ui: SitewatchUI, tmp_path: Path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    with pytest.warns(UserWarning):
        result = _start(ui, fake, "ccc")
    state, status = result["session"], result["status"]
    assert state is None and t("ko", "error") in status and "notes.mp4" in status
    assert not any(ui.temp_root.iterdir())
    with pytest.warns(UserWarning):
        assert _start(ui, None, "ccc")["status"] == t("ko", "no_upload")


def _tiny(d: Path) -> Path:
    return write_video(d / "dot.mkv", frames=3, width=2, height=2, codec="ffv1")


def _empty(d: Path) -> Path:
    (d / "empty.mp4").write_bytes(b"")
    return d / "empty.mp4"


def _voice(d: Path) -> Path:
    from media import write_audio_only

    return write_audio_only(d / "voice.m4a")


def _cut(d: Path) -> Path:
    whole = write_video(d / "whole.mp4", frames=60).read_bytes()
    (d / "cut.mp4").write_bytes(whole[:2000])
    return d / "cut.mp4"


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (_tiny, "2x2 is too small to show a person"),
        (_empty, "the file is empty (0 bytes)"),
        (_voice, "audio only, there is no video stream"),
        (_cut, "not a video or image sitewatch can read"),
    ],
    ids=["2x2 video", "0-byte upload", "audio only", "mp4 cut before its index"],
)
def test_bad_uploads_on_the_page_are_one_clear_status(ui: SitewatchUI, tmp_path: Path, make, says: str):
    with pytest.warns(UserWarning):
        result = _start(ui, make(tmp_path), "bad")
    assert result["session"] is None and says in result["status"] and t("ko", "error") in result["status"]
    assert not any(ui.temp_root.iterdir())


def test_relabel_switches_language(ui: SitewatchUI):
    english = _named(ui, ui.relabel("en", None))
    korean = _named(ui, ui.relabel("ko", None))
    assert english["title"] == t("en", "title") and korean["title"] == t("ko", "title")
    assert english["start"]["value"] == "Analyse & start chat" and korean["start"]["value"] == "분석 후 대화 시작"
    assert english["question_examples"]["samples"][0] == ["What happened in the video?"]


def test_launch_is_local_and_limits_uploads():
    import httpx

    app = launch(port=free_port(), block=False, settings=get_settings().model_copy(update={"upload_limit_mb": 1}))
    try:
        assert app.url.startswith("http://127.0.0.1:")
        assert app.demo.analytics_enabled is False and not app.demo.share
        small = httpx.post(f"{app.url}gradio_api/upload", files={"files": ("a.txt", b"x" * 1000)})
        big = httpx.post(f"{app.url}gradio_api/upload", files={"files": ("b.mp4", b"x" * 2_000_000)})
        assert small.status_code == 200 and big.status_code == 413
    finally:
        app.close()
    assert not app.temp_root.exists()


# ---- the real page in Chromium ------------------------------------------------------------------

browser_test = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent: apt-get install chromium")
needs_clips = pytest.mark.skipif(not FALL_CLIP.exists(), reason=f"the shared clips are absent ({SHARED_VIDEOS})")


@pytest.fixture(scope="module")
def served():
    settings = get_settings().model_copy(update={"lang": "ko"})
    app = launch(port=free_port(), block=False, lang="ko", settings=settings)
    yield app
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium fonts-noto-cjk")
    with chromium() as b:
        yield b


@pytest.fixture
def new_page(browser, served):
    contexts = []

    def open_page():
        context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="ko-KR")
        contexts.append(context)
        page = context.new_page()
        page.goto(served.url)
        page.wait_for_selector("#sw-start")
        return page

    yield open_page
    for context in contexts:
        context.close()


def upload_and_start(page, path: Path) -> None:
    """Upload `path` as the video, press start, and wait for the chat box to open."""
    page.set_input_files("#sw-video input[type=file]", str(path))
    page.wait_for_selector("#sw-video video", timeout=30_000)
    page.click("#sw-start")
    page.wait_for_selector("#sw-question textarea:not([disabled])", timeout=90_000)


def ask(page, question: str, expected: str) -> str:
    """Type `question`, press Enter, and return the chat's text once `expected` shows up."""
    page.fill("#sw-question textarea", question)
    page.press("#sw-question textarea", "Enter")
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel).innerText.includes(text)",
        arg=["#sw-chat", expected],
        timeout=60_000,
    )
    return page.inner_text("#sw-chat")


@browser_test
@needs_clips
@pytest.mark.slow
def test_korean_chat_in_the_browser(new_page, tmp_path: Path):
    page = new_page()
    upload_and_start(page, FALL_CLIP)
    assert "사고 감지" in page.inner_text("#sw-verdict")
    assert page.locator(".sw-timeline svg").count() == 1
    assert page.locator("#sw-keyframes img").count() >= 1
    chat = ask(page, QUESTION_KO, "사람이 넘어졌")
    assert QUESTION_KO in chat and "Accident detected" not in chat
    # No model spoke: the answer comes from the report in Korean, with no English original to offer.
    assert t("ko", "english_original") not in chat
    shot = tmp_path / "ui-chat-ko.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


@browser_test
@needs_clips
@pytest.mark.slow
def test_two_browser_sessions_stay_apart(new_page):
    a, b = new_page(), new_page()
    upload_and_start(a, FALL_CLIP)
    upload_and_start(b, QUIET_CLIP)
    assert "사고 감지" in a.inner_text("#sw-verdict") and "사고 없음" in b.inner_text("#sw-verdict")
    chat_a = ask(a, QUESTION_KO, "사람이 넘어졌")
    chat_b = ask(b, QUESTION_KO, "발견하지 못")
    assert "발견하지 못" not in chat_a and "사람이 넘어졌" not in chat_b

    a.click("#sw-clear")
    a.wait_for_function("!document.querySelector('#sw-chat').innerText.includes('사람이 넘어졌')")
    assert "발견하지 못" in b.inner_text("#sw-chat")
    b.reload()  # a fresh page load in b must not show a's state either
    b.wait_for_selector("#sw-start")
    assert b.inner_text("#sw-verdict") == ""
    assert "사고 감지" in a.inner_text("#sw-verdict")


LONG_CLIP = SHARED_VIDEOS / "dev21_taufeeque9_b.mp4"  # 43 s: long enough to watch its progress
HANGUL = re.compile(r"[\uac00-\ud7a3]+")
GRADIO_ENGLISH = ("Use via API", "Built with Gradio", "Drop Video", "Click to Upload", "steps", "common.")
# Records, from the moment it is installed, every text gradio writes that holds one of its raw message keys
# (even for a moment), and what it announces to screen readers.
RAW_KEY_WATCH = """() => {
  window.rawKeys = [];
  window.announced = [];
  new MutationObserver(records => records.forEach(r => [r.target, ...r.addedNodes].forEach(n => {
    const text = n.textContent || '';
    if (text.includes('common.')) window.rawKeys.push(text.slice(0, 200));
    const element = n.nodeType === Node.ELEMENT_NODE ? n : n.parentElement;
    if (element && element.closest('.sr-only')) window.announced.push(text.slice(0, 200));
  }))).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@browser_test
@needs_clips
@pytest.mark.slow
def test_one_progress_display_and_every_word_in_the_pages_language(browser, served):
    # The browser speaks English, the page Korean: gradio's own words must not leak either way.
    context = browser.new_context(viewport={"width": 1400, "height": 1200}, locale="en-US")
    try:
        page = context.new_page()
        page.goto(served.url)
        page.wait_for_selector("#sw-start")
        page.set_input_files("#sw-video input[type=file]", str(LONG_CLIP))
        page.wait_for_selector("#sw-video video", timeout=30_000)
        page.evaluate(RAW_KEY_WATCH)
        page.click("#sw-start")
        shown = "[...document.querySelectorAll('[data-testid=status-tracker]:not(.hide)')]"
        page.wait_for_function(f"{shown}.some(e => e.innerText.includes('프레임'))", timeout=90_000)
        trackers = page.evaluate(f"{shown}.map(e => [e.closest('#sw-status') !== null, e.innerText])")
        assert len(trackers) == 1 and trackers[0][0], trackers
        assert "감지 중" in trackers[0][1] and "steps" not in trackers[0][1]
        assert t("ko", "status_idle") not in page.inner_text("#sw-status")
        page.wait_for_selector("#sw-question textarea:not([disabled])", timeout=180_000)
        # gradio announces a finished event to screen readers, in the browser's language; it used to read out
        # a raw key ("common.complete")
        done = t("en", "event_complete")
        page.wait_for_function(f"window.announced.some(text => text.includes('{done}'))", timeout=5_000)
        assert page.evaluate("window.rawKeys") == []
        body = page.inner_text("body")
        assert not [w for w in GRADIO_ENGLISH if w in body] and "0.0s" not in body
        assert "0.0초" in page.inner_text(".sw-timeline") and t("ko", "history_kept") in body

        page.click("#sw-settings .label-wrap")
        page.click("#sw-lang label:has-text('English')")
        page.wait_for_function("document.querySelector('#sw-start').innerText.includes('Analyse')")
        page.wait_for_timeout(500)
        english = page.inner_text("body")
        assert set(HANGUL.findall(english)) <= {"한국어"}, sorted(set(HANGUL.findall(english)))
        assert "0.0 s" in page.inner_text(".sw-timeline") and t("en", "history_kept") in english
    finally:
        context.close()


@browser_test
@needs_clips
@pytest.mark.slow
def test_the_history_list_shows_other_browsers_analyses_without_a_refresh(new_page):
    watcher, worker = new_page(), new_page()
    watcher.click("#sw-history .label-wrap")
    watcher.click("#sw-history-open")
    watcher.wait_for_function(
        "([sel, text]) => document.querySelector(sel).innerText.includes(text)",
        arg=["#sw-status", t("ko", "history_choose_first")],
    )
    upload_and_start(worker, QUIET_CLIP)
    # Closing and opening the history again (as a visitor coming back to it does) lists the new analysis.
    watcher.click("#sw-history .label-wrap")
    watcher.click("#sw-history .label-wrap")
    watcher.click("#sw-history-pick input")
    watcher.wait_for_selector(f"ul[role=listbox] li:has-text('{QUIET_CLIP.name}')", timeout=30_000)


@browser_test
@needs_clips
@pytest.mark.slow
def test_clear_and_restart_reset_the_page(new_page, served):
    page = new_page()
    upload_and_start(page, QUIET_CLIP)
    ask(page, QUESTION_KO, "발견하지 못")
    page.click("#sw-clear")
    page.wait_for_function("!document.querySelector('#sw-chat').innerText.includes('발견하지 못')")
    chat = ask(page, "사람이 몇 명이야?", "명이 보였습니다")
    assert QUESTION_KO not in chat  # the server forgot the first turn too: the view is built from its history

    page.click("#sw-restart")
    page.wait_for_selector("#sw-question textarea[disabled]")
    assert page.inner_text("#sw-verdict") == ""
    assert page.locator("#sw-video video").count() == 0
    assert page.locator("#sw-keyframes img").count() == 0
    assert "?" not in page.inner_text("#sw-chat")
    assert t("ko", "status_restarted") in page.inner_text("#sw-status")


@browser_test
@pytest.mark.slow
def test_language_switch_relabels_the_page(new_page):
    page = new_page()
    assert page.inner_text("#sw-start") == "분석 후 대화 시작"
    page.locator("#sw-settings").get_by_text("설정", exact=True).click()
    page.locator("#sw-lang label", has_text="English").click()
    page.wait_for_function("document.querySelector('#sw-start').innerText.includes('Analyse')")
    assert page.inner_text("#sw-restart") == "Restart"
    assert page.get_by_text("sitewatch video safety assistant").count() == 1
    page.locator("#sw-lang label", has_text="한국어").click()
    page.wait_for_function("document.querySelector('#sw-start').innerText.includes('분석')")


@browser_test
@pytest.mark.slow
def test_bad_upload_in_the_browser_keeps_the_page_working(new_page, tmp_path: Path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video\n")
    page = new_page()
    page.set_input_files("#sw-video input[type=file]", str(fake))
    page.wait_for_timeout(1500)
    page.click("#sw-start")
    page.wait_for_function(
        "text => document.querySelector('#sw-status').innerText.includes(text)", arg=t("ko", "error"), timeout=30_000
    )
    assert "notes.mp4" in page.inner_text("#sw-status")
    page.locator("#sw-settings").get_by_text("설정", exact=True).click()
    page.locator("#sw-lang label", has_text="English").click()
    page.wait_for_function("document.querySelector('#sw-start').innerText.includes('Analyse')")


# ---- hardening: what a visitor may choose, how much they may send, and what a kill leaves ---------------


@pytest.fixture
def listener():
    """A loopback socket that records whether anything connected to it (nothing may)."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    seen: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                seen.append(conn.recv(65536) or b"(connected)")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], seen
    stop.set()
    thread.join(timeout=2)
    server.close()


@pytest.mark.parametrize("backend", ["openai:gpt@http://127.0.0.1:{port}/v1", "hf:/etc", "smolvlm2", "/etc"])
def test_page_refuses_a_model_the_operator_did_not_configure(tmp_path: Path, clip: Path, listener, backend: str):
    port, seen = listener
    settings = get_settings().model_copy(update={"lang": "ko", "openai_api_key": "sk-operator-secret"})
    ui = _built(SitewatchUI(settings, "ko", tmp_path / "sessions", []))
    with pytest.warns(UserWarning):
        result = _start(ui, clip, "visitor", backend=backend.format(port=port))
    assert result["session"] is None and "이 페이지에서 쓸 수 없는 모델입니다" in result["status"]
    assert seen == [] and not any(ui.temp_root.iterdir())
    assert ui.backends == ["none"]


def test_page_offers_what_the_operator_configured(tmp_path: Path):
    settings = get_settings().model_copy(update={"vlm": "openai:m@http://127.0.0.1:9/v1", "models": "pllava-7b, x "})
    ui = SitewatchUI(settings, "ko", tmp_path / "s", [])
    assert ui.backends == ["none", "openai:m@http://127.0.0.1:9/v1", "pllava-7b", "x"]
    assert ui._chosen_model("pllava-7b") == "pllava-7b" and ui._chosen_model("none") is None
    anything = SitewatchUI(get_settings(), "ko", tmp_path / "t", [], allow_any_model=True)
    assert anything._chosen_model("hf:some/model") == "hf:some/model" and "smolvlm2" in anything.backends


def test_page_sliders_cannot_be_pushed_past_their_limits(ui: SitewatchUI, clip: Path):
    with pytest.warns(UserWarning):
        result = _start(ui, clip, "sliders", frames=10**9)
    assert result["session"] is None and "frames: input should be less than or equal to 256" in result["status"]


def test_an_overlong_question_is_refused_and_not_kept(ui: SitewatchUI, clip: Path):
    session = _start(ui, clip, "long")["session"]
    with pytest.warns(UserWarning):
        refused = _ask(ui, session, "가" * 5_000_000)
    assert "질문이 너무 깁니다" in refused["status"] and session.chat.history == []
    assert "question" not in refused  # the text stays in the box for the user to shorten


def test_real_page_refuses_a_custom_model_over_http(served, listener):
    from gradio_client import Client, handle_file

    port, seen = listener
    client = Client(served.url, verbose=False)
    clip_path = write_video(Path(served.temp_root) / "upload.mp4", frames=10, fps=10)
    with pytest.raises(Exception, match=r"not in the list of choices|쓸 수 없는 모델"):
        client.predict(
            handle_file(str(clip_path)), None, "ko", f"openai:x@http://127.0.0.1:{port}/v1",
            16, 200, 0.0, api_name="/start",
        )
    assert seen == []


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGINT"])
def test_stopping_the_page_removes_its_temp_folder_and_says_so_in_one_line(tmp_path: Path, stop: str):
    import os
    import signal
    import subprocess
    import sys
    import tempfile

    import httpx

    port = free_port()
    env = {**os.environ, "SITEWATCH_LANG": "en"}
    proc = subprocess.Popen([sys.executable, "-m", "sitewatch", "ui", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # what the operator sees once the page is up
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200
        roots = list(Path(tempfile.gettempdir()).glob(f"sitewatch-ui-{proc.pid}-*"))
        assert len(roots) == 1 and roots[0].is_dir()
        proc.send_signal(getattr(signal, stop))
        rest, err = proc.communicate(timeout=20)
        out = first + rest
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not roots[0].exists()
    assert os.path.exists(tempfile.gettempdir())
    # Our own lines, naming this command's words: no "share=True in launch()", no "Keyboard interruption".
    assert out.splitlines() == [f"sitewatch page at http://127.0.0.1:{port}/ (Ctrl+C stops it)",
                                "The sitewatch page is closed."], (out, err[-3000:])
    assert "launch()" not in out + err and "Keyboard interruption" not in out + err and "Traceback" not in err


def test_a_killed_pages_temp_folder_is_removed_at_the_next_start(tmp_path: Path):
    import subprocess
    import sys

    from sitewatch.ui.app import remove_stale_roots

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"sitewatch-ui-{dead.stdout.strip()}-abc"
    (stale / "session").mkdir(parents=True)
    live = tmp_path / "sitewatch-ui-1-def"
    live.mkdir()
    other = tmp_path / "sitewatch-ui-notes"
    other.mkdir()
    remove_stale_roots(tmp_path)
    assert not stale.exists() and live.exists() and other.exists()


def test_the_page_keeps_its_analyses_and_chats_in_the_shared_history(tmp_path: Path, clip: Path):
    pytest.importorskip("sqlalchemy", reason="the history needs the api extra")
    settings = get_settings().model_copy(update={"lang": "ko", "data_dir": tmp_path / "data"})
    ui = _built(SitewatchUI(settings, "ko", tmp_path / "sessions", []))
    first = _start(ui, clip, "first")
    session = first["session"]
    assert session.analysis_id and first["history_pick"]["value"] == session.analysis_id
    _ask(ui, session, "사람이 몇 명 있었나요?")
    choices = ui.history.choices("ko")
    assert [value for _, value in choices] == [session.analysis_id] and "synthetic.mp4" in choices[0][0]

    # Another browser (or the same one tomorrow) reopens it and chats on with the earlier turn in view.
    other = _named(ui, ui.open_past(session.analysis_id, None, "ko", "none", 16, SimpleNamespace(session_hash="b")))
    reopened = other["session"]
    assert reopened.analysis_id == session.analysis_id and len(reopened.chat.history) == 1
    assert "사람이 몇 명 있었나요?" in str(other["chatbot"]) and list((reopened.folder / "keyframes").glob("*.jpg"))
    assert "지난 분석을 열었습니다" in other["status"]
    _ask(ui, reopened, "언제 일어났어요?")

    from sitewatch.store import Store

    store = Store.open(settings)
    try:
        questions = [turn.question for turn in store.turns(session.analysis_id)]
        assert questions == ["사람이 몇 명 있었나요?", "언제 일어났어요?"]
        assert store.get(session.analysis_id).source == "page"
    finally:
        store.close()
    with pytest.warns(UserWarning):
        missing = _named(ui, ui.open_past("no-such-id", None, "ko", "none", 16, SimpleNamespace(session_hash="c")))
    assert missing["session"] is None and t("ko", "error") in missing["status"]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["offered", "typed", "reopened"])
def test_the_real_page_sends_the_key_only_to_its_own_server(tmp_path: Path, how: str):
    """Two OpenAI-compatible servers on loopback: whatever a visitor picks, only the key's own server sees it."""
    from gradio_client import Client, handle_file
    from openai_stub import OpenAIStub

    from sitewatch.settings import Settings

    with OpenAIStub(lambda request: "No one fell.") as home, OpenAIStub(lambda request: "No one fell.") as other:
        own, foreign = f"openai:home@{home.base_url}", f"openai:other@{other.base_url}"
        settings = Settings(
            _env_file=None, lang="ko", vlm=own, models="" if how == "typed" else foreign,
            openai_api_key="sk-operator-secret", data_dir=tmp_path / "data",
        )  # fmt: skip
        app = launch(port=free_port(), block=False, settings=settings, allow_any_model=how == "typed")
        try:
            client = Client(app.url, verbose=False)
            clip_path = write_video(tmp_path / "upload.mp4", frames=20, fps=10)
            first = own if how == "reopened" else foreign
            client.predict(handle_file(str(clip_path)), None, "ko", first, 16, 200, 0.0, api_name="/start")
            client.predict("무슨 일이 있었나요?", "ko", 200, 0.0, api_name="/ask")
            if how == "reopened":
                (analysis_id,) = [value for _, value in app_history_choices(settings)]
                client.predict(analysis_id, "ko", foreign, 16, api_name="/open_past")
                client.predict("사람이 있었나요?", "ko", 200, 0.0, api_name="/ask")
        finally:
            app.close()
        assert other.requests, "the visitor's pick was not used at all"
        assert all("authorization" not in r.headers for r in other.requests)
        if how == "reopened":
            assert home.requests and all(r.headers.get("authorization") == "Bearer sk-operator-secret"
                                         for r in home.requests)  # fmt: skip


def app_history_choices(settings) -> list[tuple[str, str]]:
    """The page history's (label, id) choices, read from the store the page writes to."""
    from sitewatch.ui.history import PageHistory

    return PageHistory(settings).choices("ko")


def test_an_operator_can_keep_the_page_out_of_the_history(tmp_path: Path, clip: Path):
    pytest.importorskip("sqlalchemy", reason="the history needs the api extra")
    settings = get_settings().model_copy(update={"lang": "ko", "data_dir": tmp_path / "data", "page_history": False})
    ui = _built(SitewatchUI(settings, "ko", tmp_path / "sessions", []))
    assert ui.page.components["history_box"].visible is False
    assert ui.page.components["history_note"].value == t("ko", "history_not_kept")
    session = _start(ui, clip, "private")["session"]
    assert session is not None and session.analysis_id is None
    _ask(ui, session, "사람이 몇 명 있었나요?")
    assert not (tmp_path / "data").exists(), "nothing of the visit was kept"
