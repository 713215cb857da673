"""Turn a report and a chat into what the page shows: verdict HTML, event table, gallery, messages."""

from __future__ import annotations

from html import escape
from typing import Any

from sitewatch.chat import ChatTurn
from sitewatch.report.keyframes import Keyframe
from sitewatch.report.words import EVENT_KO
from sitewatch.schema import Report
from sitewatch.ui.i18n import t

_VERDICT_COLOUR = {"accident": "#c8102e", "uncertain": "#b8860b", "no_accident": "#2e7d32"}


def verdict_html(report: Report | None, lang: str) -> str:
    """A coloured verdict badge with the summary and any warnings, in `lang`."""
    if report is None:
        return ""
    verdict = report.verdict.value
    summary = report.summary_ko if lang == "ko" else report.summary_en
    warnings = "".join(
        f'<li class="sw-warning">{escape(t(lang, "warning"))}: {escape(w)}</li>' for w in report.warnings
    )
    return (
        f'<div class="sw-verdict" data-verdict="{verdict}">'
        f'<span class="sw-badge" style="background:{_VERDICT_COLOUR[verdict]}">'
        f"{escape(t(lang, 'verdict_' + verdict))}</span> "
        f"<span>{escape(t(lang, 'confidence'))} {report.confidence:.0%}</span>"
        f'<p class="sw-summary">{escape(summary)}</p>' + (f"<ul>{warnings}</ul>" if warnings else "") + "</div>"
    )


def _kind(kind: Any, lang: str) -> str:
    return EVENT_KO[kind] if lang == "ko" else kind.value.replace("_", " ")


def events_markdown(report: Report | None, lang: str) -> str:
    """The events as a Markdown table (or a line saying there are none)."""
    if report is None:
        return ""
    if not report.events:
        return t(lang, "no_events")
    head = [t(lang, k) for k in ("col_kind", "col_start", "col_end", "confidence", "col_people")]
    rows = [
        f"| {_kind(e.kind, lang)} | {e.start_s:.1f} | {e.end_s:.1f} | {e.confidence:.0%} | {len(e.people)} |"
        for e in report.events
    ]
    return "\n".join(["| " + " | ".join(head) + " |", "|---" * len(head) + "|", *rows])


def gallery_items(report: Report | None, keyframes: list[Keyframe], lang: str) -> list[tuple[str, str]]:
    """(image path, caption) pairs for the keyframe gallery, captions in `lang`."""
    if report is None:
        return []
    items = []
    for frame in keyframes:
        if frame.event_index is None:
            caption = t(lang, "overview_at", time=frame.time_s)
        else:
            kind = _kind(report.events[frame.event_index].kind, lang)
            caption = f"#{frame.event_index + 1} " + t(lang, "keyframe_at", kind=kind, time=frame.time_s)
        items.append((str(frame.path), caption))
    return items


def _markdown_safe(text: str) -> str:
    # Korean writes ranges with "~" (4.0초~11.2초); Markdown would strike them through.
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
