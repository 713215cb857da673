"""Each watched camera's learned normal (how its usual person looks at each place of the picture).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add camera_scenes: one row per camera, its state as JSON."""
    op.create_table(
        "camera_scenes",
        sa.Column("camera", sa.String(64), primary_key=True),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    """Drop camera_scenes (cameras then learn their normal afresh)."""
    op.drop_table("camera_scenes")
