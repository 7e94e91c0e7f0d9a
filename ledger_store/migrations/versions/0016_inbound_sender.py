"""inbound sender: workers claim a person's oldest waiting message, so they look up who sent each one; and how long
a worker downloading a message's file keeps it to itself

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

inbound = sa.table(
    "inbound_messages",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("sender", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("sender", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("fetch_until", sa.DateTime(), nullable=True))
    op.create_table(
        "inbound_senders",
        sa.Column("platform", sa.String(20), nullable=False),
        sa.Column("sender", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("platform", "sender"),
    )
    op.create_index("ix_inbound_messages_waiting", "inbound_messages", ["status", "platform", "sender", "id"])
    # Messages waiting at the upgrade get their sender from the stored payload; handled ones need none.
    connection = op.get_bind()
    waiting = connection.execute(sa.select(inbound.c.id, inbound.c.payload).where(inbound.c.status == "pending"))
    for row_id, payload in list(waiting):
        sender = str((payload or {}).get("user_id") or "")[:200]
        connection.execute(sa.update(inbound).where(inbound.c.id == row_id).values(sender=sender))


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_waiting", table_name="inbound_messages")
    op.drop_table("inbound_senders")
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("fetch_until")
        batch.drop_column("sender")
