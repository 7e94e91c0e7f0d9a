"""Which assignments still take answers: a filler's open ones, how many each person has, and closed tasks."""

from __future__ import annotations

import collections

from sqlalchemy import ColumnElement, func, or_, select

from handlers.core.context import Context
from ledger_store.models import (
    FILLER_OWES,
    Assignment,
    AssignmentStatus,
    Person,
    ReportTask,
)


def open_assignments(ctx: Context, person: Person) -> list[Assignment]:
    """Assignments the person fills that are not submitted yet and still take answers, soonest deadline first."""
    query = (
        select(Assignment)
        .join(ReportTask, ReportTask.id == Assignment.task_id)
        .where(Assignment.filler_id == person.id, *_still_open(ctx))
        .order_by(ReportTask.deadline, Assignment.id)
    )
    return list(ctx.session.scalars(query))


def open_counts(ctx: Context, person_ids: set[int]) -> collections.Counter[int]:
    """Person id -> how many assignments they have open (as open_assignments counts them), in one query a chunk."""
    counts: collections.Counter[int] = collections.Counter()
    ids = sorted(person_ids)
    for start in range(0, len(ids), 1000):
        query = (
            select(Assignment.filler_id, func.count())
            .join(ReportTask, ReportTask.id == Assignment.task_id)
            .where(Assignment.filler_id.in_(ids[start : start + 1000]), *_still_open(ctx))
            .group_by(Assignment.filler_id)
        )
        counts.update(dict(ctx.session.execute(query).all()))
    return counts


def _still_open(ctx: Context) -> tuple[ColumnElement[bool], ...]:
    """SQL for "the filler owes this assignment (joined to its task) an answer and its task still takes answers"
    (not submitted, or returned by a reviewer; one waiting on a reviewer is not the filler's to touch)."""
    returned = Assignment.status == AssignmentStatus.RETURNED  # a reviewer asked for it: it is taken even late
    still_taking = or_(ReportTask.accepts_late, ReportTask.deadline > ctx.now(), returned)
    return Assignment.status.in_(FILLER_OWES), still_taking


def is_closed(ctx: Context, assignment: Assignment) -> bool:
    """Has the task stopped taking this unit's answers (its deadline passed and it takes no late ones)? A
    submission a reviewer returned is taken back whenever: the reviewer asked for it."""
    task = assignment.task
    late = not task.accepts_late and task.deadline <= ctx.now()
    return late and assignment.status != AssignmentStatus.RETURNED
