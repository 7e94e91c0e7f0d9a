"""Issuing a task: one assignment per unit, the push to each filler, and the terms it is issued with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert

from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline
from handlers.tasks.assignments import open_counts
from handlers.tasks.progress import question_total
from handlers.texts import reporting as t
from ledger_store import audit
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    FormVersion,
    OrgUnit,
    Person,
    ReportTask,
    ReviewPolicy,
)
from ledger_store.org import fillers_by_unit
from ledger_store.outbox import Push, enqueue_many


@dataclass(frozen=True)
class Terms:
    """How a task treats time: late answers, the hours before the deadline to remind at, its recurring period."""

    accepts_late: bool = True
    remind_hours: list[int] | None = None
    recurrence_id: int | None = None
    period: str | None = None
    # Who checks the submissions (handlers.review.policy); /发布 asks the town's review unless told 不审核.
    review: str = ReviewPolicy.NONE


def issue_task(
    ctx: Context,
    issuer: Person,
    version: FormVersion,
    deadline: datetime,
    units: list[OrgUnit],
    terms: Terms = Terms(),
    department_id: int | None = None,
    *,
    notify: bool = True,
) -> ReportTask:
    """Create a task with one assignment per unit and queue the push to each unit's filler.

    The task belongs to `department_id` (an admin issues for a department), by default to the issuer's own.
    `notify=False` tells no filler: a task the ledgers answer whole (取数) asks nobody anything.
    """
    department_id = department_id or issuer.department_id
    if department_id is None:
        raise ValueError("a task belongs to a department")
    if not units:
        raise ValueError("a task goes to at least one unit")
    fillers = fillers_by_unit(ctx.session)
    task = ReportTask(
        title=version.form.title,
        form_version=version,
        department_id=department_id,
        issued_by_id=issuer.id,
        issued_at=ctx.now(),
        deadline=deadline,
        accepts_late=terms.accepts_late,
        remind_hours=terms.remind_hours,
        recurrence_id=terms.recurrence_id,
        period=terms.period,
        review=terms.review,
    )
    ctx.session.add(task)
    ctx.session.flush()
    # a person fills for one unit only; counted before this task's assignments exist
    others = open_counts(ctx, {fillers[unit.id] for unit in units}) if notify else {}
    rows = [
        {"task_id": task.id, "org_unit_id": unit.id, "filler_id": fillers[unit.id], "status": AssignmentStatus.PENDING}
        for unit in units
    ]
    # One multi-row INSERT (not 10,000 ORM objects): a district task may go to every village and grid.
    ids = ctx.session.scalars(insert(Assignment).returning(Assignment.id, sort_by_parameter_order=True), rows).all()
    ctx.session.expire(task, ["assignments"])
    if notify:
        total = question_total(version)
        pushes, shown_deadline, name = [], format_deadline(ctx, deadline), t.task_name(task.title, task.id)
        for assignment_id, row in zip(ids, rows, strict=True):
            filler_id = row["filler_id"]
            text = t.task_assigned(task.department.name, name, shown_deadline, total, others[filler_id])
            pushes.append(Push(filler_id, f"assigned:{assignment_id}", text))
        enqueue_many(ctx.session, pushes, ctx.now())
    audit.record(
        ctx.session,
        at=ctx.now(),
        actor_id=issuer.id,
        action="issue",
        entity="report_task",
        entity_id=task.id,
        new={
            "title": task.title,
            "department": task.department.name,
            "form_version": version.id,
            "deadline": deadline.isoformat(),
            "units": [unit.name for unit in units],
            "review": terms.review,
        },
    )
    return task
