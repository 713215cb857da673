"""Run the shipped Alembic migrations from code: the config is built here, no alembic.ini is needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# The PostgreSQL advisory lock that one migrating process holds (any fixed number no other program uses).
MIGRATION_LOCK = 0x5174_3A7C


def alembic_config() -> Config:
    """An Alembic config pointing at the migrations inside this package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _lock(connection: Connection) -> None:
    """Hold the database's write lock until this transaction ends: a `watch` and a `serve` started at once on a new
    history would otherwise both create its tables (the second one failing)."""
    if connection.dialect.name == "sqlite":
        # Another process's migration is waited for (the busy timeout) and then seen done.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")


def _run(engine: Engine, action: str, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        _lock(connection)
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database up to `revision` (the newest by default); a no-op when it is there already."""
    _run(engine, "upgrade", revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Take the database back to `revision` (empty by default)."""
    _run(engine, "downgrade", revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at (None when it has never been migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
