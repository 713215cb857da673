"""Zones: the cameras a watcher has registered, and the polygons drawn on each camera's picture.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create cameras (one row per watched camera, with when and by whom its zones last changed) and zones."""
    op.create_table(
        "cameras",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("site", sa.String(100), nullable=True),
        sa.Column("watched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("zones_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("zones_by", sa.String(100), nullable=True),
    )
    op.create_table(
        "zones",
        sa.Column("camera", sa.String(64), sa.ForeignKey("cameras.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("points", sa.JSON(), nullable=False),
        sa.Column("dwell_s", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_table("zones")
    op.drop_table("cameras")
