"""An incident's tier: an alarm (people were paged) or a possible accident (kept for the review queue only).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add incidents.tier; every incident kept so far paged people, so it is an alarm."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("tier", sa.String(8), nullable=False, server_default="alarm"))
        batch.create_index("ix_incidents_tier", ["tier"])


def downgrade() -> None:
    """Drop the tier (possible accidents then read as alarms)."""
    with op.batch_alter_table("incidents") as batch:
        batch.drop_index("ix_incidents_tier")
        batch.drop_column("tier")
