"""Reviews: an operator's current verdict on an incident (confirmed or false alarm), who gave it, when, a note.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the reviews table: one row per reviewed incident, removed with its incident."""
    op.create_table(
        "reviews",
        sa.Column(
            "incident_id", sa.String(32), sa.ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_reviews_verdict", "reviews", ["verdict"])


def downgrade() -> None:
    """Drop what upgrade created."""
    op.drop_index("ix_reviews_verdict", "reviews")
    op.drop_table("reviews")
