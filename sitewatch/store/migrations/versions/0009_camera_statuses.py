"""Each watched camera's status as its watcher last published it, so a separate `serve` can show it.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add camera_statuses: one row per registered camera, its status as JSON and when and how often it is written."""
    op.create_table(
        "camera_statuses",
        sa.Column("camera", sa.String(64), sa.ForeignKey("cameras.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.Column("every_s", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop camera_statuses (a separate serve then shows only the cameras it watches itself)."""
    op.drop_table("camera_statuses")
