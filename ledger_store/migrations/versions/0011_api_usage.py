"""api usage: each platform's metered API calls per month, against its allowance

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 01:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_usage",
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("free_calls", sa.Integer(), nullable=False),
        sa.Column("allowance", sa.Integer(), nullable=False),
        sa.Column("warned_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("platform", "period", name="pk_api_usage"),
    )


def downgrade() -> None:
    op.drop_table("api_usage")
