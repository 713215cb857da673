"""What the routes share for the server's lifetime: settings, the store, the job queue, live chats."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from sitewatch.api.chats import ChatSessions
from sitewatch.service.jobs import AnalysisQueue
from sitewatch.settings import Settings
from sitewatch.store import Store


@dataclass
class Services:
    """The server's long-lived parts, built at start-up by the app's lifespan."""

    settings: Settings
    store: Store
    queue: AnalysisQueue
    chats: ChatSessions
    uploads: Path


def services(request: Request) -> Services:
    """The services of the app serving `request`."""
    return request.app.state.services
