"""Recurring reports: each period issued as its own task, with its own assignments, reminders and summary.

A period is issued once: the task carries (recurrence, period) under a unique constraint, and the recurrence's
next issue moment moves on in the same transaction (one per recurrence, so one that fails does not stop the
others; it is tried again at the next tick). A scheduler that was down issues only the latest missed period
whose deadline is still ahead; older ones are stale and skipped.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from handlers.core.context import Context
from handlers.forms.registry import fields_of, latest_version
from handlers.tasks.issue_rights import issue_refusal
from handlers.tasks.issuing import Terms, issue_task
from handlers.tasks.recurrence_rules import Schedule, deadline_of, issues_on, next_issue, period_of
from handlers.tasks.submissions import answer_value
from handlers.texts import issuing as t
from ledger_store import audit
from ledger_store.models import (
    Assignment,
    AssignmentStatus,
    Department,
    Form,
    OrgUnit,
    Person,
    Recurrence,
    RecurrenceStatus,
    ReportTask,
    Submission,
)
from ledger_store.org import default_targets, fillers_by_unit, issuers_of_department
from ledger_store.outbox import Push, enqueue_many

log = logging.getLogger(__name__)


def schedule_of(recurrence: Recurrence) -> Schedule:
    """The recurrence's rules as a Schedule."""
    return Schedule(
        recurrence.rule,
        datetime.strptime(recurrence.issue_time, "%H:%M").time(),
        recurrence.deadline_rule,
        datetime.strptime(recurrence.deadline_time, "%H:%M").time(),
    )


def create(
    ctx: Context,
    issuer: Person,
    department_id: int,
    form: Form,
    schedule: Schedule,
    units: list[OrgUnit] | None,
    terms: Terms,
) -> Recurrence:
    """Set up a department's recurring report; its first period is issued at the next issue moment."""
    first = _next_issue(ctx, schedule, ctx.local_now())
    recurrence = Recurrence(
        form_id=form.id,
        department_id=department_id,
        issued_by_id=issuer.id,
        rule=schedule.rule,
        issue_time=schedule.issue_time.strftime("%H:%M"),
        deadline_rule=schedule.deadline_rule,
        deadline_time=schedule.deadline_time.strftime("%H:%M"),
        unit_ids=None if units is None else [unit.id for unit in units],
        accepts_late=terms.accepts_late,
        remind_hours=terms.remind_hours,
        review=terms.review,
        status=RecurrenceStatus.ACTIVE,
        next_issue_at=ctx.to_stored(first),
        created_at=ctx.now(),
    )
    ctx.session.add(recurrence)
    ctx.session.flush()
    audit.record(ctx.session, at=ctx.now(), actor_id=issuer.id, action="recurrence_create", entity="recurrence",
                 entity_id=recurrence.id, new={"form": form.code, "rule": schedule.rule,
                                               "deadline_rule": schedule.deadline_rule})  # fmt: skip
    return recurrence


def same_as(
    ctx: Context, department_id: int, form: Form, schedule: Schedule, units: list[OrgUnit] | None
) -> Recurrence | None:
    """An active or paused recurrence of the department that is this one again: form, rules and units alike."""
    wanted_units = None if units is None else sorted(unit.id for unit in units)
    query = select(Recurrence).where(
        Recurrence.department_id == department_id,
        Recurrence.form_id == form.id,
        Recurrence.status != RecurrenceStatus.STOPPED,
    )
    for existing in ctx.session.scalars(query.order_by(Recurrence.id)):
        existing_units = None if existing.unit_ids is None else sorted(existing.unit_ids)
        if schedule_of(existing) == schedule and existing_units == wanted_units:
            return existing
    return None


def first_inverted_period(ctx: Context, schedule: Schedule, periods: int = 12) -> tuple[datetime, datetime] | None:
    """(issue, deadline), local, of the first of the next periods that would be due at or before it is issued."""
    moment = ctx.local_now()
    for _ in range(periods):
        moment = _next_issue(ctx, schedule, moment)
        deadline = deadline_of(schedule, moment.date(), ctx.tz, ctx.calendar)
        if deadline <= moment:
            return moment, deadline
    return None


def active(ctx: Context) -> list[int]:
    """Ids of the active recurrences, each handled by `issue_due_period` in a transaction of its own."""
    query = select(Recurrence.id).where(Recurrence.status == RecurrenceStatus.ACTIVE).order_by(Recurrence.id)
    return list(ctx.session.scalars(query))


def issue_due_period(ctx: Context, recurrence_id: int) -> ReportTask | None:
    """Issue the recurrence's period if its issue moment has come; the new task, or None."""
    recurrence = ctx.session.get(Recurrence, recurrence_id)
    if recurrence is None or recurrence.status != RecurrenceStatus.ACTIVE:
        return None
    schedule, latest = schedule_of(recurrence), None
    upcoming = ctx.to_local(recurrence.next_issue_at)
    if not issues_on(schedule.rule, upcoming.date(), ctx.calendar):  # the holidays were set after it was planned
        recurrence.next_issue_at = ctx.to_stored(_next_issue(ctx, schedule, upcoming))
    if recurrence.next_issue_at > ctx.now():
        return None
    while recurrence.next_issue_at <= ctx.now():
        latest = ctx.to_local(recurrence.next_issue_at)
        recurrence.next_issue_at = ctx.to_stored(_next_issue(ctx, schedule, latest))
    deadline = ctx.to_stored(deadline_of(schedule, latest.date(), ctx.tz, ctx.calendar))
    period = period_of(schedule.rule, latest.date())
    if deadline <= ctx.now() or _period_exists(ctx, recurrence, period):
        return None
    return _issue_period(ctx, recurrence, deadline, period)


def previous_answers(ctx: Context, assignment: Assignment) -> dict[str, object]:
    """The same unit's typed answers in the previous period of a recurring task ({} when none)."""
    task = assignment.task
    if task.recurrence_id is None:
        return {}
    previous = ctx.session.scalar(
        select(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(ReportTask, ReportTask.id == Assignment.task_id)
        .where(
            ReportTask.recurrence_id == task.recurrence_id,
            ReportTask.id != task.id,
            ReportTask.issued_at < task.issued_at,
            Assignment.org_unit_id == assignment.org_unit_id,
            Assignment.status == AssignmentStatus.SUBMITTED,  # approved figures only
        )
        .order_by(ReportTask.issued_at.desc())
        .limit(1)
    )
    if previous is None:
        return {}
    fields = {field.name: field for field in fields_of(task.form_version)}
    return {
        row.field_name: answer_value(fields[row.field_name], row)
        for row in previous.answers
        if row.field_name in fields
    }


def department_recurrences(ctx: Context, person: Person, admin: bool) -> list[Recurrence]:
    """The recurrences the person may see (their department's; every one for an admin), newest first."""
    query = select(Recurrence).where(Recurrence.status != RecurrenceStatus.STOPPED).order_by(Recurrence.id.desc())
    if not admin:
        query = query.where(Recurrence.department_id == person.department_id)
    return list(ctx.session.scalars(query))


def lock(ctx: Context, recurrence: Recurrence) -> None:
    """Hold the recurrence's row until the transaction ends and read it afresh: a pause and a stop at once take
    turns, and the second sees what the first did."""
    ctx.session.execute(select(Recurrence.id).where(Recurrence.id == recurrence.id).with_for_update())
    ctx.session.refresh(recurrence)


def set_status(ctx: Context, person: Person, recurrence: Recurrence, status: RecurrenceStatus) -> None:
    """Pause, resume or stop a recurrence; resuming starts again from the next issue moment after now."""
    old = recurrence.status
    recurrence.status = status
    if status == RecurrenceStatus.ACTIVE and old == RecurrenceStatus.PAUSED:
        schedule = schedule_of(recurrence)
        recurrence.next_issue_at = ctx.to_stored(_next_issue(ctx, schedule, ctx.local_now()))
    audit.record(ctx.session, at=ctx.now(), actor_id=person.id, action="recurrence_status", entity="recurrence",
                 entity_id=recurrence.id, old={"status": old}, new={"status": status.value})  # fmt: skip


def _period_exists(ctx: Context, recurrence: Recurrence, period: str) -> bool:
    """Was this period issued already (by this or another scheduler)?"""
    found = select(ReportTask.id).where(ReportTask.recurrence_id == recurrence.id, ReportTask.period == period)
    return ctx.session.scalar(found) is not None


def _issue_period(ctx: Context, recurrence: Recurrence, deadline: datetime, period: str) -> ReportTask | None:
    """One period's task, to the recurrence's units that still have a filler; None when none has."""
    if recurrence.unit_ids is None:
        units = default_targets(ctx.session, recurrence.department_id)  # those with a filler
    else:
        fillers = fillers_by_unit(ctx.session)
        named = ctx.session.scalars(select(OrgUnit).where(OrgUnit.id.in_(recurrence.unit_ids)))
        units = [unit for unit in named if unit.id in fillers]
    issuer = ctx.session.get(Person, recurrence.issued_by_id)
    version = latest_version(ctx.session, recurrence.form)
    if not units or issuer is None or version is None:
        return None
    department = ctx.session.get(Department, recurrence.department_id)
    refusal = issue_refusal(ctx.session, department, version.form.title, fields_of(version))
    if refusal is not None:  # the ledger's share was taken away since: the period is skipped, and they are told
        text = t.period_not_issued(version.form.title, period, refusal)
        issuers = issuers_of_department(ctx.session, recurrence.department_id)
        pushes = [Push(person.id, f"period-refused:{recurrence.id}:{period}:{person.id}", text) for person in issuers]
        enqueue_many(ctx.session, pushes, ctx.now())
        log.warning("recurrence %s: period %s not issued, its form reaches ledgers beyond the department",
                    recurrence.id, period)  # fmt: skip
        return None
    terms = Terms(recurrence.accepts_late, recurrence.remind_hours, recurrence.id, period, recurrence.review)
    return issue_task(ctx, issuer, version, deadline, units, terms, department_id=recurrence.department_id)


def _next_issue(ctx: Context, schedule: Schedule, after: datetime) -> datetime:
    """The schedule's first issue moment after `after`, on the configured working days."""
    return next_issue(schedule.rule, schedule.issue_time, after, ctx.calendar)
