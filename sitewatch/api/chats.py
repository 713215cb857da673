"""Live chat sessions about stored analyses: opened on the first question, kept for the next ones."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sitewatch.chat import ChatSession
from sitewatch.settings import Settings
from sitewatch.store import Store

# Open sessions kept in memory (each may hold a model's encoding of its video); the oldest is closed first.
MAX_SESSIONS = 32


@dataclass
class LiveChat:
    """A chat session and the lock that keeps its turns in order (one question at a time per analysis)."""

    session: ChatSession
    lock: threading.Lock = field(default_factory=threading.Lock)


class ChatSessions:
    """One ChatSession per analysis, restored from the stored turns when it is first needed."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._open: OrderedDict[str, LiveChat] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, analysis_id: str) -> LiveChat:
        """The live chat about a done analysis (AnalysisStateError before it is done)."""
        with self._lock:
            live = self._open.get(analysis_id)
            if live is not None:
                self._open.move_to_end(analysis_id)
                return live
        live = LiveChat(self._open_session(analysis_id))
        with self._lock:
            live = self._open.setdefault(analysis_id, live)
            while len(self._open) > MAX_SESSIONS:
                self._open.popitem(last=False)
        return live

    def close(self, analysis_id: str) -> None:
        """Forget the live session of a deleted analysis."""
        with self._lock:
            self._open.pop(analysis_id, None)

    def _open_session(self, analysis_id: str) -> ChatSession:
        from sitewatch.service.session import chat_about

        record = self.store.get(analysis_id)
        # A model sees the earlier questions after a server restart too.
        return chat_about(
            self.store.report(analysis_id),
            self.store.video_path(analysis_id),
            record.options,
            self.settings,
            history=self.store.chat_history(analysis_id),
        )
