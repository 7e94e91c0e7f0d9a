"""ledgers (台账): definitions, records and the history of every value

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 23:33:16.473871
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "ledgers",
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("key_field", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledgers")),
        sa.UniqueConstraint("code", name=op.f("uq_ledgers_code")),
    )
    op.create_table(
        "ledger_records",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("org_unit_id", Id, nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("value_times", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name=op.f("fk_ledger_records_ledger_id_ledgers")),
        sa.ForeignKeyConstraint(
            ["org_unit_id"], ["org_units.id"], name=op.f("fk_ledger_records_org_unit_id_org_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_records")),
        sa.UniqueConstraint("ledger_id", "key", name=op.f("uq_ledger_records_ledger_id_key")),
    )
    op.create_index("ix_ledger_records_unit", "ledger_records", ["ledger_id", "org_unit_id"])
    op.create_table(
        "ledger_changes",
        sa.Column("id", Id, nullable=False),
        sa.Column("record_id", Id, nullable=False),
        sa.Column("field_name", sa.String(length=64), nullable=False),
        sa.Column("old", sa.JSON(), nullable=True),
        sa.Column("new", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", Id, nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["people.id"], name=op.f("fk_ledger_changes_actor_id_people")),
        sa.ForeignKeyConstraint(
            ["record_id"], ["ledger_records.id"], name=op.f("fk_ledger_changes_record_id_ledger_records")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_changes")),
    )
    op.create_index(op.f("ix_ledger_changes_record_id"), "ledger_changes", ["record_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_ledger_changes_record_id"), table_name="ledger_changes")
    op.drop_table("ledger_changes")
    op.drop_index("ix_ledger_records_unit", table_name="ledger_records")
    op.drop_table("ledger_records")
    op.drop_table("ledgers")
