"""Server-sent events: one `event:`/`data:` frame per message, JSON data."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

SSE_MEDIA_TYPE = "text/event-stream"
# Proxies must pass each event on as it comes rather than buffer the stream.
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse(event: str, data: BaseModel | dict[str, Any] | list[Any]) -> str:
    """One event frame with `data` as JSON."""
    body = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data, ensure_ascii=False, default=str)
    return f"event: {event}\ndata: {body}\n\n"
