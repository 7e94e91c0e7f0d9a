"""file references: retention deletes a stored file once no outbox or inbound row refers to it, so it looks them up

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:00:00
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f("ix_outbox_file_id"), "outbox", ["file_id"])
    op.create_index(op.f("ix_inbound_messages_file_id"), "inbound_messages", ["file_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbound_messages_file_id"), table_name="inbound_messages")
    op.drop_index(op.f("ix_outbox_file_id"), table_name="outbox")
