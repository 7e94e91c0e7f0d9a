"""review reminders: when the reviewers of a waiting review step were reminded of it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 12:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_steps") as batch:
        batch.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("review_steps") as batch:
        batch.drop_column("reminded_at")
