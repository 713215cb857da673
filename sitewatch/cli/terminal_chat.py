"""The terminal chat loop behind `sitewatch chat VIDEO`, with input and output passed in for tests."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from sitewatch.chat import ChatSession, ChatTurn
from sitewatch.errors import SitewatchError
from sitewatch.text import DEFAULT_LANG, Lang, Language, language

log = logging.getLogger(__name__)

QUIT = frozenset({"/quit", "/exit", "/q"})


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_terminal_chat(
    session: ChatSession,
    input_fn: Callable[[str], str] = input,
    output_fn: Callable[[str], None] = _write,
    *,
    ui_lang: Lang = DEFAULT_LANG,
    answer_lang: Lang | None = None,
) -> int:
    """Chat until /quit, an empty line or end of input; returns the number of answered questions.

    The greeting and command replies are in `ui_lang`; answers are in `answer_lang`, or in each
    question's own language when it is None. `output_fn` receives text without an added newline,
    so streamed pieces appear as they come. A Korean answer streams the model's English first
    (marked "EN:") and then prints the Korean.
    """
    words = language(ui_lang)
    output_fn(words.t("chat_greeting"))
    answered = 0
    while True:
        try:
            line = input_fn("> ").strip()
        except (EOFError, KeyboardInterrupt):
            output_fn("\n")
            return answered
        if not line or line.lower() in QUIT:
            return answered
        if line.lower() == "/reset":
            session.reset()
            output_fn(words.t("chat_cleared") + "\n")
            continue
        if line.lower() == "/en":
            history = session.history
            output_fn(_english_original(history[-1] if history else None, words) + "\n")
            continue
        try:
            _answer(session, line, output_fn, answer_lang)
        except SitewatchError as exc:
            log.debug("chat turn failed", exc_info=True)
            output_fn(f"\nerror: {exc}\n")
            continue
        answered += 1


def _english_original(turn: ChatTurn | None, words: Language) -> str:
    """What /en prints: the model's English answer, or why there is none."""
    if turn is None:
        return words.t("chat_no_answer_yet")
    return turn.answer_en or words.t("chat_no_original")


def _answer(session: ChatSession, question: str, output_fn: Callable[[str], None], lang: Lang | None) -> None:
    """Stream one answer to the terminal, then what went wrong on the way (the operator is reading)."""
    shown = 0
    for turn in session.stream(question, lang):
        if turn.complete:
            break
        if shown == 0 and turn.lang != "en":
            output_fn("EN: ")
        output_fn(turn.answer_en[shown:])
        shown = len(turn.answer_en)
    if shown:
        output_fn("\n")
    # Streamed English already is the answer; anything else (Korean, report answers) prints whole.
    if not shown or turn.lang != "en":
        output_fn(turn.answer + "\n")
    for warning in turn.warnings:
        output_fn(f"warning: {warning}\n")
