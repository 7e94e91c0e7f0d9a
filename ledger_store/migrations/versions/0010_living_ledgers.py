"""living ledgers: boards and entity kinds, definition versions, chat upkeep sessions, data-sinking runs,
answers taken from a ledger

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 14:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("ledgers") as batch:
        batch.add_column(sa.Column("board", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("entity_kind", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("description", sa.Text(), nullable=True))
    op.create_table(
        "ledger_versions",
        sa.Column("id", Id, nullable=False),
        sa.Column("ledger_id", Id, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_id", Id, nullable=True),
        sa.Column("losses", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["ledger_id"], ["ledgers.id"], name="fk_ledger_versions_ledger_id_ledgers"),
        sa.ForeignKeyConstraint(["created_by_id"], ["people.id"], name="fk_ledger_versions_created_by_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_versions"),
        sa.UniqueConstraint("ledger_id", "version", name="uq_ledger_versions_ledger_id_version"),
    )
    op.create_table(
        "ledger_sessions",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name="fk_ledger_sessions_person_id_people", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name="pk_ledger_sessions"),
    )
    op.create_table(
        "source_runs",
        sa.Column("id", Id, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("input_name", sa.String(length=300), nullable=True),
        sa.Column("input_digest", sa.String(length=64), nullable=True),
        sa.Column("added", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("changed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("refused", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("error_file_id", Id, nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["error_file_id"], ["stored_files.id"], name="fk_source_runs_error_file_id_stored_files"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_source_runs"),
    )
    op.create_index("ix_source_runs_source", "source_runs", ["source", "started_at"])
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("ledger_code", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("as_of", sa.DateTime(), nullable=True))
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("generated", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("generated")
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("as_of")
        batch.drop_column("ledger_code")
    op.drop_index("ix_source_runs_source", table_name="source_runs")
    op.drop_table("source_runs")
    op.drop_table("ledger_sessions")
    op.drop_table("ledger_versions")
    with op.batch_alter_table("ledgers") as batch:
        batch.drop_column("description")
        batch.drop_column("entity_kind")
        batch.drop_column("board")
