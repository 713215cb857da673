"""Model-facing English prompt text shared by the chat session and the video-language backends."""

from __future__ import annotations

from sitewatch.schema import Report

# Byte-exact copy of the PLLaVA demo's SYSTEM (pllava.md §7.3), trailing space on line 1 and final
# newline included: the released models were tried with this text, so keep it unchanged.
DEFAULT_SYSTEM_PROMPT = (
    "You are a powerful Video Magic ChatBot, a large vision-language assistant. \n"
    "You are able to understand the video content that the user provides and assist the user in a "
    "video-language related task.\n"
    "The user might provide you with the video and maybe some extra noisy information to help you out "
    "or ask you a question. Make use of the information in a proper way to be competent for the job.\n"
    "### INSTRUCTIONS:\n"
    "1. Follow the user's instruction.\n"
    "2. Be critical yet believe in yourself.\n"
)

# Opens the "extra noisy information" the system prompt mentions: the detector's report, given with
# the first question of a chat.
REPORT_CONTEXT_HEADER = "Extra information from the site's automatic accident detector (it may be noisy):"


def report_context(report: Report) -> str:
    """The report as compact English for the model: verdict, events with time and confidence, people."""
    medium = "image" if report.video.is_image else f"{report.video.duration_s:.1f} s video"
    lines = [
        REPORT_CONTEXT_HEADER,
        f"Verdict: {report.verdict.value} (confidence {report.confidence:.2f}) for this {medium}.",
    ]
    if report.events:
        lines.append("Events:")
        for event in report.events:
            people = f", people involved: {len(event.people)}" if event.people else ""
            lines.append(
                f"- {event.kind.value} from {event.start_s:.1f} s to {event.end_s:.1f} s, "
                f"confidence {event.confidence:.2f}{people}"
            )
    else:
        lines.append("Events: none detected.")
    lines.append(f"Most people visible at once: {report.people_max}.")
    if report.summary.get("en"):
        lines.append(f"Summary: {report.summary['en']}")
    return "\n".join(lines)
