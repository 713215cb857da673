"""Start a chat about one video: analyse it, load the configured model and translator once per process."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.assess import Progress, analyze
from sitewatch.chat import ChatSession, ChatTurn
from sitewatch.schema import GenerationOptions, Report
from sitewatch.settings import Settings

if TYPE_CHECKING:
    from sitewatch.translate.base import Translator
    from sitewatch.vlm.base import VideoLM

_lock = threading.Lock()
_models: dict[tuple[str, str], VideoLM] = {}
# Settings that change how a backend is built: two sessions share a loaded model only when these agree.
_MODEL_FIELDS_EXACT = frozenset({"device", "dtype", "load_in_4bit", "timeout_s", "retries", "backoff_s"})
_MODEL_FIELD_PREFIXES = ("hf_", "openai_")


def _model_key(name: str, settings: Settings) -> tuple[str, str]:
    fields = {f for f in Settings.model_fields if f in _MODEL_FIELDS_EXACT or f.startswith(_MODEL_FIELD_PREFIXES)}
    return name, settings.model_dump_json(include=fields)


def get_model(name: str | None, settings: Settings) -> VideoLM | None:
    """The video-language backend `name`, loaded once per process and shared by every session."""
    if not name:
        return None
    from sitewatch.vlm.registry import load_backend

    key = _model_key(name, settings)
    with _lock:
        if key not in _models:
            _models[key] = load_backend(name, settings)
        return _models[key]


def get_translator(name: str | None, settings: Settings, model: VideoLM | None) -> Translator | None:
    """The translator `name` (settings.translator when None); None when translation is off."""
    from sitewatch.translate.registry import load_translator

    chosen = name if name is not None else settings.translator
    if chosen in ("", "none"):
        return None
    return load_translator(chosen, settings, vlm=model)


def start_chat(
    path: str | Path,
    settings: Settings,
    *,
    model_name: str | None = None,
    translator_name: str | None = None,
    verify: bool = False,
    progress: Progress | None = None,
) -> ChatSession:
    """Analyse `path` with the detector (and the model if `verify`), then open a chat about it."""
    model = get_model(model_name if model_name is not None else settings.vlm, settings)
    translator = get_translator(translator_name, settings, model)
    report = analyze(path, settings, model=model if verify else None, translator=translator, progress=progress)
    return _chat(report, Path(path), settings, model, translator, None)


def chat_about(
    report: Report,
    video: Path,
    settings: Settings,
    *,
    model_name: str | None = None,
    translator_name: str | None = None,
    history: list[ChatTurn] | None = None,
) -> ChatSession:
    """A chat about an analysed video (no new analysis), continuing `history` when there is one."""
    model = get_model(model_name if model_name is not None else settings.vlm, settings)
    return _chat(report, video, settings, model, get_translator(translator_name, settings, model), history)


def _chat(
    report: Report,
    video: Path,
    settings: Settings,
    model: VideoLM | None,
    translator: Translator | None,
    history: list[ChatTurn] | None,
) -> ChatSession:
    """The session itself, with the model and translator already loaded (a translator is loaded once)."""
    from sitewatch.video.clip import load_clip

    info = report.video.model_copy(update={"path": str(video)})
    clip = load_clip(video, info, settings.num_frames, max_pixels=settings.max_pixels) if model else None
    session = ChatSession(
        clip,
        report,
        model=model,
        translator=translator,
        options=generation_options(settings),
        max_question_chars=settings.max_question_chars,
    )
    if history:
        session.resume(history)
    return session


def generation_options(settings: Settings) -> GenerationOptions:
    """Decoding settings: greedy unless a temperature above zero asks for sampling."""
    return GenerationOptions(
        max_new_tokens=settings.max_new_tokens,
        do_sample=settings.temperature > 0,
        temperature=settings.temperature if settings.temperature > 0 else 1.0,
    )
