"""Every test keeps its history (database, stored videos) in a temporary folder, never in the user's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres import Postgres, postgres_server, unavailable_reason

from sitewatch.settings import get_settings


@pytest.fixture(autouse=True, scope="session")
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("sitewatch-data")
    patch = pytest.MonkeyPatch()
    patch.setenv("SITEWATCH_DATA_DIR", str(folder))
    get_settings.cache_clear()
    yield folder
    patch.undo()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One real PostgreSQL server for the whole run (each test takes its own database from it)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"PostgreSQL tests skipped: {reason}")
    with postgres_server() as server:
        yield server
