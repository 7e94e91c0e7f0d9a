"""Reminders to reviewers: a submission that has waited on its reviewer longer than `[review] remind_after_hours`
reminds the people who may decide it, once, never during quiet hours (one due then goes out at their end).

Each person gets one message listing every overdue submission of theirs not reminded before, not one message per
submission. A step's `reminded_at` is the record that its people were told; the outbox key (person and the first
step listed) keeps a message from being queued twice. The scheduler lists the holders with overdue steps (a town
whose reviewers decide them, or a department deciding its own) and handles each in a transaction of its own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, select

from handlers.core.context import Context
from handlers.review.flow import told, waiting_ids
from handlers.tasks.reminders import QuietHours
from handlers.tasks.review_waits import minutes_waited
from handlers.texts import review as t
from handlers.texts.reporting import task_name
from ledger_store.models import Assignment, Person, ReportTask, ReviewStep
from ledger_store.org import unit_path
from ledger_store.outbox import enqueue

DEFAULT_AFTER = timedelta(hours=24)


class Holder(NamedTuple):
    """Whose decision overdue steps wait on: the reviewers of a unit, or (unit None) a department's issuers."""

    unit_id: int | None
    department_id: int | None


def holders_to_remind(ctx: Context, after: timedelta, quiet: QuietHours) -> list[Holder]:
    """The holders of steps that have waited longer than `after` and were not reminded yet (none in quiet hours)."""
    if quiet.contains(ctx.local_now()):
        return []
    query = (
        select(ReviewStep.reviewer_unit_id, ReportTask.department_id)
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .join(ReportTask, ReportTask.id == Assignment.task_id)
        .where(*overdue(ctx, after))
        .distinct()
    )
    found = {
        Holder(unit_id, None) if unit_id is not None else Holder(None, department_id)
        for unit_id, department_id in ctx.session.execute(query).tuples()
    }
    return sorted(found, key=lambda holder: (holder.unit_id or 0, holder.department_id or 0))


def remind_holder(ctx: Context, holder: Holder, after: timedelta) -> int:
    """One message to each person who may decide the holder's overdue steps, listing them; returns how many."""
    mine = (
        ReviewStep.reviewer_unit_id == holder.unit_id
        if holder.unit_id is not None
        else and_(ReviewStep.reviewer_unit_id.is_(None), ReportTask.department_id == holder.department_id)
    )
    query = (
        select(ReviewStep)
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .join(ReportTask, ReportTask.id == Assignment.task_id)
        .where(mine, *overdue(ctx, after))
        .order_by(ReviewStep.submitted_at, ReviewStep.id)
    )
    steps = list(ctx.session.scalars(query))
    by_person: dict[int, list[ReviewStep]] = defaultdict(list)
    people: dict[int, Person] = {}
    for step in steps:
        for person in told(ctx, step):
            by_person[person.id].append(step)
            people[person.id] = person
    queued = 0
    for person_id, overdue_steps in by_person.items():
        others = len(waiting_ids(ctx, people[person_id])) - len(overdue_steps)
        text = reminder_text(ctx, overdue_steps, after, others)
        key = f"review-remind:{person_id}:{overdue_steps[0].id}"
        if enqueue(ctx.session, person_id=person_id, dedupe_key=key, now=ctx.now(), text=text):
            queued += 1
    for step in steps:
        step.reminded_at = ctx.now()
    return queued


def overdue(ctx: Context, after: timedelta) -> tuple[ColumnElement[bool], ...]:
    """SQL for "undecided, not reminded yet, and waiting since `after` ago or longer"."""
    return (
        ReviewStep.decision.is_(None),
        ReviewStep.reminded_at.is_(None),
        ReviewStep.submitted_at <= ctx.now() - after,
    )


def reminder_text(ctx: Context, steps: list[ReviewStep], after: timedelta, others: int) -> str:
    """The reminder to one person: each overdue submission (unit, filler, task, how long it waited), oldest first."""
    lines = []
    for step in steps:
        assignment = step.assignment
        task = assignment.task
        lines.append(
            t.overdue_line(
                unit_path(assignment.org_unit),
                step.submitted_by.name,
                task_name(task.title, task.id),
                step.stage > 0,
                t.waited(minutes_waited(ctx, step)),
            )
        )
    return t.review_reminder(int(after.total_seconds() // 3600), lines, max(others, 0))
