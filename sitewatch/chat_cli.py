"""The terminal chat loop behind `sitewatch chat VIDEO`, with input and output passed in for tests."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from sitewatch.chat import ChatSession
from sitewatch.errors import SitewatchError

log = logging.getLogger(__name__)

BANNER = (
    "Ask about the video in Korean or English (영상에 대해 한국어나 영어로 질문해 주세요).\n"
    "Commands: /en shows the English original of the last answer, /reset clears the chat, "
    "/quit (or an empty line) ends it.\n"
)
QUIT = frozenset({"/quit", "/exit", "/q"})


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run_terminal_chat(
    session: ChatSession,
    input_fn: Callable[[str], str] = input,
    output_fn: Callable[[str], None] = _write,
) -> int:
    """Chat until /quit, an empty line or end of input; returns the number of answered questions.

    `output_fn` receives text without an added newline, so streamed pieces appear as they come.
    A Korean answer streams the model's English first (marked "EN:") and then prints the Korean.
    """
    output_fn(BANNER)
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
            output_fn("Chat cleared. 대화를 초기화했습니다.\n")
            continue
        if line.lower() == "/en":
            history = session.history
            output_fn((history[-1].answer_en if history else "No answer yet.") + "\n")
            continue
        try:
            _answer(session, line, output_fn)
        except SitewatchError as exc:
            log.debug("chat turn failed", exc_info=True)
            output_fn(f"\nerror: {exc}\n")
            continue
        answered += 1


def _answer(session: ChatSession, question: str, output_fn: Callable[[str], None]) -> None:
    """Stream one answer to the terminal."""
    shown = 0
    for turn in session.stream(question):
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
