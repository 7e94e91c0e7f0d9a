"""Submissions waiting on a reviewer, as the task layer sees them: a task's undecided review steps, oldest first,
and how long each has waited. Decisions live in handlers/review/."""

from __future__ import annotations

from sqlalchemy import select

from handlers.core.context import Context
from ledger_store.models import Assignment, ReportTask, ReviewStep


def waiting_steps(ctx: Context, task: ReportTask, limit: int | None = None) -> list[ReviewStep]:
    """The task's review steps nobody has decided yet (one per unit waiting), the longest waiting first."""
    query = (
        select(ReviewStep)
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .where(Assignment.task_id == task.id, ReviewStep.decision.is_(None))
        .order_by(ReviewStep.submitted_at, ReviewStep.id)
        .limit(limit)
    )
    return list(ctx.session.scalars(query))


def minutes_waited(ctx: Context, step: ReviewStep) -> int:
    """Whole minutes since the step began waiting on its reviewer."""
    return int((ctx.now() - step.submitted_at).total_seconds() // 60)
