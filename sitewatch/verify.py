"""Ask a video-language model a fixed English safety question set about a window and parse its answer."""

from __future__ import annotations

import json
import logging
import re

from sitewatch.errors import IncompleteAnswerError
from sitewatch.schema import EventKind, GenerationOptions, Message, ModelOpinion, VideoClip
from sitewatch.vlm.base import VideoLM

log = logging.getLogger(__name__)

SAFETY_PROMPT = (
    "You are checking workplace safety camera footage. Watch the video and answer with one JSON object "
    "and nothing else, using these keys:\n"
    '"accident": "yes" or "no" (did someone fall, collapse, end up lying on the ground, or get struck '
    "by a falling or moving object?),\n"
    '"kind": one of "fall", "person_down", "struck_by", "object_drop", "none",\n'
    '"who": who was involved, in a few words,\n'
    '"when": when in the clip it happens (beginning, middle, end, or seconds),\n'
    '"severity": "none", "minor", "serious" or "critical",\n'
    '"description": one or two sentences describing the scene and what happens.'
)
YES_NO_PROMPT = (
    "Did an accident happen in this video, such as a person falling, collapsing, lying on the ground, "
    "or being struck by an object? Answer yes or no."
)
DESCRIBE_PROMPT = "Describe the scene and what the people in the video are doing, in two sentences."

_KIND_WORDS: dict[EventKind, tuple[str, ...]] = {
    EventKind.object_drop: ("object_drop", "falling object", "dropped", "drops", "load fell", "debris"),
    EventKind.struck_by: ("struck", "hit by", "knocked", "strike"),
    EventKind.person_down: ("person_down", "lying", "collapsed", "unconscious", "motionless"),
    EventKind.fall: ("fall", "fell", "slip", "trip", "tumble"),
}


def parse_yes_no(text: str) -> bool | None:
    """Read a yes/no answer from free text, as models like PLLaVA write it ("Yes, the man ...")."""
    words = re.findall(r"[a-z']+", text.lower())[:40]
    if not words:
        return None
    first = words[0]
    if first in {"yes", "yeah", "yep", "true"}:
        return True
    if first in {"no", "nope", "false"} or "no accident" in text.lower() or "not" in words[:4]:
        return False
    return True if "yes" in words[:6] else None


def kind_from_text(text: str) -> EventKind | None:
    """Map a model's wording (or a JSON kind) to an event kind."""
    low = text.lower()
    for kind, words in _KIND_WORDS.items():
        if any(w in low for w in words):
            return kind
    return None


def _json_object(text: str) -> dict | None:
    match = re.search(r"\{.*\}", text, flags=re.S)
    if not match:
        return None
    try:
        value = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _ask(model: VideoLM, handle: object, prompt: str, max_new_tokens: int, problems: list[str]) -> str:
    """The model's answer to `prompt`; an empty or cut-off answer also adds to `problems`."""
    options = GenerationOptions(max_new_tokens=max_new_tokens)
    try:
        answer = model.generate(handle, [Message(role="user", content=prompt)], options).strip()
    except IncompleteAnswerError as exc:
        answer = exc.partial.strip()
        problems.append(str(exc))
    if not answer:
        problems.append(f"{model.name} gave an empty answer")
    return answer


def ask_model(model: VideoLM, clip: VideoClip, start_s: float, end_s: float) -> ModelOpinion:
    """The model's structured opinion on one window; free-text answers fall back to yes/no parsing.

    An empty or cut-off answer is kept with what went wrong in `error`; a failing backend raises BackendError.
    """
    handle = model.encode(clip)
    problems: list[str] = []
    raw = _ask(model, handle, SAFETY_PROMPT, 200, problems)
    data = _json_object(raw)
    if data is not None and "accident" in data:
        accident = parse_yes_no(str(data.get("accident", "")))
        kind = kind_from_text(str(data.get("kind") or ""))
        return ModelOpinion(
            model=model.name,
            start_s=start_s,
            end_s=end_s,
            accident=accident,
            kind=kind.value if kind else None,
            severity=str(data.get("severity") or "") or None,
            people=str(data.get("who") or "") or None,
            when=str(data.get("when") or "") or None,
            description=str(data.get("description") or "").strip(),
            raw=raw,
            error="; ".join(problems) or None,
        )
    log.info("%s gave no JSON; asking plain questions", model.name)
    yes_no = _ask(model, handle, YES_NO_PROMPT, 40, problems)
    description = _ask(model, handle, DESCRIBE_PROMPT, 120, problems)
    accident = parse_yes_no(yes_no)
    kind = kind_from_text(f"{yes_no} {description}") if accident else None
    return ModelOpinion(
        model=model.name,
        start_s=start_s,
        end_s=end_s,
        accident=accident,
        kind=kind.value if kind else None,
        description=description,
        raw=f"{raw}\n---\n{yes_no}",
        error="; ".join(problems) or None,
    )


def failed_opinion(model: VideoLM, start_s: float, end_s: float, error: str) -> ModelOpinion:
    """The record of a window the model could not be asked about (its backend failed)."""
    return ModelOpinion(model=model.name, start_s=start_s, end_s=end_s, accident=None, error=error)


def opinion_warnings(opinions: list[ModelOpinion]) -> list[str]:
    """One report warning per opinion whose answer failed, was empty or was cut off."""
    return [f"model {o.model} on {o.start_s:.1f}-{o.end_s:.1f} s: {o.error}" for o in opinions if o.error is not None]
