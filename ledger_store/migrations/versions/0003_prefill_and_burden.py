"""ledger prefill in conversations, burden figures on submissions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 08:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("prefill", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("asked_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prefilled_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("confirmed_count", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        for name in ("confirmed_count", "prefilled_count", "asked_count", "started_at"):
            batch.drop_column(name)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("started_at")
        batch.drop_column("prefill")
