"""warnings: a department's 预警 rules on a ledger and the records each rule has found (once per record)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "warning_rules",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("department_id", Id, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("created_by_id", Id, nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("checked_at", sa.DateTime(), nullable=True),
        sa.Column("broken_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name="fk_warning_rules_ledger_id_ledgers"),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name="fk_warning_rules_department_id_departments"
        ),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name="fk_warning_rules_created_by_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_warning_rules"),
    )
    op.create_index("ix_warning_rules_department_id", "warning_rules", ["department_id"])
    op.create_table(
        "warning_hits",
        sa.Column("id", Id, nullable=False),
        sa.Column("rule_id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["rule_id"], ["warning_rules.id"], name="fk_warning_hits_rule_id_warning_rules"),
        sa.ForeignKeyConstraint(["record_id"], ["ledger_records.id"], name="fk_warning_hits_record_id_ledger_records"),
        sa.PrimaryKeyConstraint("id", name="pk_warning_hits"),
        sa.UniqueConstraint("rule_id", "record_id", name="uq_warning_hits_rule_id_record_id"),
    )
    op.create_index("ix_warning_hits_found_at", "warning_hits", ["found_at"])


def downgrade() -> None:
    op.drop_index("ix_warning_hits_found_at", table_name="warning_hits")
    op.drop_table("warning_hits")
    op.drop_index("ix_warning_rules_department_id", table_name="warning_rules")
    op.drop_table("warning_rules")
