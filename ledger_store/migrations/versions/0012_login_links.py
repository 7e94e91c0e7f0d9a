"""login links: one-time links into the department dashboard (only the token's hash is stored)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 02:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "login_links",
        sa.Column("id", Id, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name="fk_login_links_person_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_login_links"),
        sa.UniqueConstraint("token_hash", name="uq_login_links_token_hash"),
    )


def downgrade() -> None:
    op.drop_table("login_links")
