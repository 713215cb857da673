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

from sitewatch.chat_report import answer_from_report, report_context
from sitewatch.errors import BackendError, IncompleteAnswerError, SitewatchError
from sitewatch.prompts import DEFAULT_SYSTEM_PROMPT
from sitewatch.schema import Message, Report
from sitewatch.translate.base import Lang, Translator
from sitewatch.translate.check import translate_checked, translate_or_keep
from sitewatch.translate.detect import detect_language
from sitewatch.translate.none import NoTranslator
from sitewatch.vlm.base import GenerationOptions, VideoClip, VideoLM

log = logging.getLogger(__name__)

NO_TRANSLATOR_HINT = (
    "※ 번역기가 설정되어 있지 않아 모델의 영어 답변을 그대로 보여 드립니다. 한국어 답변을 받으시려면 "
    "SITEWATCH_TRANSLATOR=openai(OpenAI 호환 서버) 또는 hf(로컬 번역 모델)를 설정해 주세요."
)
# Said in the answer's language when a turn degrades; the technical reason goes to `ChatTurn.warnings`.
FAILED_NOTE: dict[Lang, str] = {
    "en": "(The video-language model or the translator failed, so this answer comes from the detector's "
    "report. Reason: {why})",
    "ko": "※ 비디오-언어 모델 또는 번역기가 응답하지 못해 감지기 보고서로 답변드렸습니다. 원인: {why}",
}
QUESTION_KEPT_NOTE: dict[Lang, str] = {
    "en": "(The translation of the question looked wrong, so the model was given the question as written.)",
    "ko": "※ 질문의 번역 결과가 올바르지 않아 원래 질문을 그대로 모델에 전달했습니다.",
}
CUT_OFF_NOTE: dict[Lang, str] = {
    "en": "(The model's answer was cut off.)",
    "ko": "※ 모델의 답변이 중간에 끊겼습니다.",
}
UNTRANSLATED_NOTE = "※ 답변을 한국어로 번역하지 못해 모델의 영어 답변을 그대로 보여 드립니다."


class ChatTurn(BaseModel):
    """One question and its answer, in the user's language and in the English the model used."""

    question: str
    question_en: str  # the text the model saw: English when translated ("" for report-only Korean)
    answer: str  # in `lang`; "" while a Korean answer is still streaming in English
    answer_en: str  # the model's own answer (or the English report answer)
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
        self._handle: Any = None
        self._encoded = False
        self._history: list[ChatTurn] = []

    @property
    def history(self) -> list[ChatTurn]:
        """The completed turns, oldest first (a copy)."""
        return list(self._history)

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
            notes.append(QUESTION_KEPT_NOTE[lang])
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
            notes.append(CUT_OFF_NOTE[lang])
        answer_en = answer_en.strip()
        if not answer_en:
            raise BackendError(f"{self.model.name} gave an empty answer")
        answer = answer_en
        if lang != "en":
            translated = translate_or_keep(self.translator, answer_en, "en", lang)
            answer = translated.text
            if translated.warning:
                warnings.append(translated.warning)
                notes.append(UNTRANSLATED_NOTE)
            elif isinstance(self.translator, NoTranslator) and detect_language(answer) == "en":
                # An English-only model answered in English and nothing translates it: say why and how to fix it.
                notes.append(NO_TRANSLATOR_HINT)
        yield ChatTurn(
            question=question,
            question_en=question_en,
            answer="\n".join([answer, *notes]),
            answer_en=answer_en,
            lang=lang,
            warnings=warnings,
        )

    def _report_turn(self, question: str, asked_in: Lang, lang: Lang, failure: str | None = None) -> ChatTurn:
        """Answer from the report with hand-written templates in both languages; no translation.

        `failure` is why the model could not answer; the answer then says so instead of suggesting a model.
        """

        def note(language: Lang) -> str | None:
            return None if failure is None else FAILED_NOTE[language].format(why=failure)

        return ChatTurn(
            question=question,
            question_en=question if asked_in == "en" else "",
            answer=answer_from_report(question, asked_in, self.report, lang, note(lang)),
            answer_en=answer_from_report(question, asked_in, self.report, "en", note("en")),
            lang=lang,
            source="report",
            warnings=[failure] if failure is not None else [],
        )
