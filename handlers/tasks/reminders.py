"""Reminders to those who have not reported: on /催报, before the deadline, at it, each working day after, once upward.

Every reminder of a task has a kind and a moment (24 h before, 2 h before, the deadline, 09:00 on each day
after it), moved out of quiet hours to their end. On each pass the latest moment already reached is the one
sent: an earlier one never sent is stale by then and dropped, so a scheduler that was down for an hour sends
one reminder, not three. The outbox row is the record of a reminder, keyed by (task, person, kind): the key
can exist once, so neither a restart nor a second scheduler sends the same reminder twice.

The scheduler lists the tasks that may owe a reminder and handles each in a transaction of its own, so one task
that fails does not keep the reminders of the others from going out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import or_, select

from handlers.core.context import Context
from handlers.core.deadline_text import format_deadline, time_left
from handlers.tasks.progress import progress, question_total, reached_questions
from handlers.texts import reminders as t
from handlers.texts import reporting as reporting_texts
from handlers.texts.reporting import task_name
from ledger_store.models import FILLER_OWES, Assignment, OrgUnit, ReportTask, Role
from ledger_store.org import people_with_role
from ledger_store.outbox import Push, enqueue, enqueue_many, taken_keys

DEFAULT_HOURS_BEFORE = (24, 2)
OVERDUE_DAYS = 30  # reminders after the deadline (on working days) stop after this many days


@dataclass(frozen=True)
class QuietHours:
    """No reminder goes out from `start` to `end` (local); one due then waits for `end`."""

    start: time = time(22, 0)
    end: time = time(8, 0)

    def contains(self, moment: datetime) -> bool:
        """Is this local moment inside the quiet hours?"""
        at = moment.timetz().replace(tzinfo=None)
        if self.start <= self.end:
            return self.start <= at < self.end
        return at >= self.start or at < self.end

    def shift(self, moment: datetime) -> datetime:
        """The local moment, or the end of the quiet hours it falls in."""
        if not self.contains(moment):
            return moment
        end = moment.replace(hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0)
        return end if end > moment else end + timedelta(days=1)


@dataclass(frozen=True)
class Policy:
    """When reminders go out: the quiet hours and the time of day of the reminders after a deadline."""

    quiet: QuietHours = QuietHours()
    overdue_at: time = time(9, 0)


def filler_moments(ctx: Context, task: ReportTask, policy: Policy) -> list[tuple[str, datetime]]:
    """(kind, stored moment) of every reminder a filler of `task` may get, in time order."""
    local_deadline = ctx.to_local(task.deadline)
    moments = []
    for hours in task.remind_hours if task.remind_hours is not None else DEFAULT_HOURS_BEFORE:
        at = local_deadline - timedelta(hours=hours)
        if ctx.to_stored(at) > task.issued_at:
            moments.append((f"before-{hours}h", at))
    moments.append(("due", local_deadline))
    if task.accepts_late:
        for day in range(1, OVERDUE_DAYS + 1):
            at = (local_deadline + timedelta(days=day)).replace(
                hour=policy.overdue_at.hour, minute=policy.overdue_at.minute, second=0, microsecond=0
            )
            if ctx.calendar.is_workday(policy.quiet.shift(at).date()):  # late reminders wait for a working day
                moments.append((f"overdue-{at:%Y%m%d}", at))
    shifted = [(kind, ctx.to_stored(policy.quiet.shift(at))) for kind, at in moments]
    return sorted(shifted, key=lambda item: item[1])


class Reviewers:
    """Org unit id -> one active reviewer placed in it: looked up once a pass, and only when someone is to be told."""

    def __init__(self) -> None:
        self._by_unit: dict[int, int] | None = None

    def by_unit(self, ctx: Context) -> dict[int, int]:
        """The mapping, read at the first call of the pass."""
        if self._by_unit is None:
            self._by_unit = _reviewers_by_unit(ctx)
        return self._by_unit


def tasks_to_remind(ctx: Context, policy: Policy) -> list[int]:
    """Ids of the tasks that may owe someone a reminder now (none during quiet hours)."""
    if policy.quiet.contains(ctx.local_now()):
        return []
    now = ctx.now()
    horizon = now - timedelta(days=OVERDUE_DAYS + 1)
    query = (
        select(ReportTask.id)
        .where(
            ReportTask.deadline > horizon,
            or_(ReportTask.accepts_late, ReportTask.deadline > now),
            ReportTask.assignments.any(Assignment.status.in_(FILLER_OWES)),  # someone has not reported
        )
        .order_by(ReportTask.id)
    )
    return list(ctx.session.scalars(query))


def remind(ctx: Context, task_id: int, policy: Policy, reviewers: Reviewers) -> int:
    """Queue the reminders of one task now due; returns how many were queued."""
    task = ctx.session.get(ReportTask, task_id)
    if task is None:
        return 0
    now = ctx.now()
    missing = [a for a in task.assignments if a.status in FILLER_OWES]
    if not missing:
        return 0
    queued = 0
    moments = filler_moments(ctx, task, policy)
    reached = [(kind, at) for kind, at in moments if at <= now]
    if reached:
        queued += _remind_fillers(ctx, task, missing, reached[-1][0])
    escalate_at = next((at for kind, at in moments if kind.startswith("overdue")), None)  # with the first late one
    if escalate_at is not None and escalate_at <= now:
        queued += _escalate(ctx, task, missing, reviewers.by_unit(ctx))
    return queued


def _remind_fillers(ctx: Context, task: ReportTask, missing: list[Assignment], kind: str) -> int:
    """One reminder of `kind` to each filler still missing (once per task, person and kind)."""

    def key(assignment: Assignment) -> str:
        return f"remind:{task.id}:{assignment.filler_id}:{kind}"

    return len(queue_reminders(ctx, task, missing, key, late=kind.startswith("overdue")))


def _escalate(ctx: Context, task: ReportTask, missing: list[Assignment], reviewers: dict[int, int]) -> int:
    """Tell each missing unit's nearest reviewer (its own unit or one above) which units are late, once."""
    by_reviewer: dict[int, list[Assignment]] = defaultdict(list)
    for assignment in missing:
        reviewer = _nearest(assignment.org_unit, reviewers)
        if reviewer is not None:
            by_reviewer[reviewer].append(assignment)
    queued = 0
    for reviewer_id, late in by_reviewer.items():
        units = [t.late_unit(a.org_unit.name, a.filler.name) for a in late]
        text = t.escalation(task_name(task.title, task.id), format_deadline(ctx, task.deadline), units)
        key = f"escalate:{task.id}:{reviewer_id}"
        if enqueue(ctx.session, person_id=reviewer_id, dedupe_key=key, now=ctx.now(), text=text):
            queued += 1
    return queued


def _reviewers_by_unit(ctx: Context) -> dict[int, int]:
    """Org unit id -> the id of one active reviewer placed in it."""
    found: dict[int, int] = {}
    for person in people_with_role(ctx.session, Role.REVIEWER):
        if person.org_unit_id is not None:
            found.setdefault(person.org_unit_id, person.id)
    return found


def _nearest(unit: OrgUnit | None, reviewers: dict[int, int]) -> int | None:
    """The reviewer of the unit, or of the closest unit above it."""
    while unit is not None:
        if unit.id in reviewers:
            return reviewers[unit.id]
        unit = unit.parent
    return None


def remind_missing(ctx: Context, task: ReportTask, kind: str) -> list[Assignment]:
    """Queue a reminder to every filler who has not submitted; returns those newly reminded for `kind`."""
    return queue_reminders(ctx, task, progress(task).missing, lambda assignment: f"remind:{assignment.id}:{kind}")


def queue_reminders(
    ctx: Context, task: ReportTask, missing: list[Assignment], key: Callable[[Assignment], str], late: bool = False
) -> list[Assignment]:
    """One reminder to each missing filler (saying how far they got), once per key; returns those newly queued."""
    taken = taken_keys(ctx.session, [key(assignment) for assignment in missing])
    fresh = [assignment for assignment in missing if key(assignment) not in taken]  # a tick mostly finds none
    if not fresh:
        return []
    total = question_total(task.form_version)
    reached = reached_questions(ctx, fresh)
    deadline, left = format_deadline(ctx, task.deadline), time_left(ctx, task.deadline)
    sentence = reporting_texts.late_reminder if late else reporting_texts.reminder
    name = task_name(task.title, task.id)
    pushes = []
    for assignment in fresh:
        number = reached.get(assignment.id)
        text = sentence(name, deadline, left, None if number is None else min(number, total), total)
        pushes.append(Push(assignment.filler_id, key(assignment), text))
    new = {push.dedupe_key for push in enqueue_many(ctx.session, pushes, ctx.now())}
    return [assignment for assignment in fresh if key(assignment) in new]
