"""rollups: each ledger's current records counted by unit, month and matter, with the marks of units to recount

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 08:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledger_rollups",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("org_unit_id", Id, nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name="fk_ledger_rollups_ledger_id_ledgers"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_rollups"),
    )
    op.create_index("ix_ledger_rollups_unit", "ledger_rollups", ["ledger_id", "org_unit_id"])
    op.create_table(
        "ledger_unit_months",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("org_unit_id", Id, nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("sums", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name="fk_ledger_unit_months_ledger_id_ledgers"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_unit_months"),
    )
    op.create_index("ix_ledger_unit_months_unit", "ledger_unit_months", ["ledger_id", "org_unit_id"])
    op.create_table(
        "rollup_marks",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("org_unit_id", Id, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_rollup_marks"),
    )
    op.create_index("ix_rollup_marks_ledger_id", "rollup_marks", ["ledger_id"])
    op.create_table(
        "rollup_states",
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("shape", sa.Text(), nullable=False),
        sa.Column("judged_as_of", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name="fk_rollup_states_ledger_id_ledgers"),
        sa.PrimaryKeyConstraint("ledger_id", name="pk_rollup_states"),
    )
    op.create_table(
        "ledger_flags",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("org_unit_id", Id, nullable=True),
        sa.Column("measure", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.Column("median", sa.String(length=60), nullable=False),
        sa.Column("z", sa.Double(), nullable=True),
        sa.Column("ratio", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name="fk_ledger_flags_ledger_id_ledgers"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_flags"),
    )
    op.create_index("ix_ledger_flags_unit", "ledger_flags", ["ledger_id", "org_unit_id"])


def downgrade() -> None:
    op.drop_index("ix_ledger_flags_unit", table_name="ledger_flags")
    op.drop_table("ledger_flags")
    op.drop_table("rollup_states")
    op.drop_index("ix_rollup_marks_ledger_id", table_name="rollup_marks")
    op.drop_table("rollup_marks")
    op.drop_index("ix_ledger_unit_months_unit", table_name="ledger_unit_months")
    op.drop_table("ledger_unit_months")
    op.drop_index("ix_ledger_rollups_unit", table_name="ledger_rollups")
    op.drop_table("ledger_rollups")
