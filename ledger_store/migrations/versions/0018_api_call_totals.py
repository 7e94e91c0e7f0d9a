"""api call totals: every platform's API calls and failed calls, counters for /metrics

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_call_totals",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("platform", name="pk_api_call_totals"),
    )


def downgrade() -> None:
    op.drop_table("api_call_totals")
