"""Deadlines: when one passes, the summary goes to the department with the units that did not report."""

from __future__ import annotations

from sqlalchemy import select

from handlers.context import Context
from handlers.reporting import progress, push_summary
from ledger_store import audit
from ledger_store.models import ReportTask
from ledger_store.org import issuers_of_department


def close_due(ctx: Context) -> list[ReportTask]:
    """Handle every deadline that has passed and not been handled; returns those tasks.

    A task that takes late answers stays open (reminders go on daily); one that does not stops taking them.
    Either way the summary is built now, unless everyone had already reported and it went out then.
    """
    due = list(
        ctx.session.scalars(
            select(ReportTask)
            .where(ReportTask.closed_at.is_(None), ReportTask.deadline <= ctx.now())
            .order_by(ReportTask.deadline, ReportTask.id)
        )
    )
    for task in due:
        task.closed_at = ctx.now()
        missing = progress(task).missing
        if missing:
            push_summary(ctx, task, issuers_of_department(ctx.session, task.department_id), "deadline")
            task.summary_sent_at = ctx.now()
        audit.record(ctx.session, at=ctx.now(), actor_id=None, action="deadline", entity="report_task",
                     entity_id=task.id, new={"missing": [a.org_unit.name for a in missing],
                                             "accepts_late": task.accepts_late})  # fmt: skip
    return due
