"""/v1/analyses/{id}/chat: ask about a done analysis (the answer streams as SSE) and read the conversation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from sitewatch.api.models import Question
from sitewatch.api.problems import Problem
from sitewatch.api.services import services
from sitewatch.api.sse import SSE_HEADERS, SSE_MEDIA_TYPE, sse
from sitewatch.chat import ChatTurn
from sitewatch.errors import SitewatchError
from sitewatch.store import AnalysisStateError, ChatRecord, Status, Store

log = logging.getLogger(__name__)

router = APIRouter(prefix="/analyses", tags=["chat"])

# A question waits this long for the one before it about the same analysis to be answered.
QUEUE_WAIT_S = 120.0


def _answer_events(
    store: Store, analysis_id: str, turns: Iterator[ChatTurn], release: Callable[[], None]
) -> Iterator[str]:
    try:
        for turn in turns:
            if turn.complete:
                yield sse("turn", store.add_turn(analysis_id, turn))
            else:
                yield sse("delta", {"answer": turn.answer, "answer_en": turn.answer_en})
    except SitewatchError as exc:
        yield sse("error", {"detail": str(exc)})
    except Exception:
        log.exception("chat about %s failed", analysis_id)
        yield sse("error", {"detail": "internal server error; the server log has the details"})
    finally:
        release()


@router.post("/{analysis_id}/chat")
def ask(request: Request, analysis_id: str, body: Question) -> StreamingResponse:
    """Ask in Korean or English: `delta` events carry the growing answer, `turn` the stored complete turn."""
    svc = services(request)
    record = svc.store.get(analysis_id)
    if record.status is not Status.done:
        raise AnalysisStateError(f"analysis {analysis_id} is {record.status.value}; chat opens once it is done")
    question = body.question.strip()
    if not question:
        raise Problem(422, "question: the question is empty")
    if len(question) > svc.settings.max_question_chars:
        raise Problem(422, f"question: longer than {svc.settings.max_question_chars} characters")
    live = svc.chats.get(analysis_id)
    if not live.lock.acquire(timeout=QUEUE_WAIT_S):
        raise Problem(409, f"another question about analysis {analysis_id} is still being answered")
    try:
        turns = live.session.stream(question, lang=body.lang)
    except BaseException:
        live.lock.release()
        raise
    return StreamingResponse(
        _answer_events(svc.store, analysis_id, turns, live.lock.release), media_type=SSE_MEDIA_TYPE,
        headers=SSE_HEADERS,
    )


@router.get("/{analysis_id}/chat", response_model=list[ChatRecord])
def history(request: Request, analysis_id: str) -> list[ChatRecord]:
    """The stored conversation, each turn in the asker's language and in English."""
    return services(request).store.turns(analysis_id)
