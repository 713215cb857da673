"""Turn a report and a chat into what the page shows: verdict HTML, event table, gallery, messages."""

from __future__ import annotations

from html import escape
from typing import Any

from sitewatch.chat import ChatTurn
from sitewatch.report.keyframes import Keyframe
from sitewatch.schema import Report
from sitewatch.text import describe, keyframe_caption, t
from sitewatch.text.style import VERDICT_COLOURS


def verdict_html(report: Report | None, lang: str) -> str:
    """A coloured verdict badge with the summary and any warnings, in `lang`."""
    if report is None:
        return ""
    text = describe(report, lang)
    warnings = "".join(
        f'<li class="sw-warning">{escape(t(lang, "warning"))}: {escape(w)}</li>' for w in report.warnings
    )
    return (
        f'<div class="sw-verdict" data-verdict="{report.verdict.value}">'
        f'<span class="sw-badge" style="background:{VERDICT_COLOURS[report.verdict]}">{escape(text.verdict)}</span> '
        f"<span>{escape(text.confidence)}</span>"
        f'<p class="sw-summary">{escape(text.summary)}</p>' + (f"<ul>{warnings}</ul>" if warnings else "") + "</div>"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def events_markdown(report: Report | None, lang: str) -> str:
    """The incidents as a Markdown table (or a line saying there are none)."""
    if report is None:
        return ""
    text = describe(report, lang)
    if not text.rows:
        return t(lang, "no_events")
    head, cells = text.table()
    lines = ["| " + " | ".join(_cell(c) for c in row) + " |" for row in cells]
    return "\n".join(["| " + " | ".join(head) + " |", "|---" * len(head) + "|", *lines])


def gallery_items(report: Report | None, keyframes: list[Keyframe], lang: str) -> list[tuple[str, str]]:
    """(image path, caption) pairs for the keyframe gallery, captions in `lang`."""
    if report is None:
        return []
    return [(str(k.path), keyframe_caption(report, k.event_index, k.time_s, lang)) for k in keyframes]


def _markdown_safe(text: str) -> str:
    # Korean writes time ranges with "~" between the two times; Markdown would strike them through.
    return text.replace("~", "\\~")


def turn_messages(turn: ChatTurn, lang: str) -> list[dict[str, Any]]:
    """A turn as chatbot messages: the question, the answer, and its English original folded away."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": _markdown_safe(turn.question)}]
    if turn.lang == "en":
        messages.append({"role": "assistant", "content": _markdown_safe(turn.answer_en) or "…"})
        return messages
    # A Korean answer arrives only after the English one is complete; meanwhile show that.
    messages.append({"role": "assistant", "content": _markdown_safe(turn.answer) or t(lang, "translating")})
    if turn.answer_en:
        status = "done" if turn.complete else "pending"
        messages.append(
            {
                "role": "assistant",
                "content": _markdown_safe(turn.answer_en),
                "metadata": {"title": t(lang, "english_original"), "status": status},
            }
        )
    return messages


def chat_messages(history: list[ChatTurn], lang: str, partial: ChatTurn | None = None) -> list[dict[str, Any]]:
    """The whole conversation in the Chatbot's messages format, the growing turn last."""
    messages: list[dict[str, Any]] = []
    for turn in [*history, *([partial] if partial else [])]:
        messages.extend(turn_messages(turn, lang))
    return messages
