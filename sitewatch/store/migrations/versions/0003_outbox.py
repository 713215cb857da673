"""The alert outbox: every alert to every channel is a row before it is sent; incidents know their process.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the deliveries table; give incidents the process that is making their clip."""
    op.create_table(
        "deliveries",
        sa.Column("alert_id", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(300), primary_key=True),
        sa.Column(
            "incident_id", sa.String(32), sa.ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("worker", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_deliveries_incident_id", "deliveries", ["incident_id"])
    op.create_index("ix_deliveries_state", "deliveries", ["state"])
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("worker", sa.String(128), nullable=True))


def downgrade() -> None:
    """Drop what upgrade created."""
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("worker")
    op.drop_index("ix_deliveries_state", "deliveries")
    op.drop_index("ix_deliveries_incident_id", "deliveries")
    op.drop_table("deliveries")
