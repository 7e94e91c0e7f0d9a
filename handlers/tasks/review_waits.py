"""Submissions waiting on a reviewer, as the task layer sees them: a task's undecided review steps, oldest first,
how long each has waited, and who holds them up (for the deadline's digest). Decisions live in handlers/review/."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from handlers.core.context import Context
from ledger_store.models import Assignment, OrgUnit, Person, PersonRole, ReportTask, ReviewStep, Role
from ledger_store.org import issuers_of_department


@dataclass(frozen=True)
class Holdup:
    """Who holds submissions of a task: a unit's reviewers, or the task's department; and how many."""

    holder: str
    people: list[str]
    count: int


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


def holdups(ctx: Context, task: ReportTask) -> list[Holdup]:
    """Who holds the task's waiting submissions, most submissions first: 朱沱镇 (its reviewers) 2, 区民政局 1."""
    query = (
        select(ReviewStep.reviewer_unit_id, func.count())  # no unit: the department
        .join(Assignment, Assignment.id == ReviewStep.assignment_id)
        .where(Assignment.task_id == task.id, ReviewStep.decision.is_(None))
        .group_by(ReviewStep.reviewer_unit_id)
    )
    counts = dict(ctx.session.execute(query).tuples().all())
    names = reviewer_names(ctx, [unit_id for unit_id in counts if unit_id is not None])
    found = []
    for unit_id, count in counts.items():
        if unit_id is None:
            people = [person.name for person in issuers_of_department(ctx.session, task.department_id)]
            found.append(Holdup(task.department.name, people, count))
        else:
            found.append(Holdup(ctx.session.get(OrgUnit, unit_id).name, names.get(unit_id, []), count))
    return sorted(found, key=lambda holdup: -holdup.count)


def reviewer_names(ctx: Context, unit_ids: list[int]) -> dict[int, list[str]]:
    """Unit id -> the names of the active reviewers placed in it (one query)."""
    if not unit_ids:
        return {}
    query = (
        select(Person.org_unit_id, Person.name)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(PersonRole.role == Role.REVIEWER, Person.active.is_(True), Person.org_unit_id.in_(unit_ids))
        .order_by(Person.id)
    )
    found: dict[int, list[str]] = defaultdict(list)
    for unit_id, name in ctx.session.execute(query).tuples():
        found[unit_id].append(name)
    return found
