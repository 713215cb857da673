"""An incident's summary as one mapping of language code to text, instead of a column per language.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LEGACY = ("en", "ko")


def upgrade() -> None:
    """Add incidents.summary, fill it from summary_en and summary_ko, then drop those."""
    op.add_column("incidents", sa.Column("summary", sa.JSON(), nullable=True))
    incidents = sa.table(
        "incidents", sa.column("id", sa.String), sa.column("summary", sa.JSON),
        *(sa.column(f"summary_{code}", sa.Text) for code in _LEGACY),
    )  # fmt: skip
    bind = op.get_bind()
    for row in bind.execute(sa.select(incidents)).mappings().all():
        texts = {code: row[f"summary_{code}"] for code in _LEGACY if row[f"summary_{code}"] is not None}
        if texts:
            bind.execute(incidents.update().where(incidents.c.id == row["id"]).values(summary=texts))
    with op.batch_alter_table("incidents") as batch:
        for code in _LEGACY:
            batch.drop_column(f"summary_{code}")


def downgrade() -> None:
    """Back to a column per language (languages other than English and Korean are dropped)."""
    with op.batch_alter_table("incidents") as batch:
        for code in _LEGACY:
            batch.add_column(sa.Column(f"summary_{code}", sa.Text(), nullable=True))
    incidents = sa.table(
        "incidents", sa.column("id", sa.String), sa.column("summary", sa.JSON),
        *(sa.column(f"summary_{code}", sa.Text) for code in _LEGACY),
    )  # fmt: skip
    bind = op.get_bind()
    for row in bind.execute(sa.select(incidents.c.id, incidents.c.summary)).mappings().all():
        texts = row["summary"] or {}
        if texts:
            values = {f"summary_{code}": texts.get(code) for code in _LEGACY}
            bind.execute(incidents.update().where(incidents.c.id == row["id"]).values(**values))
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("summary")
