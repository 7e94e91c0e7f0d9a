"""form owners: a form brought in by a department in chat belongs to that department

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("forms") as batch:
        batch.add_column(sa.Column("owner_department_id", Id, nullable=True))
        batch.create_foreign_key(
            op.f("fk_forms_owner_department_id_departments"), "departments", ["owner_department_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("forms") as batch:
        batch.drop_constraint(op.f("fk_forms_owner_department_id_departments"), type_="foreignkey")
        batch.drop_column("owner_department_id")
