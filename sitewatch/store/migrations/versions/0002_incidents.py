"""Incidents raised by watched cameras, each with its clip's analysis once that is done.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_INDEXED = ("camera", "started_at", "kind")


def upgrade() -> None:
    """Create the incidents table and its indexes."""
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("camera", sa.String(100), nullable=False),
        sa.Column("site", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stream_s", sa.Float(), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column(
            "analysis_id", sa.String(32), sa.ForeignKey("analyses.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("summary_en", sa.Text(), nullable=True),
        sa.Column("summary_ko", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    for column in _INDEXED:
        op.create_index(f"ix_incidents_{column}", "incidents", [column])


def downgrade() -> None:
    """Drop what upgrade created."""
    for column in _INDEXED:
        op.drop_index(f"ix_incidents_{column}", "incidents")
    op.drop_table("incidents")
