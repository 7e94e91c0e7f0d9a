"""file references: retention deletes a stored file once no outbox or inbound row refers to it, so it looks them up

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_file_id"), "outbox", ["file_id"])
    op.create_index(op.f("ix_inbound_messages_file_id"), "inbound_messages", ["file_id"])


def downgrade() -> None:
    for table, index in (("inbound_messages", "ix_inbound_messages_file_id"), ("outbox", "ix_outbox_file_id")):
        drop_file_index(table, index)


def drop_file_index(table: str, index: str) -> None:
    """Drop the index on `table`.file_id. InnoDB (MariaDB) let its own index for the foreign key go when this one
    came, and refuses to drop the only index a foreign key has: there the key is dropped first and made again,
    which gives it an index of its own."""
    bind = op.get_bind()
    if bind.dialect.name not in ("mysql", "mariadb"):
        op.drop_index(op.f(index), table_name=table)
        return
    [key] = [fk for fk in sa.inspect(bind).get_foreign_keys(table) if fk["constrained_columns"] == ["file_id"]]
    op.drop_constraint(key["name"], table, type_="foreignkey")
    op.drop_index(op.f(index), table_name=table)
    op.create_foreign_key(key["name"], table, key["referred_table"], ["file_id"], key["referred_columns"])
