"""Start a chat about one video: analyse it, load the configured model and translator once per process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError, create_model

from sitewatch.chat import ChatSession, ChatTurn
from sitewatch.request import AnalysisRequest
from sitewatch.schema import GenerationOptions, Report
from sitewatch.service.assess import Progress, analyze
from sitewatch.service.build import build, get_model, get_translator
from sitewatch.settings import Settings, explain

if TYPE_CHECKING:
    from sitewatch.translate.base import Translator
    from sitewatch.vlm.base import VideoLM


def start_chat(
    path: str | Path,
    request: AnalysisRequest,
    settings: Settings,
    *,
    verify: bool = False,
    progress: Progress | None = None,
) -> ChatSession:
    """Analyse `path` as `request` asks (with the model too if `verify`), then open a chat about it."""
    tools = build(request, settings)
    report = analyze(
        path, settings, detector=tools.detector, model=tools.model if verify else None,
        translator=tools.translator, progress=progress, frames=request.frames,
    )  # fmt: skip
    return _chat(report, Path(path), request, settings, tools.model, tools.translator, None)


def chat_about(
    report: Report,
    video: Path,
    request: AnalysisRequest,
    settings: Settings,
    *,
    history: list[ChatTurn] | None = None,
) -> ChatSession:
    """A chat about an analysed video (no new analysis) with the model `request` names, continuing `history`."""
    model = get_model(request.model, settings)
    return _chat(report, video, request, settings, model, get_translator(request, settings, model), history)


def _chat(
    report: Report,
    video: Path,
    request: AnalysisRequest,
    settings: Settings,
    model: VideoLM | None,
    translator: Translator | None,
    history: list[ChatTurn] | None,
) -> ChatSession:
    """The session itself, with the model and translator already loaded (a translator is loaded once)."""
    from sitewatch.video.clip import load_clip

    info = report.video.model_copy(update={"path": str(video)})
    clip = load_clip(video, info, request.frames, max_pixels=settings.max_pixels) if model else None
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


# The two decoding knobs a page visitor may turn, within the limits the settings give them.
_Decoding = create_model(
    "_Decoding",
    max_new_tokens=(int, Settings.model_fields["max_new_tokens"]),
    temperature=(float, Settings.model_fields["temperature"]),
)


def generation_options(
    settings: Settings, max_new_tokens: int | None = None, temperature: float | None = None
) -> GenerationOptions:
    """Decoding options: the operator's, or a visitor's within the same limits; greedy unless temperature > 0."""
    chosen = {"max_new_tokens": max_new_tokens, "temperature": temperature}
    try:
        knobs = _Decoding.model_validate(
            {k: getattr(settings, k) if v is None else v for k, v in chosen.items()}
        )
    except ValidationError as exc:
        raise explain(exc) from None
    heat = knobs.temperature
    return GenerationOptions(max_new_tokens=knobs.max_new_tokens, do_sample=heat > 0, temperature=heat or 1.0)
