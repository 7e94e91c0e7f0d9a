"""outbox by person: delivery looks for an older row to the same person still waiting before it sends a later one

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 21:00:00
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_person_status", "outbox", ["person_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_outbox_person_status", table_name="outbox")
