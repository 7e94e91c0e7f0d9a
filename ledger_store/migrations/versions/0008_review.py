"""review: policies on tasks and recurrences, review steps with digests, reopened questions, accepted times

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Tasks issued before review existed counted at 提交: they keep that policy.
    with op.batch_alter_table("report_tasks") as batch:
        batch.add_column(sa.Column("review", sa.String(length=20), nullable=False, server_default="none"))
    with op.batch_alter_table("recurrences") as batch:
        batch.add_column(sa.Column("review", sa.String(length=20), nullable=False, server_default="none"))
    with op.batch_alter_table("assignments") as batch:
        batch.add_column(sa.Column("accepted_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE assignments SET accepted_at = submitted_at WHERE status = 'submitted'")
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("reopened", sa.JSON(), nullable=True))
    op.create_table(
        "review_steps",
        sa.Column("id", Id, nullable=False),
        sa.Column("assignment_id", Id, nullable=False),
        sa.Column("submission_id", Id, nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("reviewer_unit_id", Id, nullable=True),
        sa.Column("submitted_by_id", Id, nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("changed", sa.JSON(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decided_by_id", Id, nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reopened", sa.JSON(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignment_id"], ["assignments.id"], name="fk_review_steps_assignment_id_assignments"
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name="fk_review_steps_submission_id_submissions"
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_unit_id"], ["org_units.id"], name="fk_review_steps_reviewer_unit_id_org_units"
        ),
        sa.ForeignKeyConstraint(["submitted_by_id"], ["people.id"], name="fk_review_steps_submitted_by_id_people"),
        sa.ForeignKeyConstraint(["decided_by_id"], ["people.id"], name="fk_review_steps_decided_by_id_people"),
        sa.PrimaryKeyConstraint("id", name="pk_review_steps"),
        sa.UniqueConstraint("assignment_id", "round", "stage", name="uq_review_steps_assignment_id_round_stage"),
    )
    op.create_index("ix_review_steps_assignment_id", "review_steps", ["assignment_id"])
    op.create_index("ix_review_steps_waiting", "review_steps", ["decision", "reviewer_unit_id"])


def downgrade() -> None:
    op.drop_index("ix_review_steps_waiting", table_name="review_steps")
    op.drop_index("ix_review_steps_assignment_id", table_name="review_steps")
    op.drop_table("review_steps")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("reopened")
    with op.batch_alter_table("assignments") as batch:
        batch.drop_column("accepted_at")
    with op.batch_alter_table("recurrences") as batch:
        batch.drop_column("review")
    with op.batch_alter_table("report_tasks") as batch:
        batch.drop_column("review")
