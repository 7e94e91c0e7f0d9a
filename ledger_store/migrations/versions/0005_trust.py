"""trust: ledger owners and grants, records that left their unit, org unit kinds, pending confirmations in chat

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("org_units") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=10), nullable=True))
    with op.batch_alter_table("chat_focus") as batch:
        batch.add_column(sa.Column("pending", sa.JSON(), nullable=True))
    with op.batch_alter_table("ledgers") as batch:
        batch.add_column(sa.Column("owner_department_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_ledgers_owner_department_id_departments"), "departments", ["owner_department_id"], ["id"]
        )
    with op.batch_alter_table("ledger_records") as batch:
        batch.add_column(sa.Column("left_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("left_reason", sa.String(length=200), nullable=True))
    op.create_table(
        "ledger_grants",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("department_id", Id, nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("granted_by_id", Id, nullable=True),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_ledger_grants_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["granted_by_id"], ["people.id"], name=op.f("fk_ledger_grants_granted_by_id_people")),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledgers.id"], name=op.f("fk_ledger_grants_ledger_id_ledgers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_grants")),
        sa.UniqueConstraint("ledger_id", "department_id", name=op.f("uq_ledger_grants_ledger_id_department_id")),
    )


def downgrade() -> None:
    op.drop_table("ledger_grants")
    with op.batch_alter_table("ledger_records") as batch:
        batch.drop_column("left_reason")
        batch.drop_column("left_at")
    with op.batch_alter_table("ledgers") as batch:
        batch.drop_constraint(op.f("fk_ledgers_owner_department_id_departments"), type_="foreignkey")
        batch.drop_column("owner_department_id")
    with op.batch_alter_table("chat_focus") as batch:
        batch.drop_column("pending")
    with op.batch_alter_table("org_units") as batch:
        batch.drop_column("kind")
