"""Alembic migrations of the history database, run by `sitewatch.store.migrate`."""
