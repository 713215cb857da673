"""Alembic's entry point: migrate over the connection `sitewatch.store.migrate` hands in (no ini file)."""

from alembic import context

from sitewatch.store.tables import Base

connection = context.config.attributes["connection"]
# Batch mode lets later revisions alter tables on SQLite, which has no ALTER for most changes.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
