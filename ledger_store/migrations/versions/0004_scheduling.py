"""scheduling: recurring reports, late answers and reminder policy on tasks, the scheduler lease, outbox.sent_at index

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "recurrences",
        sa.Column("id", Id, nullable=False),
        sa.Column("form_id", Id, nullable=False),
        sa.Column("department_id", Id, nullable=False),
        sa.Column("issued_by_id", Id, nullable=False),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("issue_time", sa.String(length=5), nullable=False),
        sa.Column("deadline_rule", sa.JSON(), nullable=False),
        sa.Column("deadline_time", sa.String(length=5), nullable=False),
        sa.Column("unit_ids", sa.JSON(), nullable=True),
        sa.Column("accepts_late", sa.Boolean(), nullable=False),
        sa.Column("remind_hours", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("next_issue_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"], ["departments.id"], name=op.f("fk_recurrences_department_id_departments")
        ),
        sa.ForeignKeyConstraint(["form_id"], ["forms.id"], name=op.f("fk_recurrences_form_id_forms")),
        sa.ForeignKeyConstraint(["issued_by_id"], ["people.id"], name=op.f("fk_recurrences_issued_by_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recurrences")),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.create_index(op.f("ix_outbox_sent_at"), "outbox", ["sent_at"])
    with op.batch_alter_table("report_tasks") as batch:
        batch.add_column(sa.Column("accepts_late", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("closed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("remind_hours", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("recurrence_id", Id, nullable=True))
        batch.add_column(sa.Column("period", sa.String(length=20), nullable=True))
        batch.create_foreign_key(
            op.f("fk_report_tasks_recurrence_id_recurrences"), "recurrences", ["recurrence_id"], ["id"]
        )
        batch.create_unique_constraint(op.f("uq_report_tasks_recurrence_id_period"), ["recurrence_id", "period"])


def downgrade() -> None:
    with op.batch_alter_table("report_tasks") as batch:
        batch.drop_constraint(op.f("uq_report_tasks_recurrence_id_period"), type_="unique")
        batch.drop_constraint(op.f("fk_report_tasks_recurrence_id_recurrences"), type_="foreignkey")
        for name in ("period", "recurrence_id", "remind_hours", "closed_at", "accepts_late"):
            batch.drop_column(name)
    op.drop_index(op.f("ix_outbox_sent_at"), table_name="outbox")
    op.drop_table("scheduler_leases")
    op.drop_table("recurrences")
