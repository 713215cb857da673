"""The history's database engine: SQLite (WAL) in the data folder by default, or SITEWATCH_DATABASE_URL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event

from sitewatch.settings import Settings

SQLITE_FILE = "sitewatch.db"
# Seconds a writer waits for another process's write lock (the server and `analyze --save` share the file).
SQLITE_BUSY_S = 30


def data_dir(settings: Settings) -> Path:
    """The data folder, created on first use."""
    folder = settings.data_dir.expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_url(settings: Settings) -> str:
    """SITEWATCH_DATABASE_URL, or the SQLite file in the data folder."""
    return settings.database_url or f"sqlite:///{data_dir(settings) / SQLITE_FILE}"


def _wal(cursor: Any) -> None:
    """Switch the file to WAL, waiting out other processes as the busy timeout would."""
    # Turning a new file to WAL needs its exclusive lock, and SQLite refuses it at once, without the busy
    # timeout's wait, while another connection holds the write lock a migration takes (a `watch` and a `serve`
    # opening a new history together); so wait here, as long as any other write would.
    deadline = time.monotonic() + SQLITE_BUSY_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the API's listings) go on while a worker writes progress.
    _wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite connections get WAL, foreign keys and a busy timeout."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_S})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
