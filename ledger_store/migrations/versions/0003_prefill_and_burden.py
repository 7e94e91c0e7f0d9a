"""ledger prefill and rosters in conversations, burden figures and roster rows on submissions

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

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("prefill", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rosters", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("asked_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prefilled_count", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("confirmed_count", sa.Integer(), nullable=True))
    op.create_table(
        "roster_rows",
        sa.Column("id", Id, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("repeat", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_roster_rows_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roster_rows")),
        sa.UniqueConstraint(
            "submission_id", "repeat", "position", name=op.f("uq_roster_rows_submission_id_repeat_position")
        ),
    )


def downgrade() -> None:
    op.drop_table("roster_rows")
    with op.batch_alter_table("submissions") as batch:
        for name in ("confirmed_count", "prefilled_count", "asked_count", "started_at"):
            batch.drop_column(name)
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("started_at")
        batch.drop_column("rosters")
        batch.drop_column("prefill")
