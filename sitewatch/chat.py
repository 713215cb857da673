"""`ChatSession`: a chat about one video, in Korean or English, with any `VideoLM` backend or none.

Flow with a model: the question is translated to English when it is Korean, the model sees the
system prompt, the English history and the detector's report, and its English answer is translated
back. Without a model the session answers the common questions from the report alone, and so does a
turn whose model or translator fails, saying why. A translation that looks wrong is not used, and an
answer cut off or left untranslated says so; `ChatTurn.warnings` carries the details.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from sitewatch.errors import BackendError, IncompleteAnswerError, QuestionTooLongError, SitewatchError
from sitewatch.prompts import DEFAULT_SYSTEM_PROMPT, report_context
from sitewatch.schema import GenerationOptions, Message, Report, VideoClip
from sitewatch.text import Lang, answer_from_report, language
from sitewatch.translate.base import Translator
from sitewatch.translate.check import translate_checked, translate_or_keep
from sitewatch.translate.detect import detect_language
from sitewatch.translate.none import NoTranslator
from sitewatch.vlm.base import VideoLM

log = logging.getLogger(__name__)

class ChatTurn(BaseModel):
    """One question and its answer, in the user's language and in the English the model used."""

    question: str
    question_en: str  # the text the model saw: English when translated ("" for report-only Korean)
    answer: str  # in `lang`; "" while a Korean answer is still streaming in English
    answer_en: str  # the model's own English answer; "" when no model spoke (no English original to show)
    lang: Lang  # the language of `answer`
    source: Literal["model", "report"] = "model"
    complete: bool = True  # False on the partial turns `ChatSession.stream` yields
    # What went wrong on the way (translation not used, answer cut off, model failed), for logs and pages.
    warnings: list[str] = Field(default_factory=list)


class ChatSession:
    """A multi-turn chat about one video or image.

    `clip` is encoded once, on the first question (or `encode_video`), and the handle is reused
    for every turn. `report` is given to the model as the extra information its system prompt
    mentions. Without `model` the session answers from `report`. `translator` turns Korean
    questions into English and English answers into Korean; without one, text reaches the model
    in the user's language.
    """

    def __init__(
        self,
        clip: VideoClip | None = None,
        report: Report | None = None,
        *,
        model: VideoLM | None = None,
        translator: Translator | None = None,
        system_prompt: str = DEFAULT_SYSTEM_PROMPT,
        options: GenerationOptions | None = None,
        max_question_chars: int | None = None,
    ) -> None:
        if model is not None and clip is None:
            raise SitewatchError("a chat with a video-language model needs the video's frames (clip)")
        self.clip = clip
        self.report = report
        self.model = model
        self.translator: Translator = translator or NoTranslator()
        # Editable like the demo's system textbox; it is applied again on every turn.
        self.system_prompt = system_prompt
        self.options = options or GenerationOptions()
        self.max_question_chars = max_question_chars
        self._handle: Any = None
        self._encoded = False
        self._history: list[ChatTurn] = []

    @property
    def history(self) -> list[ChatTurn]:
        """The completed turns, oldest first (a copy)."""
        return list(self._history)

    def resume(self, turns: list[ChatTurn]) -> None:
        """Continue an earlier conversation: `turns` (oldest first) become the history the model sees."""
        self._history = [turn.model_copy(update={"complete": True}) for turn in turns]

    def reset(self) -> None:
        """Forget the conversation; the video, its encoding and the report stay."""
        self._history.clear()
        log.info("chat history cleared")

    def encode_video(self) -> Any:
        """Encode the clip with the model once and return the kept handle."""
        if self.model is None or self.clip is None:
            raise SitewatchError("this chat has no video-language model to encode the video with")
        if not self._encoded:
            log.info("encoding %d frame(s) with %s", len(self.clip.frames), self.model.name)
            self._handle = self.model.encode(self.clip)
            self._encoded = True
        return self._handle

    def messages(self, question_en: str) -> list[Message]:
        """What the model receives for `question_en`: system prompt, English history, report, question.

        The report goes with the newest question rather than the first, so it survives backends
        that drop the oldest turns to fit their context window.
        """
        messages = [Message(role="system", content=self.system_prompt)]
        for turn in self._history:
            if turn.source == "model":
                messages.append(Message(role="user", content=turn.question_en))
                messages.append(Message(role="assistant", content=turn.answer_en))
        content = f"{report_context(self.report)}\n\n{question_en}" if self.report else question_en
        messages.append(Message(role="user", content=content))
        return messages

    def ask(self, question: str, lang: Lang | None = None) -> ChatTurn:
        """Answer `question` in `lang` (default: the question's language) and record the turn."""
        return deque(self.stream(question, lang), maxlen=1)[0]

    def stream(self, question: str, lang: Lang | None = None) -> Iterator[ChatTurn]:
        """Yield the turn as it grows; the last item is the complete turn, also added to `history`.

        English answers grow piece by piece in `answer` and `answer_en`. A Korean answer is
        translated once the English one is complete: the partial turns carry only `answer_en`, and
        the last one brings `answer` in Korean. A stream left unfinished records no turn.
        """
        question = question.strip()
        if not question:
            raise SitewatchError("the question is empty")
        asked_in = detect_language(question)
        limit = self.max_question_chars
        if limit is not None and len(question) > limit:
            # Refused, not cut: the user decides what to keep, and nothing of it enters the history.
            words = language(lang or asked_in)
            raise QuestionTooLongError(words.t("question_too_long", length=len(question), limit=limit))
        return self._stream(question, asked_in, lang or asked_in)

    def _stream(self, question: str, asked_in: Lang, lang: Lang) -> Iterator[ChatTurn]:
        if self.model is None:
            turn = self._report_turn(question, asked_in, lang)
        else:
            turn = None
            try:
                for turn in self._model_turn(question, asked_in, lang):
                    if not turn.complete:
                        yield turn
            except BackendError as exc:
                # A chat must go on when its model or translator fails: the report still answers.
                log.warning("answering from the report: %s", exc)
                turn = self._report_turn(question, asked_in, lang, failure=str(exc))
            assert turn is not None
        self._history.append(turn)
        yield turn

    def _model_turn(self, question: str, asked_in: Lang, lang: Lang) -> Iterator[ChatTurn]:
        assert self.model is not None
        warnings: list[str] = []
        notes: list[str] = []
        translated = translate_checked(self.translator, question, asked_in, "en")
        question_en = translated.text
        if translated.warning:
            warnings.append(translated.warning)
            notes.append(language(lang).t("chat_question_kept"))
        messages = self.messages(question_en)
        handle = self.encode_video()
        answer_en = ""
        try:
            for piece in self.model.stream(handle, messages, self.options):
                answer_en += piece
                partial = answer_en if lang == "en" else ""
                yield ChatTurn(
                    question=question,
                    question_en=question_en,
                    answer=partial,
                    answer_en=answer_en,
                    lang=lang,
                    complete=False,
                )
        except IncompleteAnswerError as exc:
            warnings.append(str(exc))
            notes.append(language(lang).t("chat_cut_off"))
        answer_en = answer_en.strip()
        if not answer_en:
            raise BackendError(f"{self.model.name} gave an empty answer")
        answer = answer_en
        if lang != "en":
            translated = translate_or_keep(self.translator, answer_en, "en", lang)
            answer = translated.text
            if translated.warning:
                warnings.append(translated.warning)
                notes.append(language(lang).t("chat_untranslated"))
            elif isinstance(self.translator, NoTranslator) and detect_language(answer) == "en":
                # An English-only model answered in English and nothing translates it: say why and how to fix it.
                notes.append(language(lang).t("chat_no_translator"))
        yield ChatTurn(
            question=question,
            question_en=question_en,
            answer="\n".join([answer, *notes]),
            answer_en=answer_en,
            lang=lang,
            warnings=warnings,
        )

    def _report_turn(self, question: str, asked_in: Lang, lang: Lang, failure: str | None = None) -> ChatTurn:
        """Answer from the report in the user's language; no model spoke, so there is no English original.

        `failure` is why the model could not answer; the answer then says so.
        """
        note = "" if failure is None else language(lang).t("chat_model_failed")
        return ChatTurn(
            question=question,
            question_en=question if asked_in == "en" else "",
            answer=answer_from_report(question, asked_in, self.report, lang, note),
            answer_en="",
            lang=lang,
            source="report",
            warnings=[failure] if failure is not None else [],
        )
