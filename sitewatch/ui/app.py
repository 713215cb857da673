"""`sitewatch ui`: the Gradio page (layout and events). Session data lives in gr.State, never here."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sitewatch.errors import SettingsError, SitewatchError
from sitewatch.process import pid_alive
from sitewatch.report.keyframes import write_keyframes
from sitewatch.report.timeline import timeline_svg
from sitewatch.request import AnalysisRequest
from sitewatch.schema import Stage
from sitewatch.service.assess import Progress
from sitewatch.service.session import chat_about, generation_options, start_chat
from sitewatch.settings import Settings, get_settings
from sitewatch.text import LANGUAGES, as_lang, language, t
from sitewatch.ui._gradio import gr
from sitewatch.ui.history import PageHistory
from sitewatch.ui.render import chat_messages, events_markdown, gallery_items, verdict_html
from sitewatch.ui.state import UiSession, close_session, remove_folder, session_folder, session_folder_path
from sitewatch.vlm.registry import ALIASES

log = logging.getLogger(__name__)

NO_MODEL = "none"
TEMP_PREFIX = "sitewatch-ui-"
# The request's fields as the page's controls are called, for error messages.
PAGE_LABELS = {"frames": "frames", "model": "model", "lang": "lang"}
# What an analysis (new or reopened from the history) updates on the page.
SHOWN = (
    "session", "status", "verdict", "events", "timeline", "gallery", "chatbot", "question", "send", "history_pick",
)  # fmt: skip
VIDEO_EXAMPLE_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm")
# How often an open page looks for analyses other browsers added to the history, in seconds.
HISTORY_REFRESH_S = 30
# Files gradio keeps (uploads, shown keyframes) are swept this often once they are this old, in seconds.
CACHE_SWEEP = (1800, 3600)

CSS = """
.sw-verdict .sw-badge {color: #fff; padding: 2px 10px; border-radius: 6px; font-weight: 600}
.sw-verdict .sw-summary {margin: 6px 0 0 0}
.sw-verdict .sw-warning {color: #8a6d00}
.sw-timeline svg {width: 100%; height: auto}
/* gradio writes its own drop hint in the browser's language, not the page's; the label says it instead */
#sw-video [data-testid="upload-text"] {font-size: 0}
#sw-video [data-testid="upload-text"] .icon-wrap {font-size: initial}
.sw-note {color: var(--body-text-color-subdued); font-size: var(--text-sm)}
/* the analysis' one progress display appears over the status line: room for it */
#sw-status {min-height: 3.2em}
"""


class SitewatchUI:
    """The page's builder and event handlers; app-wide only: base settings and the temp root."""

    def __init__(
        self,
        settings: Settings,
        lang: str,
        temp_root: Path,
        examples: list[str],
        *,
        allow_any_model: bool = False,
        history: PageHistory | None = None,
    ) -> None:
        self.settings = settings
        self.history = history or PageHistory(settings)
        self.lang = as_lang(lang)
        self.temp_root = temp_root
        self.examples = examples
        self.allow_any_model = allow_any_model
        # Every alias only when the operator starts the page with --allow-any-model; otherwise what the operator
        # configured (SITEWATCH_VLM, SITEWATCH_MODELS), since a visitor's pick loads models and sends frames (and
        # the configured key) wherever it names.
        offered = settings.offered_models() + (list(ALIASES) if allow_any_model else [])
        self.backends = list(dict.fromkeys([NO_MODEL, *offered]))

    def _chosen_model(self, backend: str | None) -> str | None:
        """The visitor's model pick, if the operator allows it; SettingsError otherwise."""
        name = (backend or "").strip()
        if name in ("", NO_MODEL):
            return None
        if name not in self.backends and not self.allow_any_model:
            log.warning("refused a model the operator did not configure: %r", name[:200])
            raise SettingsError(t(self.lang, "model_not_allowed", name=name[:80]))
        return name

    def _request(self, lang: str, backend: str | None, frames: float) -> AnalysisRequest:
        """What this visitor asks for: the operator's defaults with the page's language, model and frames."""
        return AnalysisRequest.of(
            self.settings, labels=PAGE_LABELS, lang=as_lang(lang), model=self._chosen_model(backend) or NO_MODEL,
            frames=int(frames),
        )  # fmt: skip

    def _progress(self, progress: Any, lang: str) -> Progress:
        # gr.Progress speaks (done, total) tuples and a description; the pipeline speaks stages.
        strings = language(lang).strings

        def update(stage: Stage, done: int, total: int) -> None:
            desc = strings.get(f"stage_{stage.value}", stage.value)
            progress((done, max(total, 1)), desc=desc, unit=strings.get(f"unit_{stage.value}", t(lang, "unit_start")))

        return update

    def start(
        self,
        video: str | None,
        image: str | None,
        session: UiSession | None,
        lang: str,
        backend: str | None,
        frames: float,
        max_tokens: float,
        temperature: float,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio injects it by this default)
    ) -> dict[Any, Any]:
        """Analyse the upload and open a new chat about it (replacing this browser's previous one)."""
        path = video or image
        if not path:
            gr.Warning(t(lang, "no_upload"))
            return self.page.named(status=t(lang, "no_upload"))
        close_session(session)
        folder = session_folder(self.temp_root, request.session_hash)
        progress(0, desc=t(lang, "stage_start"))
        try:
            asked = self._request(lang, backend, frames)
            decoding = generation_options(self.settings, int(max_tokens), float(temperature))
            chat = start_chat(path, asked, self.settings, progress=self._progress(progress, lang))
            chat.options = decoding
            keyframes, warnings = write_keyframes(chat.report, folder / "keyframes")
        except SitewatchError as exc:
            remove_folder(folder)
            message = f"{t(lang, 'error')}: {exc}"
            log.warning("start failed: %s", exc)
            gr.Warning(message)
            return self.page.named(status=f"**{message}**", **self._cleared(lang))
        for warning in warnings:
            log.warning("keyframes: %s", warning)
        analysis_id = self.history.save(Path(path), chat.report, asked)
        new = UiSession(
            folder=folder, request=asked, chat=chat, name=Path(path).name, keyframes=keyframes,
            analysis_id=analysis_id,
        )  # fmt: skip
        return self._opened(new, lang, t(lang, "status_ready", name=new.name))

    def _opened(self, session: UiSession, lang: str, status: str) -> dict[Any, Any]:
        """Everything the page shows of a session's analysis and chat, ready for questions."""
        report = session.chat.report
        return self.page.named(
            session=session,
            status=status,
            verdict=verdict_html(report, lang),
            events=events_markdown(report, lang),
            timeline=timeline_svg(report, lang),
            gallery=gallery_items(report, session.keyframes, lang),
            chatbot=chat_messages(session.chat.history, lang),
            history_pick=gr.update(choices=self.history.choices(lang), value=session.analysis_id),
            **_chat_input(lang, ready=True),
        )

    def open_past(
        self,
        analysis_id: str | None,
        session: UiSession | None,
        lang: str,
        backend: str | None,
        frames: float,
        request: gr.Request,
    ) -> dict[Any, Any]:
        """Reopen a stored analysis: its report, keyframes and conversation, to chat on about it."""
        if not analysis_id:
            return self.page.named(status=t(lang, "history_choose_first"))
        close_session(session)
        folder = session_folder(self.temp_root, request.session_hash)
        try:
            asked = self._request(lang, backend, frames)
            past = self.history.open(analysis_id)
            keyframes, _ = write_keyframes(past.report, folder / "keyframes")
            chat = chat_about(past.report, past.video, asked, self.settings, history=past.history)
        except SitewatchError as exc:
            remove_folder(folder)
            message = f"{t(lang, 'error')}: {exc}"
            gr.Warning(message)
            return self.page.named(status=f"**{message}**", **self._cleared(lang))
        new = UiSession(
            folder=folder, request=asked, chat=chat, name=past.name, keyframes=keyframes, analysis_id=analysis_id
        )
        return self._opened(new, lang, t(lang, "history_opened", name=past.name))

    def refresh_history(self, lang: str) -> dict[Any, Any]:
        """The newest stored analyses in the picker (also those another browser made meanwhile)."""
        return self.page.named(history_pick=gr.update(choices=self.history.choices(lang)))

    def begin(self) -> dict[Any, Any]:
        """Clear the status line, where the analysis' one progress display is about to appear."""
        return self.page.named(status="")

    def _history_note(self, lang: str) -> str:
        return t(lang, "history_kept" if self.history.available else "history_not_kept")

    def ask(
        self, question: str, session: UiSession | None, lang: str, max_tokens: float, temperature: float
    ) -> Iterator[dict[Any, Any]]:
        """Stream the answer to `question` into the chatbot, in the page's language."""
        if session is None:
            gr.Warning(t(lang, "no_chat"))
            yield self.page.named(status=t(lang, "no_chat"))
            return
        if not question.strip():
            yield self.page.named(question="", status=t(lang, "empty_question"))
            return
        chat = session.chat
        history = chat.history
        try:
            chat.options = generation_options(self.settings, int(max_tokens), float(temperature))
            for turn in chat.stream(question, lang=as_lang(lang)):
                partial = None if turn.complete else turn
                yield self.page.named(chatbot=chat_messages(history if partial else chat.history, lang, partial),
                                      question="")
            self.history.add_turn(session.analysis_id, chat.history[-1])
        except SitewatchError as exc:
            message = f"{t(lang, 'error')}: {exc}"
            gr.Warning(message)
            # The question stays in the box for the visitor to change.
            yield self.page.named(chatbot=chat_messages(chat.history, lang), status=f"**{message}**")

    def clear(self, session: UiSession | None, lang: str) -> dict[Any, Any]:
        """Forget the conversation; the video and its analysis stay."""
        if session is not None:
            session.chat.reset()
        return self.page.named(chatbot=[], question="", status=t(lang, "status_cleared"))

    def _cleared(self, lang: str) -> dict[str, Any]:
        """Every result of an analysis emptied (no session, nothing to chat about)."""
        return {
            "session": None, "verdict": "", "events": "", "timeline": "", "gallery": [], "chatbot": [],
            **_chat_input(lang, ready=False),
        }  # fmt: skip

    def restart(self, session: UiSession | None, lang: str) -> dict[Any, Any]:
        """Forget everything of this browser session: upload, analysis, chat and files."""
        close_session(session)
        return self.page.named(video=None, image=None, status=t(lang, "status_restarted"), **self._cleared(lang))

    def relabel(self, lang: str, session: UiSession | None) -> dict[Any, Any]:
        """Every label, button and rendered result again in `lang`."""
        ready = session is not None
        report = session.chat.report if session else None
        label = {
            name: gr.update(label=t(lang, key))
            for name, key in (
                ("video_tab", "tab_video"), ("image_tab", "tab_image"), ("video", "upload_video"),
                ("settings_box", "settings"), ("lang_box", "lang"),
                ("frames", "frames"), ("max_tokens", "max_tokens"), ("temperature", "temperature"),
                ("analysis_box", "analysis"), ("timeline_tab", "timeline_tab"), ("events_tab", "events"),
                ("history_box", "history"),
            )
        }  # fmt: skip
        text = {name: gr.update(value=t(lang, name)) for name in ("start", "restart", "send", "clear")}
        text |= {name: gr.update(value=t(lang, name)) for name in ("history_open", "history_refresh")}
        return self.page.named(
            title=t(lang, "title"),
            intro=t(lang, "intro"),
            **label,
            **text,
            backend=gr.update(label=t(lang, "backend"), info=t(lang, "backend_info")),
            gallery=gr.update(
                label=t(lang, "keyframes"), value=gallery_items(report, session.keyframes, lang) if session else []
            ),
            verdict=verdict_html(report, lang),
            events=events_markdown(report, lang),
            timeline=timeline_svg(report, lang) if report else "",
            chatbot=gr.update(
                label=t(lang, "chatbot"), value=chat_messages(session.chat.history, lang) if session else []
            ),
            question=gr.update(
                label=t(lang, "question"), placeholder=t(lang, "placeholder_ready" if ready else "placeholder_wait")
            ),
            question_examples=gr.update(label=t(lang, "examples_questions"), samples=_question_examples(lang)),
            history_note=self._history_note(lang),
            status=t(lang, "status_ready", name=session.name) if session else t(lang, "status_idle"),
            history_pick=gr.update(label=t(lang, "history_pick"), choices=self.history.choices(lang)),
            **({"video_examples": gr.update(label=t(lang, "examples_videos"))} if self.examples else {}),
            image=gr.update(label=t(lang, "upload_image"), placeholder=t(lang, "upload_image")),
        )

    def unload(self, request: gr.Request) -> None:
        """The tab closed: delete this browser session's files now (gradio drops its state later)."""
        remove_folder(session_folder_path(self.temp_root, request.session_hash))

    def build(self) -> gr.Blocks:
        """The page: upload and settings on the left, verdict and chat on the right, analysis below."""
        lang = self.lang
        with gr.Blocks(title="sitewatch", delete_cache=CACHE_SWEEP) as demo:
            session = gr.State(None, delete_callback=close_session)
            title = gr.Markdown(t(lang, "title"))
            intro = gr.Markdown(t(lang, "intro"))
            with gr.Row():
                with gr.Column(scale=2):
                    with gr.Tabs():
                        with gr.Tab(t(lang, "tab_video")) as video_tab:
                            # format=None: keep the upload as it is (PyAV reads any container; no ffmpeg needed).
                            video = gr.Video(
                                label=t(lang, "upload_video"),
                                sources=["upload"],
                                format=None,
                                include_audio=True,
                                height=300,
                                elem_id="sw-video",
                            )
                        with gr.Tab(t(lang, "tab_image")) as image_tab:
                            image = gr.Image(
                                label=t(lang, "upload_image"),
                                placeholder=t(lang, "upload_image"),
                                sources=["upload"],
                                type="filepath",
                                height=300,
                                elem_id="sw-image",
                            )
                    with gr.Row():
                        start = gr.Button(t(lang, "start"), variant="primary", scale=2, elem_id="sw-start")
                        restart = gr.Button(t(lang, "restart"), scale=1, elem_id="sw-restart")
                    status = gr.Markdown(t(lang, "status_idle"), label=t(lang, "status"), elem_id="sw-status")
                    history_note = gr.Markdown(
                        self._history_note(lang), elem_classes=["sw-note"], elem_id="sw-history-note"
                    )
                    with gr.Accordion(t(lang, "settings"), open=False, elem_id="sw-settings") as settings_box:
                        lang_box = gr.Radio(
                            [(w.native_name, code) for code, w in LANGUAGES.items()],
                            value=lang, label=t(lang, "lang"), elem_id="sw-lang")
                        backend = gr.Dropdown(
                            self.backends,
                            value=self.settings.vlm or NO_MODEL,
                            allow_custom_value=self.allow_any_model,
                            label=t(lang, "backend"),
                            info=t(lang, "backend_info"),
                        )
                        frames = gr.Slider(4, 64, value=self.settings.num_frames, step=4, label=t(lang, "frames"))
                        max_tokens = gr.Slider(
                            16, 1024, value=self.settings.max_new_tokens, step=16, label=t(lang, "max_tokens")
                        )
                        temperature = gr.Slider(
                            0.0, 2.0, value=self.settings.temperature, step=0.1, label=t(lang, "temperature")
                        )
                    video_examples = (
                        gr.Examples(
                            [[path] for path in self.examples], inputs=[video], label=t(lang, "examples_videos")
                        ).dataset
                        if self.examples
                        else None
                    )
                with gr.Column(scale=3):
                    verdict = gr.HTML("", elem_id="sw-verdict")
                    chatbot = gr.Chatbot(
                        [],
                        label=t(lang, "chatbot"),
                        height=420,
                        feedback_options=None,
                        buttons=["copy", "copy_all"],
                        elem_id="sw-chat",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            label=t(lang, "question"),
                            max_length=self.settings.max_question_chars,
                            placeholder=t(lang, "placeholder_wait"),
                            interactive=False,
                            scale=5,
                            elem_id="sw-question",
                        )
                        send = gr.Button(t(lang, "send"), interactive=False, scale=1, elem_id="sw-send")
                        clear = gr.Button(t(lang, "clear"), scale=1, elem_id="sw-clear")
                    question_examples = gr.Examples(
                        _question_examples(lang), inputs=[question], label=t(lang, "examples_questions")
                    )
            with gr.Accordion(t(lang, "analysis"), open=True) as analysis_box:
                with gr.Tabs():
                    with gr.Tab(t(lang, "timeline_tab")) as timeline_tab:
                        timeline = gr.HTML("", elem_classes=["sw-timeline"])
                    with gr.Tab(t(lang, "events")) as events_tab:
                        events = gr.Markdown("", elem_id="sw-events")
                gallery = gr.Gallery(
                    label=t(lang, "keyframes"),
                    columns=4,
                    height=300,
                    fit_columns=False,
                    object_fit="contain",
                    interactive=False,
                    elem_id="sw-keyframes",
                )
            with gr.Accordion(
                t(lang, "history"), open=False, visible=self.history.available, elem_id="sw-history"
            ) as history_box, gr.Row():
                history_pick = gr.Dropdown(
                    self.history.choices(lang),
                    value=None,
                    label=t(lang, "history_pick"),
                    scale=5,
                    elem_id="sw-history-pick",
                )
                history_open = gr.Button(t(lang, "history_open"), scale=1, elem_id="sw-history-open")
                history_refresh = gr.Button(t(lang, "history_refresh"), scale=1, elem_id="sw-history-refresh")

            self.page = Page(
                {
                    "session": session, "title": title, "intro": intro, "video_tab": video_tab,
                    "image_tab": image_tab, "video": video, "image": image, "start": start, "restart": restart,
                    "status": status, "settings_box": settings_box, "lang_box": lang_box, "backend": backend,
                    "frames": frames, "max_tokens": max_tokens, "temperature": temperature, "verdict": verdict,
                    "chatbot": chatbot, "question": question, "send": send, "clear": clear,
                    "question_examples": question_examples.dataset, "analysis_box": analysis_box,
                    "timeline_tab": timeline_tab, "timeline": timeline, "events_tab": events_tab, "events": events,
                    "gallery": gallery, "history_box": history_box, "history_pick": history_pick,
                    "history_open": history_open, "history_refresh": history_refresh, "history_note": history_note,
                    **({"video_examples": video_examples} if video_examples is not None else {}),
                }
            )  # fmt: skip
            video.upload(lambda: None, outputs=[image], queue=False)
            image.upload(lambda: None, outputs=[video], queue=False)
            # Handlers return {component: update}; each event lists every component its handler may touch.
            # One progress display, in the status line (emptied first so no idle hint shows under it).
            start.click(self.begin, None, [status], queue=False).then(
                self.start,
                [video, image, session, lang_box, backend, frames, max_tokens, temperature],
                self.page.parts(*SHOWN),
                show_progress_on=[status],
            )
            history_open.click(
                self.open_past, [history_pick, session, lang_box, backend, frames], self.page.parts(*SHOWN)
            )
            # A list refresh is instant: gradio's own progress text on it would only flash its untranslated words.
            history_refresh.click(
                self.refresh_history, [lang_box], [history_pick], queue=False, show_progress="hidden"
            )
            # Analyses made in other browsers show up without pressing refresh.
            history_box.expand(self.refresh_history, [lang_box], [history_pick], queue=False, show_progress="hidden")
            gr.Timer(HISTORY_REFRESH_S, active=self.history.available).tick(
                self.refresh_history, [lang_box], [history_pick], queue=False, show_progress="hidden"
            )
            for trigger in (question.submit, send.click):
                trigger(self.ask, [question, session, lang_box, max_tokens, temperature], [chatbot, question, status])
            # The chatbot's own trash icon must forget the conversation too, not just empty the view.
            for trigger in (clear.click, chatbot.clear):
                trigger(self.clear, [session, lang_box], [chatbot, question, status], queue=False)
            restart.click(
                self.restart,
                [session, lang_box],
                self.page.parts(
                    "session", "video", "image", "status", "verdict", "events", "timeline", "gallery", "chatbot",
                    "question", "send",
                ),
                queue=False,
            )
            relabelled = [c for name, c in self.page.components.items() if name != "session"]
            lang_box.change(self.relabel, [lang_box, session], relabelled, queue=False)
            demo.unload(self.unload)
        return demo


def _chat_input(lang: str, *, ready: bool) -> dict[str, Any]:
    placeholder = t(lang, "placeholder_ready" if ready else "placeholder_wait")
    return {
        "question": gr.update(value="", interactive=ready, placeholder=placeholder),
        "send": gr.update(interactive=ready),
    }


@dataclass(frozen=True)
class Page:
    """The page's components by name, so handlers return named updates instead of positional tuples."""

    components: dict[str, Any]

    def named(self, **values: Any) -> dict[Any, Any]:
        """{component: value} for a handler's return, from names."""
        return {self.components[name]: value for name, value in values.items()}

    def parts(self, *names: str) -> list[Any]:
        """The components called `names`, for an event's outputs."""
        return [self.components[name] for name in names]


def _question_examples(lang: str) -> list[list[str]]:
    return [[q] for q in language(lang).example_questions]


def find_examples(folder: str | Path | None, limit: int = 6) -> list[str]:
    """Up to `limit` video files from `folder`, sorted by name, for the examples list."""
    if folder is None or not Path(folder).is_dir():
        return []
    videos = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in VIDEO_EXAMPLE_SUFFIXES)
    return [str(p) for p in videos[:limit]]


def build_app(
    settings: Settings | None = None,
    *,
    lang: str | None = None,
    examples_dir: str | Path | None = None,
    temp_root: Path | None = None,
    allow_any_model: bool = False,
) -> tuple[gr.Blocks, Path]:
    """The Blocks app and the temp root its sessions write under (the caller removes it when done)."""
    settings = settings or get_settings()
    if temp_root is None:
        remove_stale_roots(Path(tempfile.gettempdir()))
    root = temp_root or Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-"))
    ui = SitewatchUI(
        settings, lang or settings.lang, root, find_examples(examples_dir), allow_any_model=allow_any_model
    )
    demo = ui.build()
    # One analysis or answer at a time: they share the CPU and the one loaded model.
    demo.queue(default_concurrency_limit=1)
    return demo, root


@dataclass
class RunningApp:
    """A page served in the background (`launch(block=False)`); `close()` stops it and removes its files."""

    demo: gr.Blocks
    url: str
    temp_root: Path

    def close(self) -> None:
        """Stop the server and delete every session's temp files."""
        self.demo.close(verbose=False)
        shutil.rmtree(self.temp_root, ignore_errors=True)


def launch(
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    *,
    lang: str | None = None,
    examples_dir: str | Path | None = None,
    settings: Settings | None = None,
    block: bool = True,
    allow_any_model: bool = False,
) -> RunningApp | None:
    """Serve the page on host:port (no public share link unless `share`); by default until stopped."""
    settings = settings or get_settings()
    page_lang = lang or settings.lang
    demo, root = build_app(settings, lang=page_lang, examples_dir=examples_dir, allow_any_model=allow_any_model)
    if block and threading.current_thread() is threading.main_thread():
        # gradio stops cleanly on Ctrl-C only; make `kill` (SIGTERM) take the same path so `finally` runs.
        signal.signal(signal.SIGTERM, _interrupt)
    running = None
    try:
        # quiet: gradio's own start-up lines name launch() arguments, not this command's flags; ours follow.
        _, url, share_url = demo.launch(
            server_name=host,
            server_port=port,
            share=share,
            max_file_size=f"{settings.upload_limit_mb}mb",
            allowed_paths=[str(root)],
            ssr_mode=False,
            prevent_thread_lock=True,
            css=CSS,
            quiet=True,
            footer_links=[],
            i18n=_gradio_words(),
        )
        running = RunningApp(demo=demo, url=url, temp_root=root)
        if block:
            print(t(page_lang, "page_running", url=share_url or url), flush=True)
            threading.Event().wait()
        return running
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM, also while starting: one line instead of gradio's note about the main thread.
        if not block:
            raise
        print(t(page_lang, "page_stopped"), flush=True)
        return running
    finally:
        if block or running is None:
            demo.close(verbose=False)
            shutil.rmtree(root, ignore_errors=True)


def _gradio_words() -> Any:
    """Words gradio's page uses but its own dictionaries lack, in each language sitewatch speaks."""
    # gradio 6 announces each finished event to screen readers as "common.complete", a key none of its
    # dictionaries holds, so the raw key was read out. Like gradio's other words it follows the browser's
    # language (English where sitewatch does not speak it).
    return gr.I18n(**{code: {"common.complete": t(code, "event_complete")} for code in LANGUAGES})


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def remove_stale_roots(tmp: Path) -> None:
    """Delete temp roots left by pages that were killed (their process is gone)."""
    for root in tmp.glob(f"{TEMP_PREFIX}*"):
        pid = root.name.removeprefix(TEMP_PREFIX).split("-", 1)[0]
        if root.is_dir() and pid.isdigit() and not pid_alive(int(pid)):
            shutil.rmtree(root, ignore_errors=True)
            log.info("removed a killed page's temp folder %s", root)
